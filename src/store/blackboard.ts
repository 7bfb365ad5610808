/**
 * The tenant-wide blackboard: keys with JSON values, versioned, with compare-and-set.
 *
 * Every write is one D1 batch (a transaction): a conditional INSERT/UPDATE of the key's row
 * that matches only when the caller's expectation holds, a copy of the new version into the
 * history (made only when the conditional write matched: it copies the row carrying this
 * write's random id), and the pruning of history beyond `BLACKBOARD_HISTORY_VERSIONS`. D1 runs
 * one writer at a time, so of two writers racing with the same `ifVersion` exactly one matches.
 */

import { BOARD_LIMITS } from "../kernel/agent/tools/board.js";
import { newUuidV7Hex } from "../kernel/ids.js";
import type { Db } from "./db.js";

/** Versions of one key kept in its history (see BOARD_LIMITS). */
export const BLACKBOARD_HISTORY_VERSIONS = BOARD_LIMITS.blackboardHistoryVersions;

/** The current state of one live key. */
export interface BlackboardEntry {
  key: string;
  version: number;
  value: unknown;
  sizeBytes: number;
  updatedBy: string;
  updatedAtMs: number;
}

/** One version in a key's history. */
export interface BlackboardVersion {
  key: string;
  version: number;
  op: "put" | "delete";
  /** Null for a delete. */
  value: unknown;
  writtenBy: string;
  writtenAtMs: number;
}

/** The key's state a refused compare-and-set reports: null when the key does not exist. */
export type CurrentState = { version: number; value: unknown } | null;

export type WriteOutcome =
  | { ok: true; entry: BlackboardEntry; created: boolean }
  | { ok: false; code: "version_conflict"; current: CurrentState };

export type DeleteOutcome =
  | { ok: true; version: number }
  | { ok: false; code: "not_found" }
  | { ok: false; code: "version_conflict"; current: CurrentState };

/**
 * The raw D1 binding under the drizzle handle: the compare-and-set needs `RETURNING` rows out
 * of a batch, which drizzle's typed builders do not give back for conditional upserts.
 */
function d1Of(db: Db): D1Database {
  const client = (db as Db & { $client?: D1Database }).$client;
  if (!client) throw new Error("blackboard: the Db handle carries no D1 client");
  return client;
}

/** The written row, straight from the conditional write: no second read can race it. */
const RETURNING = "RETURNING key, version, value_json, size_bytes, updated_by, updated_at_ms";

type EntryRow = {
  key: string;
  version: number;
  value_json: string | null;
  size_bytes: number;
  updated_by: string;
  updated_at_ms: number;
};

function entryOf(row: EntryRow): BlackboardEntry {
  return {
    key: row.key,
    version: row.version,
    value: JSON.parse(row.value_json ?? "null") as unknown,
    sizeBytes: row.size_bytes,
    updatedBy: row.updated_by,
    updatedAtMs: row.updated_at_ms,
  };
}

/** Byte length of `value` as the JSON text stored. */
export function valueSizeBytes(valueJson: string): number {
  return new TextEncoder().encode(valueJson).length;
}

/**
 * The live entry for `key`, or null when it does not exist (never written, or deleted).
 *
 * @example await getBlackboardEntry(db, tenantId, "plan")
 */
export async function getBlackboardEntry(
  db: Db,
  tenantId: string,
  key: string,
): Promise<BlackboardEntry | null> {
  const row = await d1Of(db)
    .prepare(
      "SELECT key, version, value_json, size_bytes, updated_by, updated_at_ms FROM blackboard_entries WHERE tenant_id = ? AND key = ? AND value_json IS NOT NULL",
    )
    .bind(tenantId, key)
    .first<EntryRow>();
  return row ? entryOf(row) : null;
}

async function currentState(db: Db, tenantId: string, key: string): Promise<CurrentState> {
  const entry = await getBlackboardEntry(db, tenantId, key);
  return entry ? { version: entry.version, value: entry.value } : null;
}

/**
 * Writes `valueJson` (already validated and size-checked JSON text) to `key`. With `ifVersion`
 * the write lands only when the key's live version is exactly that (0: the key must not exist);
 * otherwise it is refused with the current state.
 *
 * @example await putBlackboardEntry(db, { tenantId, key: "plan", valueJson: '{"step":1}', ifVersion: 0, actor: "proc_…" })
 */
