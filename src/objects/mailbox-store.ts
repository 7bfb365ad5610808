/**
 * The SQLite storage of one process's mailbox, in its own Durable Object: the messages waiting
 * to be read (in order of arrival), the ids already delivered (so a redelivered message is
 * acknowledged without a second copy), and the requests this process waits on replies for.
 * Everything is synchronous: a delivery's writes happen with no await between them, so they
 * commit together.
 */

import type { PayloadRef } from "../bus/envelope.js";

/** How long a delivered id is remembered: far longer than any queue redelivery (minutes). */
export const DEDUPE_RETENTION_MS = 7 * 24 * 3_600_000;

/** One message in a mailbox. `seq` is its place in the order of arrival. */
export interface MailboxMessage {
  seq: number;
  messageId: string;
  from: string;
  topic: string | null;
  correlationId: string | null;
  payload: PayloadRef;
  sizeBytes: number;
  sentAtMs: number;
  deliveredAtMs: number;
}

/** A request this process made: pending until its reply arrives or it times out. */
export type RequestState = "pending" | "answered" | "timed_out";

type Row = {
  seq: number;
  message_id: string;
  from_id: string;
  topic: string | null;
  correlation_id: string | null;
  inline_json: string | null;
  blob_key: string | null;
  size_bytes: number;
  sent_at_ms: number;
  delivered_at_ms: number;
};

function toMessage(r: Row): MailboxMessage {
  return {
    seq: r.seq,
    messageId: r.message_id,
    from: r.from_id,
    topic: r.topic,
    correlationId: r.correlation_id,
    payload:
      r.blob_key !== null
        ? { kind: "r2", key: r.blob_key }
        : { kind: "inline", json: r.inline_json ?? "null" },
    sizeBytes: r.size_bytes,
    sentAtMs: r.sent_at_ms,
    deliveredAtMs: r.delivered_at_ms,
  };
}

const COLUMNS =
  "seq, message_id, from_id, topic, correlation_id, inline_json, blob_key, size_bytes, sent_at_ms, delivered_at_ms";

/** Typed access to one mailbox's tables. */
export class MailboxStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS bus_mailbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL UNIQUE,
        from_id TEXT NOT NULL,
        topic TEXT,
        correlation_id TEXT,
        for_request INTEGER NOT NULL DEFAULT 0,
        inline_json TEXT,
        blob_key TEXT,
        size_bytes INTEGER NOT NULL,
        sent_at_ms INTEGER NOT NULL,
        delivered_at_ms INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS bus_mailbox_reply_idx ON bus_mailbox (for_request, correlation_id);
      CREATE TABLE IF NOT EXISTS bus_delivered (message_id TEXT PRIMARY KEY, at_ms INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS bus_delivered_at_idx ON bus_delivered (at_ms);
      CREATE TABLE IF NOT EXISTS bus_requests (
        correlation_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL
      );
    `);
  }

  wasDelivered(messageId: string): boolean {
    return (
      this.sql.exec("SELECT 1 FROM bus_delivered WHERE message_id = ?", messageId).toArray()
        .length > 0
    );
  }

  /** Remembers a delivered id and forgets those older than the retention. */
  markDelivered(messageId: string, nowMs: number): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO bus_delivered (message_id, at_ms) VALUES (?, ?)",
      messageId,
      nowMs,
    );
    this.sql.exec("DELETE FROM bus_delivered WHERE at_ms < ?", nowMs - DEDUPE_RETENTION_MS);
  }

  /** Unread messages and their payload bytes (replies held for a request not counted). */
  usage(): { messages: number; bytes: number } {
    const row = this.sql
      .exec<{ n: number; bytes: number }>(
        "SELECT count(*) AS n, coalesce(sum(size_bytes), 0) AS bytes FROM bus_mailbox WHERE for_request = 0",
      )
      .one();
    return { messages: row.n, bytes: row.bytes };
  }

  insert(message: Omit<MailboxMessage, "seq">, forRequest: boolean): void {
    this.sql.exec(
      `INSERT INTO bus_mailbox (message_id, from_id, topic, correlation_id, for_request, inline_json, blob_key, size_bytes, sent_at_ms, delivered_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      message.messageId,
      message.from,
      message.topic,
      message.correlationId,
      forRequest ? 1 : 0,
      message.payload.kind === "inline" ? message.payload.json : null,
      message.payload.kind === "r2" ? message.payload.key : null,
      message.sizeBytes,
      message.sentAtMs,
      message.deliveredAtMs,
    );
  }

  /** Unread messages after `afterSeq`, oldest first, and whether more follow. */
  list(afterSeq: number, limit: number): { messages: MailboxMessage[]; more: boolean } {
    const rows = this.sql
      .exec<Row>(
        `SELECT ${COLUMNS} FROM bus_mailbox WHERE for_request = 0 AND seq > ? ORDER BY seq LIMIT ?`,
        afterSeq,
        limit + 1,
      )
      .toArray();
    return { messages: rows.slice(0, limit).map(toMessage), more: rows.length > limit };
  }

  /** The oldest unread message, or null. */
  oldest(): MailboxMessage | null {
    const row = this.sql
      .exec<Row>(`SELECT ${COLUMNS} FROM bus_mailbox WHERE for_request = 0 ORDER BY seq LIMIT 1`)
      .toArray()[0];
    return row ? toMessage(row) : null;
  }

  /** The reply held for request `correlationId`, or null. */
  reply(correlationId: string): MailboxMessage | null {
    const row = this.sql
      .exec<Row>(
        `SELECT ${COLUMNS} FROM bus_mailbox WHERE for_request = 1 AND correlation_id = ? ORDER BY seq LIMIT 1`,
        correlationId,
      )
      .toArray()[0];
    return row ? toMessage(row) : null;
  }

  /** Removes a message (read or acknowledged); returns it, or null when it was not there. */
  remove(messageId: string): MailboxMessage | null {
    const row = this.sql
      .exec<Row>(`DELETE FROM bus_mailbox WHERE message_id = ? RETURNING ${COLUMNS}`, messageId)
      .toArray()[0];
    return row ? toMessage(row) : null;
  }

  requestState(correlationId: string): RequestState | null {
    const row = this.sql
      .exec<{ state: RequestState }>(
        "SELECT state FROM bus_requests WHERE correlation_id = ?",
        correlationId,
      )
      .toArray()[0];
    return row?.state ?? null;
  }

  /** Opens a request (idempotent: a step repeated after a crash reopens the same one). */
  openRequest(correlationId: string, nowMs: number): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO bus_requests (correlation_id, state, created_at_ms) VALUES (?, 'pending', ?)",
      correlationId,
      nowMs,
    );
  }

  /** Closes a pending request; a reply arriving after this is dropped. */
  closeRequest(correlationId: string, state: Exclude<RequestState, "pending">): void {
    this.sql.exec(
      "UPDATE bus_requests SET state = ? WHERE correlation_id = ? AND state = 'pending'",
      state,
      correlationId,
    );
  }
}
