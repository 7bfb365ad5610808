/**
 * Recommends policies from the repository for a classified workload: each candidate is scored
 * on how its use-case tags, tunables and limitations fit the class and the nodes' facts, and
 * on how it did before on the same class (performance history), with every reason spelled
 * out. Pure: the caller loads the candidates and the history.
 *
 * Scoring (added up; from MIN_RECOMMEND_SCORE a policy is recommended):
 * - tags: the class's own tag +3, each other tag meaning the class +1 (at most +2);
 * - tunables: +1 when one lets the policy lean the class's way (a slice for batch or latency,
 *   a wakeup boost for latency), with the value suggested;
 * - limitations: -2 when they name what the class needs (a weakness of the policy);
 * - facts: -1 when limitations name NUMA or SMT and a node has several sockets or SMT;
 * - history on this class: +1 per improvement (at most +2), -2 per regression or rollback
 *   (at most -4).
 */

import type { Tunable } from "./metadata.js";
import type { NodeFacts } from "./protocol/telemetry.js";
import { CLASS_TAGS, type WorkloadClass } from "./workload-classes.js";

export interface PolicyCandidate {
  id: string;
  name: string;
  useCases: readonly string[];
  tunables: readonly Tunable[];
  limitations: string;
  /** Its newest version is quarantined by the circuit breaker: not recommended. */
  quarantined?: boolean;
}

