/**
 * AgentProcess: one Durable Object per agent process, the authority for its state. It holds
 * the process control block and the process's own append-only event log in SQLite storage,
 * steps the kernel state machine, and mirrors each new version into the D1 index.
 *
 * Callers address it with `env.AGENT_PROCESS.idFromName(processId)` and talk RPC. Every method
 * takes the caller's tenant: a process of another tenant answers exactly like a missing one.
 */

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { KernelError } from "../kernel/errors.js";
import {
  applyEvent,
  createRecord,
  type PendingEvent,
  type SpawnInit,
} from "../kernel/process/lifecycle.js";
import type { ProcessEventRecord, ProcessRecord } from "../kernel/process/record.js";
import { isNoopTerminate, type ProcessState } from "../kernel/process/state.js";
import { openDb } from "../store/db.js";
import { upsertProcessIndex } from "../store/process-index.js";

/** Signals a caller may send through the API. */
export type ProcessSignal = "pause" | "resume" | "terminate";

export type SignalResult =
  | { ok: true; record: ProcessRecord; changed: boolean }
  | { ok: false; code: "not_found" }
  | { ok: false; code: "illegal_transition"; state: ProcessState; detail: string };

export type SpawnResult =
  | { ok: true; record: ProcessRecord; created: boolean }
  | { ok: false; code: "conflict" };

export interface EventPage {
  events: ProcessEventRecord[];
  /** Sequence number to pass as `afterSeq` for the next page, or null at the end. */
  nextAfterSeq: number | null;
}

/**
 * The RPC surface of an AgentProcess. Callers use `processStub()` rather than the raw stub so
 * the types stay plain (workerd's RPC type mapping recurses forever on JSON-valued fields).
 */
export interface AgentProcessRpc {
  spawn(init: SpawnInit): Promise<SpawnResult>;
  get(tenantId: string): Promise<ProcessRecord | null>;
  signal(
    tenantId: string,
    signal: ProcessSignal,
    reason: string | null,
    actor: string,
  ): Promise<SignalResult>;
  events(tenantId: string, afterSeq: number, limit: number): Promise<EventPage | null>;
}

/**
 * The stub of process `processId`'s object (one object per process, addressed by its id).
 *
 * @example await processStub(env, "proc_…").get(tenantId)
 */
export function processStub(env: Pick<Env, "AGENT_PROCESS">, processId: string): AgentProcessRpc {
  return env.AGENT_PROCESS.get(
    env.AGENT_PROCESS.idFromName(processId),
  ) as unknown as AgentProcessRpc;
}

/** Delay before retrying a D1 index write that failed; the alarm retries until it lands. */
const INDEX_RETRY_DELAY_MS = 1_000;

export class AgentProcess extends DurableObject<Env> implements AgentProcessRpc {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
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
    `);
  }

  /**
   * Creates the process, or returns it unchanged when it already exists (a replayed spawn
   * reaches the same object by id and must not create a second process).
   */
  async spawn(init: SpawnInit): Promise<SpawnResult> {
    const existing = this.load();
    if (existing) {
      // Ids are random, so only a bug or a forged id lands here; never reveal the other record.
      if (existing.tenantId !== init.tenantId) return { ok: false, code: "conflict" };
      return { ok: true, record: existing, created: false };
    }
    const stepped = createRecord(init, Date.now());
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT INTO pcb (id, record_json) VALUES (?, ?)",
        init.id,
        JSON.stringify(stepped.record),
      );
      this.appendEvents(stepped.events);
    });
    await this.syncIndex(stepped.record);
    return { ok: true, record: stepped.record, created: true };
  }

  /** The record, or null when there is none for this tenant. */
  async get(tenantId: string): Promise<ProcessRecord | null> {
    const record = this.load();
    return record && record.tenantId === tenantId ? record : null;
  }

  /** Applies a caller's signal at once; terminate of an ended process is a no-op, not an error. */
  async signal(
    tenantId: string,
    signal: ProcessSignal,
    reason: string | null,
    actor: string,
  ): Promise<SignalResult> {
    const record = this.load();
    if (!record || record.tenantId !== tenantId) return { ok: false, code: "not_found" };
    const status = { state: record.status, pausedFrom: record.pausedFrom };
    if (isNoopTerminate(status, signal)) return { ok: true, record, changed: false };
    let stepped: ReturnType<typeof applyEvent>;
    try {
      stepped = applyEvent(record, signal, { nowMs: Date.now(), actor, reason });
    } catch (error) {
      if (error instanceof KernelError && error.code === "illegal_transition") {
        return {
          ok: false,
          code: "illegal_transition",
          state: record.status,
          detail: error.message,
        };
      }
      throw error;
    }
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE pcb SET record_json = ?", JSON.stringify(stepped.record));
      this.appendEvents(stepped.events);
    });
    await this.syncIndex(stepped.record);
    return { ok: true, record: stepped.record, changed: true };
  }

  /** A page of the event log in order, after `afterSeq`; null when the process is not visible. */
  async events(tenantId: string, afterSeq: number, limit: number): Promise<EventPage | null> {
    const record = this.load();
    if (!record || record.tenantId !== tenantId) return null;
    const rows = this.sql
      .exec<{
        seq: number;
        at_ms: number;
        event: string;
        from_state: string | null;
        to_state: string;
        actor: string;
        reason: string | null;
      }>(
        "SELECT seq, at_ms, event, from_state, to_state, actor, reason FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        afterSeq,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit).map(
      (row): ProcessEventRecord => ({
        seq: row.seq,
        at: new Date(row.at_ms).toISOString(),
        event: row.event,
        from: row.from_state as ProcessState | null,
        to: row.to_state as ProcessState,
        actor: row.actor,
        reason: row.reason,
      }),
    );
    const last = page[page.length - 1];
    return { events: page, nextAfterSeq: rows.length > limit && last ? last.seq : null };
  }

  /** Retries a D1 index write that failed earlier. Alarms run at least once: this is idempotent. */
  override async alarm(): Promise<void> {
    const record = this.load();
    if (record) await this.syncIndex(record);
  }

  private load(): ProcessRecord | null {
    const row = this.sql.exec<{ record_json: string }>("SELECT record_json FROM pcb").toArray()[0];
    return row ? (JSON.parse(row.record_json) as ProcessRecord) : null;
  }

  private appendEvents(events: PendingEvent[]): void {
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

  /**
   * Mirrors the record into D1. The object's own storage already holds the truth, so a failed
   * index write does not fail the call: the alarm retries it until the index catches up.
   */
  private async syncIndex(record: ProcessRecord): Promise<void> {
    try {
      await upsertProcessIndex(openDb(this.env.DB), record);
      this.sql.exec("UPDATE pcb SET index_version = ?", record.version);
    } catch (error) {
      console.error("process index write failed; retrying by alarm", record.id, error);
      await this.ctx.storage.setAlarm(Date.now() + INDEX_RETRY_DELAY_MS);
    }
  }
}
