/**
 * The tenant-wide side of workspace quotas in D1: each process's usage row, admitted by one
 * conditional statement over its tenant's sum, and the tenant's quota overrides.
 */

import { and, eq, sql } from "drizzle-orm";
import {
  breachOf,
  DEFAULT_WORKSPACE_QUOTA,
  type QuotaBreach,
  type UsageDelta,
  type WorkspaceQuota,
  type WorkspaceUsage,
} from "../kernel/workspace/limits.js";
import type { Db } from "./db.js";
import { workspaceLimits, workspaceUsage } from "./schema.js";

/**
 * The tenant's workspace quota: its overrides over the defaults.
 *
 * @example const quota = await workspaceQuotaOf(db, tenantId)
 */
export async function workspaceQuotaOf(db: Db, tenantId: string): Promise<WorkspaceQuota> {
  const row = await db
    .select()
    .from(workspaceLimits)
    .where(eq(workspaceLimits.tenantId, tenantId))
    .get();
  return {
    processMaxBytes: row?.processMaxBytes ?? DEFAULT_WORKSPACE_QUOTA.processMaxBytes,
    processMaxObjects: row?.processMaxObjects ?? DEFAULT_WORKSPACE_QUOTA.processMaxObjects,
    tenantMaxBytes: row?.tenantMaxBytes ?? DEFAULT_WORKSPACE_QUOTA.tenantMaxBytes,
    tenantMaxObjects: row?.tenantMaxObjects ?? DEFAULT_WORKSPACE_QUOTA.tenantMaxObjects,
  };
}

/** What all of a tenant's processes hold together. */
export async function tenantUsageOf(db: Db, tenantId: string): Promise<WorkspaceUsage> {
  const row = await db
    .select({
      bytes: sql<number>`COALESCE(SUM(${workspaceUsage.bytes}), 0)`,
      objects: sql<number>`COALESCE(SUM(${workspaceUsage.objects}), 0)`,
    })
    .from(workspaceUsage)
    .where(eq(workspaceUsage.tenantId, tenantId))
    .get();
  return { bytes: Number(row?.bytes ?? 0), objects: Number(row?.objects ?? 0) };
}

/**
 * Adds `delta` to a process's row if the tenant's total stays within `quota`: one statement,
 * so two processes of the tenant writing at once cannot both pass the check and overshoot
 * together (D1 runs statements one at a time). Returns the breach when refused.
 *
 * @example const breach = await chargeTenant(db, tenantId, processId, { bytes: 10, objects: 1 }, quota)
 */
export async function chargeTenant(
  db: Db,
  tenantId: string,
  processId: string,
  delta: UsageDelta,
  quota: Pick<WorkspaceQuota, "tenantMaxBytes" | "tenantMaxObjects">,
  nowMs = Date.now(),
): Promise<QuotaBreach | null> {
  const result = await db.run(sql`
    INSERT INTO workspace_usage (process_id, tenant_id, bytes, objects, updated_at_ms)
    SELECT ${processId}, ${tenantId}, ${delta.bytes}, ${delta.objects}, ${nowMs}
    WHERE (${delta.bytes} <= 0 OR
           (SELECT COALESCE(SUM(bytes), 0) FROM workspace_usage WHERE tenant_id = ${tenantId})
             + ${delta.bytes} <= ${quota.tenantMaxBytes})
      AND (${delta.objects} <= 0 OR
           (SELECT COALESCE(SUM(objects), 0) FROM workspace_usage WHERE tenant_id = ${tenantId})
             + ${delta.objects} <= ${quota.tenantMaxObjects})
    ON CONFLICT (process_id) DO UPDATE SET
      bytes = MAX(0, bytes + excluded.bytes),
      objects = MAX(0, objects + excluded.objects),
      updated_at_ms = excluded.updated_at_ms`);
  if ((result.meta.changes ?? 0) > 0) return null;
  const usage = await tenantUsageOf(db, tenantId);
  return (
    breachOf("tenant", usage, delta, quota.tenantMaxBytes, quota.tenantMaxObjects) ?? {
      // The sum moved between the refused statement and this read: report the limit anyway.
      limit: delta.bytes > 0 ? "tenant_bytes" : "tenant_objects",
      limitValue: delta.bytes > 0 ? quota.tenantMaxBytes : quota.tenantMaxObjects,
      used: delta.bytes > 0 ? usage.bytes : usage.objects,
      requested: delta.bytes > 0 ? delta.bytes : delta.objects,
    }
  );
}

/**
 * Gives back a change charged by `chargeTenant` (a write refused or failed after the charge,
 * or a delete).
 */
export async function refundTenant(
  db: Db,
  tenantId: string,
  processId: string,
  delta: UsageDelta,
  nowMs = Date.now(),
): Promise<void> {
  await db
    .update(workspaceUsage)
    .set({
      bytes: sql`MAX(0, ${workspaceUsage.bytes} - ${delta.bytes})`,
      objects: sql`MAX(0, ${workspaceUsage.objects} - ${delta.objects})`,
      updatedAtMs: nowMs,
    })
    .where(and(eq(workspaceUsage.processId, processId), eq(workspaceUsage.tenantId, tenantId)));
}

/**
 * Forgets everything a process's workspace counted against its tenant; call it when the
 * process and its workspace are purged.
 *
 * @example await releaseProcessUsage(db, tenantId, processId)
 */
export async function releaseProcessUsage(
  db: Db,
  tenantId: string,
  processId: string,
): Promise<void> {
  await db
    .delete(workspaceUsage)
    .where(and(eq(workspaceUsage.processId, processId), eq(workspaceUsage.tenantId, tenantId)));
}
