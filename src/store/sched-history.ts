/**
 * A scheduler policy's history per tenant: the rollout state machine's transitions and the
 * performance a version showed on a node or group, read back interleaved by time, and the
 * outcomes recommendations learn from. Separate from the repository (sched-policies.ts) because
 * it is append-only and written as rollouts run, never when a policy or version is written.
 */

import { desc, eq, sql } from "drizzle-orm";
import { newUuidV7Hex } from "../kernel/ids.js";
import type { Outcome, OutcomeRecord } from "../schedcp/recommend.js";
import type { HistoryEntry } from "../schedcp/rollout-types.js";
import type { WorkloadClass } from "../schedcp/workload-classes.js";
import type { Db } from "./db.js";
import { SCHED_POLICY_LIMITS } from "./sched-policies.js";
import { schedPolicyPerformance, schedRolloutHistory } from "./schema.js";

/** Stores a rollout's transitions (the `record` actions of the rollout state machine). */
export async function appendRolloutHistory(
  db: Db,
  tenantId: string,
  entries: readonly HistoryEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((e) => ({
    tenantId,
    policyId: e.policyId,
    version: e.version,
    rolloutId: e.rolloutId,
    nodeId: e.nodeId,
    fromState: e.from,
    toState: e.to,
    reason: e.reason,
    atMs: e.atMs,
  }));
  const chunks = [];
  for (let i = 0; i < rows.length; i += SCHED_POLICY_LIMITS.historyRowsPerInsert) {
    chunks.push(
      db
        .insert(schedRolloutHistory)
        .values(rows.slice(i, i + SCHED_POLICY_LIMITS.historyRowsPerInsert)),
    );
  }
  await db.batch(chunks as [(typeof chunks)[number], ...(typeof chunks)[number][]]);
}

export interface PerformanceRecord {
  tenantId: string;
  policyId: string;
  version: number;
  targetKind: "node" | "group";
  target: string;
  workloadClass: WorkloadClass;
  metricsBefore: Record<string, number>;
  metricsAfter: Record<string, number>;
  outcome: Outcome;
  rolloutId: string | null;
}

/** Records how a version did on a target. */
export async function recordPerformance(
  db: Db,
  r: PerformanceRecord,
  nowMs: number,
): Promise<string> {
  const id = `sperf_${newUuidV7Hex(nowMs)}`;
  await db.insert(schedPolicyPerformance).values({
    id,
    tenantId: r.tenantId,
    policyId: r.policyId,
    version: r.version,
    targetKind: r.targetKind,
    target: r.target,
    workloadClass: r.workloadClass,
    metricsBeforeJson: JSON.stringify(r.metricsBefore),
    metricsAfterJson: JSON.stringify(r.metricsAfter),
    outcome: r.outcome,
    rolloutId: r.rolloutId,
    recordedAtMs: nowMs,
  });
  return id;
}

/** The tenant's outcomes per policy and class, for recommendations. */
export async function listOutcomes(db: Db, tenantId: string): Promise<OutcomeRecord[]> {
  const rows = await db
    .select({
      policyId: schedPolicyPerformance.policyId,
      workloadClass: schedPolicyPerformance.workloadClass,
      outcome: schedPolicyPerformance.outcome,
    })
    .from(schedPolicyPerformance)
    .where(eq(schedPolicyPerformance.tenantId, tenantId))
    .orderBy(desc(schedPolicyPerformance.recordedAtMs))
    .limit(1_000);
  return rows.map((r) => ({ ...r, workloadClass: r.workloadClass as WorkloadClass }));
}

export type HistoryItem =
  | {
      kind: "rollout";
      atMs: number;
      key: string;
      policyId: string;
      version: number;
      rolloutId: string;
      nodeId: string | null;
      from: string;
      to: string;
      reason: string | null;
    }
  | {
      kind: "performance";
      atMs: number;
      key: string;
      policyId: string;
      version: number;
      rolloutId: string | null;
      targetKind: "node" | "group";
      target: string;
      workloadClass: string;
      metricsBefore: Record<string, number>;
      metricsAfter: Record<string, number>;
      outcome: Outcome;
    };