export async function putBlackboardEntry(
  db: Db,
  w: {
    tenantId: string;
    key: string;
    valueJson: string;
    ifVersion?: number | undefined;
    actor: string;
    nowMs?: number;
  },
): Promise<WriteOutcome> {
  const nowMs = w.nowMs ?? Date.now();
  const writeId = newUuidV7Hex(nowMs);
  const size = valueSizeBytes(w.valueJson);
  const d1 = d1Of(db);
  const cols =
    "(tenant_id, key, version, value_json, size_bytes, updated_by, updated_at_ms, write_id)";
  const set =
    "version = blackboard_entries.version + 1, value_json = excluded.value_json, size_bytes = excluded.size_bytes, updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms, write_id = excluded.write_id";
  let write: D1PreparedStatement;
  if (w.ifVersion === undefined) {
    write = d1
      .prepare(
        `INSERT INTO blackboard_entries ${cols} VALUES (?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, key) DO UPDATE SET ${set} ${RETURNING}`,
      )
      .bind(w.tenantId, w.key, w.valueJson, size, w.actor, nowMs, writeId);
  } else if (w.ifVersion === 0) {
    // Must not exist: a fresh key, or one whose tombstone continues its version sequence.
    write = d1
      .prepare(
        `INSERT INTO blackboard_entries ${cols} VALUES (?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, key) DO UPDATE SET ${set} WHERE blackboard_entries.value_json IS NULL ${RETURNING}`,
      )
      .bind(w.tenantId, w.key, w.valueJson, size, w.actor, nowMs, writeId);
  } else {
    write = d1
      .prepare(
        `UPDATE blackboard_entries SET version = version + 1, value_json = ?, size_bytes = ?, updated_by = ?, updated_at_ms = ?, write_id = ? WHERE tenant_id = ? AND key = ? AND version = ? AND value_json IS NOT NULL ${RETURNING}`,
      )
      .bind(w.valueJson, size, w.actor, nowMs, writeId, w.tenantId, w.key, w.ifVersion);
  }
  const [written] = await d1.batch<EntryRow>([
    write,
    recordHistory(d1, w.tenantId, w.key, writeId, "put"),
    pruneHistory(d1, w.tenantId, w.key),
  ]);
  const row = written?.results[0];
  if (!row) {
    return {
      ok: false,
      code: "version_conflict",
      current: await currentState(db, w.tenantId, w.key),
    };
  }
  return { ok: true, entry: entryOf(row), created: row.version === 1 || w.ifVersion === 0 };
}

/**
 * Deletes `key`, leaving a tombstone so its version sequence continues. With `ifVersion` the
 * delete lands only on that live version.
 *
 * @example await deleteBlackboardEntry(db, { tenantId, key: "plan", ifVersion: 3, actor: "key_…" })
 */
export async function deleteBlackboardEntry(
  db: Db,
  d: {
    tenantId: string;
    key: string;
    ifVersion?: number | undefined;
    actor: string;
    nowMs?: number;
  },
): Promise<DeleteOutcome> {
  const nowMs = d.nowMs ?? Date.now();
  const writeId = newUuidV7Hex(nowMs);
  const d1 = d1Of(db);
  const versionClause = d.ifVersion === undefined ? "" : " AND version = ?";
  const binds: unknown[] = [d.actor, nowMs, writeId, d.tenantId, d.key];
  if (d.ifVersion !== undefined) binds.push(d.ifVersion);
  const [written] = await d1.batch<{ version: number }>([
    d1
      .prepare(
        `UPDATE blackboard_entries SET version = version + 1, value_json = NULL, size_bytes = 0, updated_by = ?, updated_at_ms = ?, write_id = ? WHERE tenant_id = ? AND key = ? AND value_json IS NOT NULL${versionClause} RETURNING version`,
      )
      .bind(...binds),
    recordHistory(d1, d.tenantId, d.key, writeId, "delete"),
    pruneHistory(d1, d.tenantId, d.key),
  ]);
  const deleted = written?.results[0];
  if (deleted) return { ok: true, version: deleted.version };
  const current = await currentState(db, d.tenantId, d.key);
  if (current === null) return { ok: false, code: "not_found" };
  return { ok: false, code: "version_conflict", current };
}

