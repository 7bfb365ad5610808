/**
 * The human gate's queue in D1. Decisions are single conditional updates (`WHERE status =
 * 'pending' AND expires_at_ms > now`), so two people approving and denying at once, or an
 * approval racing its expiry, leave exactly one outcome.
 */

import { and, desc, eq, gt, lt, lte } from "drizzle-orm";
import type { Db } from "./db.js";
import { approvals } from "./schema.js";

export type ApprovalRow = typeof approvals.$inferSelect;
export type ApprovalStatus = ApprovalRow["status"];

/** Records a pending approval; a second insert of the same id (a repeated step) is a no-op. */
export async function createApproval(db: Db, row: ApprovalRow): Promise<ApprovalRow> {
  await db.insert(approvals).values(row).onConflictDoNothing();
  const stored = await getApproval(db, row.tenantId, row.id);
  return stored ?? row;
}

/** One approval of a tenant. */
export async function getApproval(
  db: Db,
  tenantId: string,
  id: string,
): Promise<ApprovalRow | undefined> {
  const rows = await db
    .select()
    .from(approvals)
    .where(and(eq(approvals.tenantId, tenantId), eq(approvals.id, id)))
    .limit(1);
  return rows[0];
}

/** One page of a tenant's approvals, newest first (`limit + 1` rows). */
export async function listApprovals(
  db: Db,
  tenantId: string,
  status: ApprovalStatus | undefined,
  beforeId: string | undefined,
  limit: number,
): Promise<ApprovalRow[]> {
  const where = [eq(approvals.tenantId, tenantId)];
  if (status) where.push(eq(approvals.status, status));
  if (beforeId) where.push(lt(approvals.id, beforeId));
  return db
    .select()
    .from(approvals)
    .where(and(...where))
    .orderBy(desc(approvals.id))
    .limit(limit + 1);
}

/**
 * Approves or denies a pending, unexpired approval. Returns the updated row, or null when it
 * was already decided or has expired (the caller reads it again to say which).
 */
export async function decideApproval(
  db: Db,
  tenantId: string,
  id: string,
  status: "approved" | "denied",
  decidedBy: string,
  reason: string | null,
  nowMs: number,
): Promise<ApprovalRow | null> {
  const rows = await db
    .update(approvals)
    .set({ status, decidedBy, reason, decidedAtMs: nowMs })
    .where(
      and(
        eq(approvals.tenantId, tenantId),
        eq(approvals.id, id),
        eq(approvals.status, "pending"),
        gt(approvals.expiresAtMs, nowMs),
      ),
    )
    .returning();
  return rows[0] ?? null;
}

/** Marks a pending approval expired once its time is up; null if it was decided or is not due. */
export async function expireApproval(
  db: Db,
  tenantId: string,
  id: string,
  nowMs: number,
): Promise<ApprovalRow | null> {
  const rows = await db
    .update(approvals)
    .set({
      status: "expired",
      decidedBy: "kernel",
      reason: "no decision before the deadline",
      decidedAtMs: nowMs,
    })
    .where(
      and(
        eq(approvals.tenantId, tenantId),
        eq(approvals.id, id),
        eq(approvals.status, "pending"),
        lte(approvals.expiresAtMs, nowMs),
      ),
    )
    .returning();
  return rows[0] ?? null;
}
