/**
 * The SQLite storage of one AgentProcess object: its control block, its append-only event log,
 * its conversation, and a few internal values. Everything here is synchronous, so a caller can
 * group writes in `storage.transactionSync` and never observe half of a step.
 */

import type { PendingEvent } from "../kernel/process/lifecycle.js";
import type { ProcessEventRecord, ProcessRecord } from "../kernel/process/record.js";
import type { ProcessState } from "../kernel/process/state.js";
import type { ChatMessage } from "../llm/types.js";

type EventRow = {
  seq: number;
  at_ms: number;
  event: string;
  from_state: string | null;
  to_state: string;
  actor: string;
  reason: string | null;
};

/** Typed access to one process object's tables. */
export class ProcessStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS pcb (
        id TEXT PRIMARY KEY,
        record_json TEXT NOT NULL,
        index_version INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms INTEGER NOT NULL,
        event TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT
      );
      CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        step INTEGER NOT NULL,
        message_json TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
  }

  load(): ProcessRecord | null {
    const row = this.sql.exec<{ record_json: string }>("SELECT record_json FROM pcb").toArray()[0];
    return row ? (JSON.parse(row.record_json) as ProcessRecord) : null;
  }

  insert(record: ProcessRecord): void {
    this.sql.exec(
      "INSERT INTO pcb (id, record_json) VALUES (?, ?)",
      record.id,
      JSON.stringify(record),
    );
  }

  save(record: ProcessRecord): void {
    this.sql.exec("UPDATE pcb SET record_json = ?", JSON.stringify(record));
  }

  indexedVersion(): number {
    return this.sql.exec<{ v: number }>("SELECT index_version AS v FROM pcb").toArray()[0]?.v ?? 0;
  }

  markIndexed(version: number): void {
    this.sql.exec("UPDATE pcb SET index_version = MAX(index_version, ?)", version);
  }

  appendEvents(events: PendingEvent[]): void {
    for (const e of events) {
      this.sql.exec(
        "INSERT INTO events (at_ms, event, from_state, to_state, actor, reason) VALUES (?, ?, ?, ?, ?, ?)",
        e.atMs,
        e.event,
        e.from,
        e.to,
        e.actor,
        e.reason,
      );
    }
  }

  /** Up to `limit` events after `afterSeq`, plus whether more follow. */
  events(afterSeq: number, limit: number): { events: ProcessEventRecord[]; more: boolean } {
    const rows = this.sql
      .exec<EventRow>(
        "SELECT seq, at_ms, event, from_state, to_state, actor, reason FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit + 1,
      )
      .toArray();
    return {
      more: rows.length > limit,
      events: rows.slice(0, limit).map((row) => ({
        seq: row.seq,
        at: new Date(row.at_ms).toISOString(),
        event: row.event,
        from: row.from_state as ProcessState | null,
        to: row.to_state as ProcessState,
        actor: row.actor,
        reason: row.reason,
      })),
    };
  }

  appendMessages(step: number, messages: ChatMessage[]): void {
    for (const m of messages) {
      this.sql.exec(
        "INSERT INTO messages (step, message_json) VALUES (?, ?)",
        step,
        JSON.stringify(m),
      );
    }
  }

  /** The whole conversation, oldest first. */
  messages(): ChatMessage[] {
    return this.sql
      .exec<{ message_json: string }>("SELECT message_json FROM messages ORDER BY seq")
      .toArray()
      .map((r) => JSON.parse(r.message_json) as ChatMessage);
  }

  getKv<T>(key: string): T | null {
    const row = this.sql
      .exec<{ value: string }>("SELECT value FROM kv WHERE key = ?", key)
      .toArray()[0];
    return row ? (JSON.parse(row.value) as T) : null;
  }

  putKv(key: string, value: unknown): void {
    this.sql.exec("INSERT OR REPLACE INTO kv VALUES (?, ?)", key, JSON.stringify(value));
  }

  deleteKv(key: string): void {
    this.sql.exec("DELETE FROM kv WHERE key = ?", key);
  }
}