/** Where a history listing continues: after this (time, kind, key), newest first. */
export type HistoryAfter = { atMs: number; kind: string; key: string };

type RawHistory = {
  kind: "rollout" | "performance";
  at_ms: number;
  key: string;
  policy_id: string;
  version: number;
  rollout_id: string | null;
  node_id: string | null;
  from_state: string | null;
  to_state: string | null;
  reason: string | null;
  target_kind: "node" | "group" | null;
  target: string | null;
  workload_class: string | null;
  metrics_before_json: string | null;
  metrics_after_json: string | null;
  outcome: Outcome | null;
};

/**
 * A policy's history in this tenant (or, without `policyId`, every policy's), newest first:
 * rollout transitions and performance records interleaved by time; optionally of one version
 * or one node.
 */
export async function listPolicyHistory(
  db: Db,
  q: {
    tenantId: string;
    policyId?: string | undefined;
    version?: number | undefined;
    nodeId?: string | undefined;
    limit: number;
    after?: HistoryAfter | undefined;
  },
): Promise<HistoryItem[]> {
  const byPolicy = q.policyId === undefined ? sql`` : sql` AND policy_id = ${q.policyId}`;
  const byVersionR = q.version === undefined ? sql`` : sql` AND version = ${q.version}`;
  const byNodeR = q.nodeId === undefined ? sql`` : sql` AND node_id = ${q.nodeId}`;
  const byNodeP =
    q.nodeId === undefined ? sql`` : sql` AND target_kind = 'node' AND target = ${q.nodeId}`;
  const after = q.after
    ? sql`WHERE at_ms < ${q.after.atMs} OR (at_ms = ${q.after.atMs} AND (kind < ${q.after.kind}
        OR (kind = ${q.after.kind} AND key < ${q.after.key})))`
    : sql``;
  const rows = await db.all<RawHistory>(sql`
    SELECT * FROM (
      SELECT 'rollout' AS kind, at_ms, printf('%020d', seq) AS key, policy_id, version, rollout_id, node_id,
        from_state, to_state, reason, NULL AS target_kind, NULL AS target, NULL AS workload_class,
        NULL AS metrics_before_json, NULL AS metrics_after_json, NULL AS outcome
      FROM sched_rollout_history
      WHERE tenant_id = ${q.tenantId}${byPolicy}${byVersionR}${byNodeR}
      UNION ALL
      SELECT 'performance', recorded_at_ms, id, policy_id, version, rollout_id, NULL, NULL, NULL, NULL,
        target_kind, target, workload_class, metrics_before_json, metrics_after_json, outcome
      FROM sched_policy_performance
      WHERE tenant_id = ${q.tenantId}${byPolicy}${byVersionR}${byNodeP}
    ) ${after}
    ORDER BY at_ms DESC, kind DESC, key DESC
    LIMIT ${q.limit}`);
  return rows.map((r): HistoryItem => {
    if (r.kind === "rollout") {
      return {
        kind: "rollout",
        atMs: r.at_ms,
        key: r.key,
        policyId: r.policy_id,
        version: r.version,
        rolloutId: r.rollout_id!,
        nodeId: r.node_id,
        from: r.from_state!,
        to: r.to_state!,
        reason: r.reason,
      };
    }
    return {
      kind: "performance",
      atMs: r.at_ms,
      key: r.key,
      policyId: r.policy_id,
      version: r.version,
      rolloutId: r.rollout_id,
      targetKind: r.target_kind!,
      target: r.target!,
      workloadClass: r.workload_class!,
      metricsBefore: JSON.parse(r.metrics_before_json!) as Record<string, number>,
      metricsAfter: JSON.parse(r.metrics_after_json!) as Record<string, number>,
      outcome: r.outcome!,
    };
  });
}
