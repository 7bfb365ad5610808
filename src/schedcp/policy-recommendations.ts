/**
 * Policy recommendations for the workload-profile integration (profile-calls.ts): every
 * policy a tenant sees, ranked for a workload class by the pure recommender with the tenant's
 * performance history and the target nodes' facts. Takes a tenant id, not a caller: the
 * profile call that uses it has already passed the gate.
 */

import type { Env } from "../env.js";
import type { Db } from "../store/db.js";
import { ensureBuiltinPolicies } from "../store/sched-builtins.js";
import { listOutcomes } from "../store/sched-history.js";
import { listPolicies, type PolicyListAfter } from "../store/sched-policies.js";
import type { Tunable } from "./metadata.js";
import type { NodeFacts } from "./protocol/telemetry.js";
import { type RecommendationResult, recommendPolicies } from "./recommend.js";
import type { WorkloadClass } from "./workload-classes.js";

/**
 * Recommends the tenant's visible policies for a workload class, with the tenant's history
 * and the target nodes' facts; quarantined latest versions are left out.
 *
 * @example await recommendForWorkload(env, db, tenantId, profile.class, nodes.map((n) => n.facts))
 */
export async function recommendForWorkload(
  env: Env,
  db: Db,
  tenantId: string,
  workloadClass: WorkloadClass | null,
  facts: ReadonlyArray<NodeFacts | null>,
): Promise<RecommendationResult> {
  await ensureBuiltinPolicies(db, env.BLOBS);
  const candidates = [];
  let after: PolicyListAfter | undefined;
  // Every visible policy, a page at a time (a tenant holds at most a few hundred).
  for (;;) {
    const page = await listPolicies(db, { tenantId, limit: 100, after });
    candidates.push(...page);
    const last = page.at(-1);
    if (page.length < 100 || !last) break;
    after = { name: last.row.name, id: last.row.id };
  }
  return recommendPolicies(
    workloadClass,
    candidates
      .filter((c) => c.latestStatus !== "rejected")
      .map((c) => ({
        id: c.row.id,
        name: c.row.name,
        useCases: JSON.parse(c.row.useCases) as string[],
        tunables: JSON.parse(c.row.tunablesJson) as Tunable[],
        limitations: c.row.limitations,
        quarantined: c.latestStatus === "quarantined",
      })),
    { facts, history: await listOutcomes(db, tenantId) },
  );
}
