/**
 * Purging an ended process, inside its own object: wipe everything the object stores (control
 * block, event log, conversation, workspace, mailbox, …) so the process answers 404 from then
 * on. The empty tables are recreated from the schema as it stood, so every store in the object
 * keeps working (reading nothing) without knowing that a purge happened.
 */

import { isTerminal, type ProcessState } from "../kernel/process/state.js";
import type { ProcessStore } from "./process-store.js";

export type PurgeResult =
  | { ok: true }
  | { ok: false; code: "not_found" }
  | { ok: false; code: "illegal_transition"; state: ProcessState };

/** The object's SQLite schema (tables and indexes), minus SQLite's and the runtime's own. */
function schemaStatements(sql: SqlStorage): string[] {
  return sql
    .exec<{ sql: string | null }>(
      "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END",
    )
    .toArray()
    .map((r) => r.sql)
    .filter((s): s is string => typeof s === "string" && s.length > 0);
}

/**
 * Wipes the object's storage if it holds an ended process of `tenantId`; a live process is
 * refused (it must be terminated first), another tenant's or a missing one is `not_found`.
 *
 * @example await purgeObjectStorage(this.ctx.storage, this.store, tenantId)
 */
export async function purgeObjectStorage(
  storage: DurableObjectStorage,
  store: ProcessStore,
  tenantId: string,
): Promise<PurgeResult> {
  const record = store.load();
  if (!record || record.tenantId !== tenantId) return { ok: false, code: "not_found" };
  if (!isTerminal(record.status)) {
    return { ok: false, code: "illegal_transition", state: record.status };
  }
  const schema = schemaStatements(storage.sql);
  await storage.deleteAlarm();
  await storage.deleteAll();
  for (const statement of schema) {
    const idempotent = /\bIF NOT EXISTS\b/i.test(statement)
      ? statement
      : statement.replace(/^CREATE (UNIQUE )?(TABLE|INDEX) /i, "CREATE $1$2 IF NOT EXISTS ");
    try {
      storage.sql.exec(idempotent);
    } catch (error) {
      // A store that creates its tables lazily recreates this one itself on first use.
      console.error("purge: could not recreate", statement.slice(0, 80), error);
    }
  }
  return { ok: true };
}
