import { describe, expect, it } from "vitest";
import { DEFAULT_BACKEND } from "../../bench/sched/backend";
import { runSim, type SimConfig } from "../../bench/sched/sim";
import { createPolicy } from "../../src/kernel/scheduler";

// A small run of the benchmark's simulator (the same module `bench/sched/main.ts` drives), so
// determinism is pinned in CI without the benchmark's wall-clock cost.
const MIN = 60_000_000;

function config(seed: number, policy: "fcfs" | "composite"): SimConfig {
  const backend = {
    ...DEFAULT_BACKEND,
    maxConcurrent: 8,
    tokensPerMin: 200_000,
    requestsPerMin: 600,
  };
  return {
    scenario: "test",
    seed,
    load: 1,
    policy,
    makePolicy: () => createPolicy(policy, { tenantWeights: { t0: 1, t1: 3 } } as never),
    workload: { mix: [0.5, 0.5, 0, 0], priorityShares: [0.2, 0.6, 0.2], underBudgetFraction: 0.2 },
    tenantWeights: [1, 3],
    arrivals: { kind: "open", programsPerSec: 0.3, tenantShares: [0.5, 0.5], burst: null },
    durationUs: 10 * MIN,
    measureFromUs: 0,
    measureToUs: 10 * MIN,
    backend,
    client: {
      mode: "kernel",
      limits: { maxConcurrent: 8, requestsPerMin: 600, tokensPerMin: 200_000 },
      retry: { baseMs: 500, capMs: 30_000, maxAttempts: 5 },
      maxRateLimitRetries: 20,
      naiveRetryDelayMs: 200,
      maxOutputTokens: 4_096,
    },
    windowUs: MIN,
    maxEvents: 1_000_000,
  };
}

describe("bench/sched simulator", () => {
  it("gives bit-identical metrics and event-log hash for the same seed", () => {
    const a = runSim(config(7, "composite"));
    const b = runSim(config(7, "composite"));
    expect(a.extras.completed).toBeGreaterThan(20);
    expect(a.extras.truncated).toBe(false);
    expect(b).toEqual(a);
  });

  it("changes the hash with the seed and with the policy", () => {
    const base = runSim(config(7, "composite")).eventLogHash;
    expect(runSim(config(8, "composite")).eventLogHash).not.toBe(base);
    expect(runSim(config(7, "fcfs")).eventLogHash).not.toBe(base);
  });

  it("holds under-budgeted programs to their budget only when the budget layer is on", () => {
    const layered = runSim(config(7, "composite"));
    const plain = runSim(config(7, "fcfs"));
    expect(layered.overspendTokens).toBe(0);
    expect(layered.extras.budgetExhausted).toBeGreaterThan(0);
    expect(plain.extras.budgetViolations).toBeGreaterThan(0);
  });
});
