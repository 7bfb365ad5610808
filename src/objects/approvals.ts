/**
 * The human gate, as calls the HTTPS API and MCP both make: list a tenant's approvals, and
 * approve or deny one. A decision wakes the waiting process, which then runs the call exactly
 * once (approve) or fails it with the reason (deny). Every outcome is audited.
 */

import type { Env } from "../env.js";
import { KernelError } from "../kernel/errors.js";
import { isId } from "../kernel/ids.js";
import {
  type ApprovalRow,
  type ApprovalStatus,
  decideApproval as decideRow,
  getApproval,
  listApprovals as listRows,
} from "../store/approvals.js";
import { pageOf } from "../store/cursor.js";
import type { Db } from "../store/db.js";
import { processStub } from "./agent-process.js";

/** How long an approval waits for a person unless the deployment says otherwise. */
export const DEFAULT_APPROVAL_TTL_MS = 60 * 60_000;

export interface ApprovalView {
  id: string;
  tenantId: string;
  processId: string | null;
  principal: string;
  capability: string;
  arguments: unknown;
  risk: string;
  status: ApprovalStatus;
  policyIds: string[];
  reason: string | null;
  decidedBy: string | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
}

/** The public shape of an approval row. */
export function approvalView(row: ApprovalRow, nowMs = Date.now()): ApprovalView {
  // A pending approval past its deadline is expired even before the process marks it so.
  const status = row.status === "pending" && row.expiresAtMs <= nowMs ? "expired" : row.status;
  return {
    id: row.id,
    tenantId: row.tenantId,
    processId: row.processId,
    principal: row.principal,
    capability: row.capability,
    arguments: JSON.parse(row.argumentsJson) as unknown,
    risk: row.risk,
    status,
    policyIds: JSON.parse(row.policyIdsJson) as string[],
    reason: row.reason,
    decidedBy: row.decidedBy,
    createdAt: new Date(row.createdAtMs).toISOString(),
    expiresAt: new Date(row.expiresAtMs).toISOString(),
    decidedAt: row.decidedAtMs === null ? null : new Date(row.decidedAtMs).toISOString(),
  };
}

/** One page of a tenant's approvals, newest first. */
export async function listApprovals(
  db: Db,
  tenantId: string,
  query: { status?: ApprovalStatus | undefined; beforeId?: string | undefined; limit: number },
): Promise<{ items: ApprovalView[]; nextCursor: string | null }> {
  const rows = await listRows(db, tenantId, query.status, query.beforeId, query.limit);
  const { page, nextCursor } = pageOf(rows, query.limit, (r) => r.id);
  return { items: page.map((r) => approvalView(r)), nextCursor };
}

/**
 * Approves or denies approval `id` of the tenant and wakes its process. Throws `KernelError`
 * not_found (unknown or another tenant's) or conflict (already decided, or expired).
 *
 * @example await decideApproval(env, db, tenantId, "apr_…", "approve", "looks fine", "key_…")
 */
export async function decideApproval(
  env: Env,
  db: Db,
  tenantId: string,
  id: string,
  decision: "approve" | "deny",
  reason: string | null,
  actor: string,
): Promise<ApprovalView> {
  if (!isId("approval", id)) throw new KernelError("not_found", `no approval ${id}`);
  const nowMs = Date.now();
  const row = await decideRow(
    db,
    tenantId,
    id,
    decision === "approve" ? "approved" : "denied",
    actor,
    reason,
    nowMs,
  );
  if (!row) {
    const current = await getApproval(db, tenantId, id);
    if (!current) throw new KernelError("not_found", `no approval ${id}`);
    const view = approvalView(current, nowMs);
    throw new KernelError("conflict", `approval ${id} is ${view.status}, not pending`, {
      status: view.status,
    });
  }
  if (row.processId) await processStub(env, row.processId).approvalDecided(tenantId, row.id);
  return approvalView(row, nowMs);
}
