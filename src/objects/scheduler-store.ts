/**
 * The Scheduler object's own SQLite: the processes live in or waiting for the pool, the lease
 * requests the policy holds, the leases granted, and a kv table with the pool's name and the
 * JSON of its in-memory state (scheduler-state.ts). Synchronous, as Durable Object SQL is; the
 * object decides when to call. Table names, columns and kv keys are what objects already store.
 */

import type { Permit } from "../kernel/capacity/limiter.js";
import type { SchedTask } from "../kernel/scheduler/types.js";
import type { Lease } from "./scheduler-types.js";

export type LeaseRow = {
  lease_id: string;
  process_id: string;
  task_json: string;
  permit_json: string;
  lease_json: string;
  expires_at_ms: number;
};

/**
 * The kv keys: the pool this object serves, its config, and what `savePoolState` writes
 * (policy, limiter, totals, recent grants, the held pick).
 */
export type KvKey = "pool" | "config" | "policy" | "limiter" | "totals" | "recent" | "held";

const SCHEMA = `
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS live (
        process_id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        admitted INTEGER NOT NULL,
        since_ms INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS live_waiting ON live (admitted, since_ms);
      CREATE TABLE IF NOT EXISTS tasks (task_id TEXT PRIMARY KEY, process_id TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS tasks_process ON tasks (process_id);
      CREATE TABLE IF NOT EXISTS leases (
        lease_id TEXT PRIMARY KEY,
        process_id TEXT NOT NULL,
        task_json TEXT NOT NULL,
        permit_json TEXT NOT NULL,
        lease_json TEXT NOT NULL,
        expires_at_ms INTEGER NOT NULL
      );
    `;

/** Typed access to one Scheduler object's tables. */
export class SchedulerStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  // -------------------------------------------------------------------------------------------
  // kv

  getKv(key: KvKey): string | null {
    return (
      this.sql.exec<{ value: string }>("SELECT value FROM kv WHERE key = ?", key).toArray()[0]
        ?.value ?? null
    );
  }

  putKv(key: KvKey, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO kv VALUES (?, ?)", key, value);
  }

  /** The pool this object serves, once a first call named it. */
  storedPool(): string | null {
    return this.getKv("pool");
  }

  // -------------------------------------------------------------------------------------------
  // Processes live in the pool (admitted = 1) or waiting for a slot (admitted = 0)

  /** Whether the process is admitted (1), waiting (0), or unknown to the pool (undefined). */
  liveAdmitted(processId: string): number | undefined {
    return this.sql
      .exec<{ admitted: number }>("SELECT admitted FROM live WHERE process_id = ?", processId)
      .toArray()[0]?.admitted;
  }

  liveCount(): number {
    return this.count("SELECT COUNT(*) AS n FROM live WHERE admitted = 1");
  }

  tenantLiveCount(tenantId: string): number {
    return this.count(
      "SELECT COUNT(*) AS n FROM live WHERE admitted = 1 AND tenant_id = ?",
      tenantId,
    );
  }

  waitingCount(): number {
    return this.count("SELECT COUNT(*) AS n FROM live WHERE admitted = 0");
  }

  tenantWaitingCount(tenantId: string): number {
    return this.count(
      "SELECT COUNT(*) AS n FROM live WHERE admitted = 0 AND tenant_id = ?",
      tenantId,
    );
  }

  /** The first 1000 waiting processes, oldest first. */
  waitingOldestFirst(): Array<{ process_id: string; tenant_id: string }> {
    return this.sql
      .exec<{ process_id: string; tenant_id: string }>(
        "SELECT process_id, tenant_id FROM live WHERE admitted = 0 ORDER BY since_ms LIMIT 1000",
      )
      .toArray();
  }

  insertLive(processId: string, tenantId: string, admitted: boolean, nowMs: number): void {
    this.sql.exec(
      admitted ? "INSERT INTO live VALUES (?, ?, 1, ?)" : "INSERT INTO live VALUES (?, ?, 0, ?)",
      processId,
      tenantId,
      nowMs,
    );
  }

  markAdmitted(processId: string): void {
    this.sql.exec("UPDATE live SET admitted = 1 WHERE process_id = ?", processId);
  }

  deleteLive(processId: string): void {
    this.sql.exec("DELETE FROM live WHERE process_id = ?", processId);
  }

  // -------------------------------------------------------------------------------------------
  // Lease requests queued in the policy, by task

  hasTask(taskId: string): boolean {
    return (
      this.sql
        .exec<{ task_id: string }>("SELECT task_id FROM tasks WHERE task_id = ?", taskId)
        .toArray()[0] !== undefined
    );
  }

  taskIdsOf(processId: string): string[] {
    return this.sql
      .exec<{ task_id: string }>("SELECT task_id FROM tasks WHERE process_id = ?", processId)
      .toArray()
      .map((row) => row.task_id);
  }

  putTask(taskId: string, processId: string): void {
    this.sql.exec("INSERT OR REPLACE INTO tasks VALUES (?, ?)", taskId, processId);
  }

  deleteTask(taskId: string): void {
    this.sql.exec("DELETE FROM tasks WHERE task_id = ?", taskId);
  }

  deleteTasksOf(processId: string): void {
    this.sql.exec("DELETE FROM tasks WHERE process_id = ?", processId);
  }

  // -------------------------------------------------------------------------------------------
  // Leases granted

  leasesOf(processId: string): LeaseRow[] {
    return this.leaseRows("WHERE process_id = ?", processId);
  }

  lease(leaseId: string): LeaseRow | undefined {
    return this.leaseRows("WHERE lease_id = ?", leaseId)[0];
  }

  expiredLeases(nowMs: number): LeaseRow[] {
    return this.leaseRows("WHERE expires_at_ms <= ?", nowMs);
  }

  insertLease(lease: Lease, task: SchedTask, permit: Permit): void {
    this.sql.exec(
      "INSERT INTO leases VALUES (?, ?, ?, ?, ?, ?)",
      lease.leaseId,
      task.processId,
      JSON.stringify(task),
      JSON.stringify(permit),
      JSON.stringify(lease),
      lease.expiresAtMs,
    );
  }

  deleteLease(leaseId: string): void {
    this.sql.exec("DELETE FROM leases WHERE lease_id = ?", leaseId);
  }

  /** When the first lease out expires; null when none is. */
  nextLeaseExpiryMs(): number | null {
    return (
      this.sql.exec<{ t: number | null }>("SELECT MIN(expires_at_ms) AS t FROM leases").toArray()[0]
        ?.t ?? null
    );
  }

  // -------------------------------------------------------------------------------------------

  private count(query: string, ...bindings: unknown[]): number {
    return Number(this.sql.exec<{ n: number }>(query, ...bindings).toArray()[0]?.n ?? 0);
  }

  private leaseRows(where: string, ...bindings: unknown[]): LeaseRow[] {
    return this.sql.exec<LeaseRow>(`SELECT * FROM leases ${where}`, ...bindings).toArray();
  }
}
