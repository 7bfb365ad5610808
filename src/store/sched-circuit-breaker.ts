/**
 * The circuit breaker's rows, per tenant (built-in versions are shared, their failures are
 * not): the distinct nodes a version failed on, and the quarantine that stops a version once
 * too many have, until an operator clears it. Separate from the repository (sched-policies.ts)
 * because only the rollout engine and the operator's clear write these; the repository reads a
 * quarantine only to show a listed policy's status.
 */

import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "./db.js";
import { schedPolicyFailures, schedPolicyQuarantines } from "./schema.js";

/**
 * Records that a version failed on a node (once per node) and returns the distinct nodes it
 * has failed on for this tenant since the last clear.
 */
export async function recordPolicyFailure(
  db: Db,
  f: {
    tenantId: string;
    policyId: string;
    version: number;
    nodeId: string;
    rolloutId: string | null;
    reason: string;
    atMs: number;
  },
): Promise<string[]> {
  await db.insert(schedPolicyFailures).values(f).onConflictDoNothing();
  return failedNodes(db, f.tenantId, f.policyId, f.version);
}

export async function failedNodes(
  db: Db,
  tenantId: string,
  policyId: string,
  version: number,
): Promise<string[]> {
  const rows = await db
    .select({ nodeId: schedPolicyFailures.nodeId })
    .from(schedPolicyFailures)
    .where(
      and(
        eq(schedPolicyFailures.tenantId, tenantId),
        eq(schedPolicyFailures.policyId, policyId),
        eq(schedPolicyFailures.version, version),
      ),
    )
    .orderBy(schedPolicyFailures.atMs, schedPolicyFailures.nodeId);
  return rows.map((r) => r.nodeId);
}

export type QuarantineRow = typeof schedPolicyQuarantines.$inferSelect;

/** Quarantines a version for a tenant (again, if it was cleared before). */
export async function quarantineVersion(
  db: Db,
  q: {
    tenantId: string;
    policyId: string;
    version: number;
    failedNodes: string[];
    reason: string;
    atMs: number;
  },
): Promise<void> {
  const values = {
    tenantId: q.tenantId,
    policyId: q.policyId,
    version: q.version,
    reason: q.reason,
    failedNodesJson: JSON.stringify(q.failedNodes),
    quarantinedAtMs: q.atMs,
    clearedAtMs: null,
    clearedBy: null,
  };
  await db
    .insert(schedPolicyQuarantines)
    .values(values)
    .onConflictDoUpdate({
      target: [
        schedPolicyQuarantines.tenantId,
        schedPolicyQuarantines.policyId,
        schedPolicyQuarantines.version,
      ],
      set: values,
    });
}

/** The tenant's active quarantines of a policy's versions. */
export async function activeQuarantines(
  db: Db,
  tenantId: string,
  policyId: string,
): Promise<QuarantineRow[]> {
  return db
    .select()
    .from(schedPolicyQuarantines)
    .where(
      and(
        eq(schedPolicyQuarantines.tenantId, tenantId),
        eq(schedPolicyQuarantines.policyId, policyId),
        isNull(schedPolicyQuarantines.clearedAtMs),
      ),
    );
}

/**
 * Clears a quarantine and the failures that caused it (they stay in the quarantine row), so
 * the version may roll out again; false when it was not quarantined.
 */
export async function clearQuarantine(
  db: Db,
  c: { tenantId: string; policyId: string; version: number; actor: string; atMs: number },
): Promise<boolean> {
  const [cleared] = await db.batch([
    db
      .update(schedPolicyQuarantines)
      .set({ clearedAtMs: c.atMs, clearedBy: c.actor })
      .where(
        and(
          eq(schedPolicyQuarantines.tenantId, c.tenantId),
          eq(schedPolicyQuarantines.policyId, c.policyId),
          eq(schedPolicyQuarantines.version, c.version),
          isNull(schedPolicyQuarantines.clearedAtMs),
        ),
      )
      .returning({ version: schedPolicyQuarantines.version }),
    db.delete(schedPolicyFailures).where(
      and(
        eq(schedPolicyFailures.tenantId, c.tenantId),
        eq(schedPolicyFailures.policyId, c.policyId),
        eq(schedPolicyFailures.version, c.version),
        sql`EXISTS (SELECT 1 FROM sched_policy_quarantines WHERE tenant_id = ${c.tenantId}
            AND policy_id = ${c.policyId} AND version = ${c.version} AND cleared_at_ms = ${c.atMs})`,
      ),
    ),
  ]);
  return cleared.length > 0;
}
