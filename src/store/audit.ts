/**
 * The audit log in D1: one row per state-changing call (and per refused one), written before
 * the response leaves so an acknowledged change is always on record.
 */

import { and, desc, eq, gte, lt, lte } from "drizzle-orm";
import { newId } from "../kernel/ids.js";
import type { Db } from "./db.js";
import { auditLog } from "./schema.js";

export type AuditRow = typeof auditLog.$inferSelect;
export type AuditDecision = AuditRow["decision"];

export interface AuditEntry {
  tenantId: string | null;
  actor: string;
  actorRole: string;
  action: string;
  target: string | null;
  decision: AuditDecision;
  status: number;
  requestId: string;
  detail?: Record<string, unknown> | undefined;
}

/** Appends one audit row. */
export async function writeAudit(db: Db, entry: AuditEntry, nowMs: number): Promise<void> {
  await db.insert(auditLog).values({
    id: newId("audit", nowMs),
    atMs: nowMs,
    tenantId: entry.tenantId,
    actor: entry.actor,
    actorRole: entry.actorRole,
    action: entry.action,
    target: entry.target,
    decision: entry.decision,
    status: entry.status,
    requestId: entry.requestId,
    detailJson: entry.detail ? JSON.stringify(entry.detail) : null,
  });
}

export interface AuditQuery {
  /** Undefined only for the system administrator looking across tenants. */
  tenantId?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  fromMs?: number | undefined;
  toMs?: number | undefined;
  beforeId?: string | undefined;
  limit: number;
}

/** One page of audit rows, newest first (`limit + 1` rows). */
export async function queryAudit(db: Db, q: AuditQuery): Promise<AuditRow[]> {
  const where = [];
  if (q.tenantId) where.push(eq(auditLog.tenantId, q.tenantId));
  if (q.actor) where.push(eq(auditLog.actor, q.actor));
  if (q.action) where.push(eq(auditLog.action, q.action));
  if (q.fromMs !== undefined) where.push(gte(auditLog.atMs, q.fromMs));
  if (q.toMs !== undefined) where.push(lte(auditLog.atMs, q.toMs));
  if (q.beforeId) where.push(lt(auditLog.id, q.beforeId));
  return db
    .select()
    .from(auditLog)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(q.limit + 1);
}