/** Copies the version our write made (found by its write id) into the history. */
function recordHistory(
  d1: D1Database,
  tenantId: string,
  key: string,
  writeId: string,
  op: "put" | "delete",
): D1PreparedStatement {
  return d1
    .prepare(
      "INSERT INTO blackboard_versions (tenant_id, key, version, value_json, op, written_by, written_at_ms) SELECT tenant_id, key, version, value_json, ?, updated_by, updated_at_ms FROM blackboard_entries WHERE tenant_id = ? AND key = ? AND write_id = ?",
    )
    .bind(op, tenantId, key, writeId);
}

/** Keeps the newest `BLACKBOARD_HISTORY_VERSIONS` versions of the key. */
function pruneHistory(d1: D1Database, tenantId: string, key: string): D1PreparedStatement {
  return d1
    .prepare(
      "DELETE FROM blackboard_versions WHERE tenant_id = ? AND key = ? AND version <= (SELECT version FROM blackboard_entries WHERE tenant_id = ? AND key = ?) - ?",
    )
    .bind(tenantId, key, tenantId, key, BLACKBOARD_HISTORY_VERSIONS);
}

/**
 * Live keys starting with `prefix`, in key order, after `afterKey`; `limit + 1` rows so the
 * caller knows whether another page follows.
 *
 * @example await listBlackboardEntries(db, { tenantId, prefix: "plan:", limit: 20 })
 */
export async function listBlackboardEntries(
  db: Db,
  q: { tenantId: string; prefix: string; afterKey?: string | undefined; limit: number },
): Promise<Array<Omit<BlackboardEntry, "value">>> {
  const lower = q.afterKey !== undefined && q.afterKey >= q.prefix ? q.afterKey : null;
  const rows = await d1Of(db)
    .prepare(
      `SELECT key, version, size_bytes, updated_by, updated_at_ms FROM blackboard_entries
       WHERE tenant_id = ? AND value_json IS NOT NULL AND substr(key, 1, ?) = ? AND key >= ?
       ${lower === null ? "" : "AND key > ?"} ORDER BY key LIMIT ?`,
    )
    .bind(
      q.tenantId,
      q.prefix.length,
      q.prefix,
      q.prefix,
      ...(lower === null ? [] : [lower]),
      q.limit + 1,
    )
    .all<Omit<EntryRow, "value_json">>();
  return rows.results.map((r) => ({
    key: r.key,
    version: r.version,
    sizeBytes: r.size_bytes,
    updatedBy: r.updated_by,
    updatedAtMs: r.updated_at_ms,
  }));
}

/**
 * A key's kept history, newest first, versions below `beforeVersion`; `limit + 1` rows. Null
 * when the key was never written (a deleted key still has its history).
 *
 * @example await listBlackboardVersions(db, { tenantId, key: "plan", limit: 20 })
 */
export async function listBlackboardVersions(
  db: Db,
  q: { tenantId: string; key: string; beforeVersion?: number | undefined; limit: number },
): Promise<BlackboardVersion[] | null> {
  const d1 = d1Of(db);
  const exists = await d1
    .prepare("SELECT 1 AS one FROM blackboard_entries WHERE tenant_id = ? AND key = ?")
    .bind(q.tenantId, q.key)
    .first();
  if (!exists) return null;
  const rows = await d1
    .prepare(
      `SELECT version, value_json, op, written_by, written_at_ms FROM blackboard_versions
       WHERE tenant_id = ? AND key = ? AND version < ? ORDER BY version DESC LIMIT ?`,
    )
    .bind(q.tenantId, q.key, q.beforeVersion ?? Number.MAX_SAFE_INTEGER, q.limit + 1)
    .all<{
      version: number;
      value_json: string | null;
      op: "put" | "delete";
      written_by: string;
      written_at_ms: number;
    }>();
  return rows.results.map((r) => ({
    key: q.key,
    version: r.version,
    op: r.op,
    value: r.value_json === null ? null : (JSON.parse(r.value_json) as unknown),
    writtenBy: r.written_by,
    writtenAtMs: r.written_at_ms,
  }));
}
