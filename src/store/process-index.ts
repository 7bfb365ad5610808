/**
 * The D1 process index: a listing-friendly copy of each process's record. The Durable Object
 * is the authority; the index may lag it but never goes backwards (writes carry the record
 * version and an older version never overwrites a newer one).
 */

import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { ProcessRecord } from "../kernel/process/record.js";
import type { Db } from "./db.js";
import { processIndex, processLabels } from "./schema.js";

/**
 * Writes `record` into the index in one D1 batch.
 *
 * @example await upsertProcessIndex(openDb(env.DB), record)
 */
export async function upsertProcessIndex(db: Db, record: ProcessRecord): Promise<void> {
  const row = {
    id: record.id,
    tenantId: record.tenantId,
    typeName: record.type.name,
    typeVersion: record.type.version,
    status: record.status,
    priority: record.priority,
    parentId: record.parentId,
    createdAtMs: Date.parse(record.createdAt),
    updatedAtMs: Date.parse(record.updatedAt),
    version: record.version,
  };
  const upsert = db
    .insert(processIndex)
    .values(row)
    .onConflictDoUpdate({
      target: processIndex.id,
      set: { status: row.status, updatedAtMs: row.updatedAtMs, version: row.version },
      setWhere: sql`excluded.version > ${processIndex.version}`,
    });
  const labelRows = Object.entries(record.labels).map(([key, value]) => ({
    processId: record.id,
    tenantId: record.tenantId,
    key,
    value,
  }));
  if (labelRows.length === 0) {
    await upsert;
    return;
  }
  // Labels are fixed at spawn, so re-inserting them is a no-op after the first write.
  await db.batch([upsert, db.insert(processLabels).values(labelRows).onConflictDoNothing()]);
}

export interface ProcessListQuery {
  tenantId: string;
  status?: string | undefined;
  typeName?: string | undefined;
  labels: Array<{ key: string; value: string }>;
  /** Return ids strictly older (smaller) than this one. */
  beforeId?: string | undefined;
  limit: number;
}

export type ProcessIndexRow = typeof processIndex.$inferSelect;

/**
 * One page of a tenant's processes, newest first. Fetches `limit + 1` rows so the caller
 * knows whether another page exists without a count query.
 */
export async function listProcessIndex(db: Db, q: ProcessListQuery): Promise<ProcessIndexRow[]> {
  const where = [eq(processIndex.tenantId, q.tenantId)];
  if (q.status) where.push(eq(processIndex.status, q.status));
  if (q.typeName) where.push(eq(processIndex.typeName, q.typeName));
  if (q.beforeId) where.push(lt(processIndex.id, q.beforeId));
  for (const { key, value } of q.labels) {
    const matching = db
      .select({ id: processLabels.processId })
      .from(processLabels)
      .where(
        and(
          eq(processLabels.tenantId, q.tenantId),
          eq(processLabels.key, key),
          eq(processLabels.value, value),
        ),
      );
    where.push(inArray(processIndex.id, matching));
  }
  return db
    .select()
    .from(processIndex)
    .where(and(...where))
    .orderBy(desc(processIndex.id))
    .limit(q.limit + 1);
}

/** Labels of the given processes, grouped by process id. */
export async function labelsOf(
  db: Db,
  processIds: string[],
): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  if (processIds.length === 0) return out;
  const rows = await db
    .select()
    .from(processLabels)
    .where(inArray(processLabels.processId, processIds));
  for (const row of rows) {
    const labels = out.get(row.processId) ?? {};
    labels[row.key] = row.value;
    out.set(row.processId, labels);
  }
  return out;
}

/** The index row of one process if it belongs to `tenantId`. */
export async function findIndexedProcess(
  db: Db,
  tenantId: string,
  id: string,
): Promise<ProcessIndexRow | undefined> {
  const rows = await db
    .select()
    .from(processIndex)
    .where(and(eq(processIndex.tenantId, tenantId), eq(processIndex.id, id)))
    .limit(1);
  return rows[0];
}