export const OUTCOMES = ["improved", "neutral", "regressed", "rolled_back"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** A past result of a policy on a workload class (the repository's performance history). */
export interface OutcomeRecord {
  policyId: string;
  workloadClass: WorkloadClass;
  outcome: Outcome;
}

export interface Recommendation {
  policyId: string;
  name: string;
  score: number;
  reasons: string[];
  /** Parameters that lean the policy towards the class, within its bounds (may be empty). */
  suggestedParameters: Record<string, number | boolean>;
  /** False when some target node cannot run a sched_ext policy at all. */
  deployable: boolean;
}

export interface RecommendationResult {
  workloadClass: WorkloadClass | null;
  recommendations: Recommendation[];
  excluded: Array<{ policyId: string; name: string; reason: string }>;
  /** What applies to every candidate (an idle workload, nodes without sched_ext). */
  notes: string[];
}

/** Words in a policy's limitations that name what a class needs. */
const NEEDS: Readonly<Record<WorkloadClass, readonly string[]>> = {
  "cpu-bound-batch": ["throughput", "batch", "cpu-bound"],
  "latency-sensitive": ["latency", "interactive", "responsiv", "wakeup"],
  mixed: ["fair", "starv"],
  "io-bound": ["i/o", "io-bound", "blocking"],
  idle: ["power", "energy"],
};

/** The slice to suggest: sched_ext's default for batch, EEVDF's base slice for latency. */
const SCX_SLICE_DFL_US = 20_000;
const EEVDF_BASE_SLICE_US = 750;
const SLICE_UNITS: ReadonlyArray<[RegExp, number]> = [
  [/_ns$/, 1_000],
  [/_us$/, 1],
  [/_ms$/, 0.001],
];
const BOOST_TUNABLE = /boost|interactive|wake|latency/;

export const RECOMMEND_LIMITS = { maxRecommendations: 10 } as const;
/**
 * The least score recommended: more than a tunable alone (+1), so a policy must fit by its
 * tags (or its record) and not only be adjustable.
 */
export const MIN_RECOMMEND_SCORE = 2;

/**
 * Ranks `candidates` for a workload of class `workloadClass`.
 *
 * @example recommendPolicies("latency-sensitive", candidates, { facts: [node.facts] }).recommendations[0]?.name
 */
export function recommendPolicies(
  workloadClass: WorkloadClass | null,
  candidates: readonly PolicyCandidate[],
  options: {
    facts?: ReadonlyArray<NodeFacts | null>;
    history?: readonly OutcomeRecord[];
    limit?: number;
  } = {},
): RecommendationResult {
  const notes: string[] = [];
  const excluded: RecommendationResult["excluded"] = [];
  if (workloadClass === null) {
    return {
      workloadClass,
      recommendations: [],
      excluded,
      notes: ["no workload class: the window held no CPU utilisation"],
    };
  }
  if (workloadClass === "idle") {
    notes.push("an idle workload gains little from any scheduler: the kernel's default is fine");
  }
  const facts = (options.facts ?? []).filter((f): f is NodeFacts => f !== null);
  const noSchedExt = facts.filter((f) => !f.schedExt.supported);
  const deployable = noSchedExt.length === 0;
  if (!deployable) {
    const names = noSchedExt.map((f) => f.hostname ?? "a node").join(", ");
    notes.push(`${names}: the kernel has no sched_ext, so no policy can run there`);
  }
  const recommendations: Recommendation[] = [];
  for (const c of candidates) {
    if (c.quarantined) {
      excluded.push({
        policyId: c.id,
        name: c.name,
        reason: "quarantined after failing on too many nodes",
      });
      continue;
    }
    const r = score(workloadClass, c, facts, options.history ?? []);
    if (r.score >= MIN_RECOMMEND_SCORE) recommendations.push({ ...r, deployable });
  }
  recommendations.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  const limit = Math.min(
    options.limit ?? RECOMMEND_LIMITS.maxRecommendations,
    RECOMMEND_LIMITS.maxRecommendations,
  );
  return { workloadClass, recommendations: recommendations.slice(0, limit), excluded, notes };
}

function score(
  cls: WorkloadClass,
  c: PolicyCandidate,
  facts: readonly NodeFacts[],
  history: readonly OutcomeRecord[],
): Omit<Recommendation, "deployable"> {
  const reasons: string[] = [];
  let total = 0;

  const [own, ...related] = CLASS_TAGS[cls];
  if (c.useCases.includes(own!)) {
    total += 3;
    reasons.push(`+3 tagged ${own}`);
  }
  const relatedHits = related.filter((t) => c.useCases.includes(t));
  if (relatedHits.length > 0) {
    const add = Math.min(2, relatedHits.length);
    total += add;
    reasons.push(`+${add} tagged ${relatedHits.join(", ")}`);
  }

  const suggestedParameters: Record<string, number | boolean> = {};
  const tunableReasons: string[] = [];
  for (const t of c.tunables) {
    const suggestion = suggest(cls, t);
    if (!suggestion) continue;
    tunableReasons.push(suggestion.reason);
    if (suggestion.value !== t.default) suggestedParameters[t.name] = suggestion.value;
  }
  if (tunableReasons.length > 0) {
    total += 1;
    reasons.push(`+1 ${tunableReasons.join("; ")}`);
  }

  const limitations = c.limitations.toLowerCase();
  const weakness = NEEDS[cls].find((w) => limitations.includes(w));
  if (weakness) {
    total -= 2;
    reasons.push(
      `-2 its limitations name "${weakness}", which a ${cls} workload needs: ${c.limitations}`,
    );
  }
  const multiSocket = facts.some((f) => (f.cpus?.packageCount ?? 1) > 1);
  if (multiSocket && /numa|socket/.test(limitations)) {
    total -= 1;
    reasons.push("-1 its limitations name NUMA or sockets, and a target node has several sockets");
  }
  const smt = facts.some(
    (f) => f.cpus !== null && f.cpus.coreCount > 0 && f.cpus.coreCount < f.cpus.onlineCount,
  );
  if (smt && /smt|hyperthread|sibling/.test(limitations)) {
    total -= 1;
    reasons.push("-1 its limitations name SMT, and a target node runs SMT siblings");
  }

  const past = history.filter((h) => h.policyId === c.id && h.workloadClass === cls);
  const improved = past.filter((h) => h.outcome === "improved").length;
  const failed = past.filter(
    (h) => h.outcome === "regressed" || h.outcome === "rolled_back",
  ).length;
  if (improved > 0) {
    const add = Math.min(2, improved);
    total += add;
    reasons.push(`+${add} improved ${cls} workloads ${improved} time(s) before`);
  }
  if (failed > 0) {
    const sub = Math.min(4, 2 * failed);
    total -= sub;
    reasons.push(
      `-${sub} regressed or was rolled back on ${cls} workloads ${failed} time(s) before`,
    );
  }
  return { policyId: c.id, name: c.name, score: total, reasons, suggestedParameters };
}

/** How a tunable lets the policy lean towards the class, and the value to use. */
function suggest(
  cls: WorkloadClass,
  t: Tunable,
): { value: number | boolean; reason: string } | null {
  if (
    t.type === "int" &&
    /slice/.test(t.name) &&
    (cls === "cpu-bound-batch" || cls === "latency-sensitive")
  ) {
    const unit = SLICE_UNITS.find(([re]) => re.test(t.name));
    if (!unit) return null;
    const targetUs = cls === "cpu-bound-batch" ? SCX_SLICE_DFL_US : EEVDF_BASE_SLICE_US;
    const value = Math.round(Math.min(t.max!, Math.max(t.min!, targetUs * unit[1])));
    const why =
      cls === "cpu-bound-batch"
        ? "long slices (sched_ext's default, 20 ms) mean fewer switches and warmer caches"
        : "short slices (EEVDF's base slice, 0.75 ms) let woken tasks in sooner";
    return { value, reason: `${t.name} = ${value}: ${why}` };
  }
  if (t.type === "bool" && BOOST_TUNABLE.test(t.name)) {
    if (cls === "latency-sensitive")
      return { value: true, reason: `${t.name} = true: woken tasks go first` };
    if (cls === "cpu-bound-batch")
      return { value: false, reason: `${t.name} = false: no boosts to preempt batch work` };
  }
  return null;
}
