/**
 * The policies under test: the kernel's own, built through its registry exactly as the
 * Scheduler Durable Object builds them, plus strict priority (the priority policy without
 * aging, vLLM's `priority`), the default stack with Autellix's promotion rule (an ablation) and
 * the SRPT oracle. `experimentPolicies` are orders tried and rejected, run only when named.
 */

import { createPolicy } from "../../src/kernel/scheduler/registry.js";
import type { SchedPolicy } from "../../src/kernel/scheduler/types.js";
import { ProgramFcfs } from "./program-fcfs.js";
import type { Oracle } from "./sim-types.js";
import { SrptOracle } from "./srpt.js";

export interface BenchPolicy {
  label: string;
  make: (oracle: Oracle) => SchedPolicy;
}

/** Every policy the benchmark runs, baseline first, oracle last. */
export function benchPolicies(tenantWeights: Record<string, number>): BenchPolicy[] {
  return [
    { label: "fcfs", make: () => createPolicy("fcfs") },
    { label: "round-robin", make: () => createPolicy("round-robin") },
    { label: "strict-priority", make: () => createPolicy("priority", { agingMs: null }) },
    { label: "priority-aging", make: () => createPolicy("priority", { agingMs: 30_000 }) },
    { label: "mlfq", make: () => createPolicy("mlfq") },
    { label: "token-budget", make: () => createPolicy("token-budget") },
    { label: "vtc", make: () => createPolicy("vtc", { tenantWeights }) },
    { label: "plas", make: () => createPolicy("plas") },
    { label: "atlas", make: () => createPolicy("atlas") },
    { label: "composite", make: () => createPolicy("composite", { tenantWeights }) },
    {
      label: "composite-class-first",
      make: () => createPolicy("composite", { tenantWeights, nesting: "class-first" }),
    },
    { label: "fair-plas", make: () => createPolicy("fair-plas", { tenantWeights }) },
    // Ablation: the default stack with Autellix's promotion (starved programs to the top queue).
    {
      label: "fair-plas-autellix",
      make: () => createPolicy("fair-plas", { tenantWeights, plas: { promotedTurnPicks: null } }),
    },
    { label: "srpt-oracle", make: (oracle) => new SrptOracle(oracle) },
  ];
}

/**
 * Orders tried against issue 3's p95-completion target and rejected (bench/sched/README.md,
 * "Orders tried for p95 completion"): kept so the result can be rerun, but run only when named
 * with `--policy`, so they cost the default runs nothing.
 */
export function experimentPolicies(): BenchPolicy[] {
  return [
    { label: "program-fcfs", make: () => new ProgramFcfs() },
    // PLAS with two classes: programs past 262,144 weighted tokens wait behind all others.
    { label: "plas-two-class", make: () => createPolicy("plas", { levelsTokens: [262_144] }) },
  ];
}
