import { describe, expect, it } from "vitest";
import { DEFAULT_BACKEND } from "../../bench/sched/backend";
import { measureDecisionCosts, QueuedPool } from "../../bench/sched/cost";
import { DEFAULT_ENGINE, type EngineParams } from "../../bench/sched/engine";
import { meanCi95 } from "../../bench/sched/metrics";
import { summariseGate } from "../../bench/sched/seeds";
import { runSim } from "../../bench/sched/sim";
import type { SimConfig, SimResult } from "../../bench/sched/sim-types";
import { generateProgram, WORKLOAD_LIMITS } from "../../bench/sched/workload";
import { createPolicy, POLICY_NAMES } from "../../src/kernel/scheduler";

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

  it("counts lane-time held through tool waits only when lanes are held (S6)", () => {
    const lanes = (holdLanes: boolean | undefined): SimConfig => {
      const base = config(7, "fcfs");
      return {
        ...base,
        workload: { ...base.workload, mix: [0, 1, 0, 0] },
        arrivals: { kind: "open", programsPerSec: 0.8, tenantShares: [0.5, 0.5], burst: null },
        client: { ...base.client, holdLanes },
      };
    };
    const released = runSim(lanes(false));
    const held = runSim(lanes(true));
    expect(runSim(lanes(true))).toEqual(held);
    expect(released.extras.lanes?.wasteShare).toBe(0);
    expect(held.extras.lanes?.wasteShare).toBeGreaterThan(0.1);
    expect(held.extras.lanes?.heldS).toBeGreaterThan(released.extras.lanes?.heldS ?? 0);
    // Eight lanes, each held through the tools too: calls wait longer for one.
    expect(held.tokenLatencyMs).toBeGreaterThan(released.tokenLatencyMs);
    // Scenarios that do not study lanes report none, so their rows are as before.
    expect(runSim(lanes(undefined)).extras.lanes).toBeUndefined();
  });

  it("holds under-budgeted programs to their budget only when the budget layer is on", () => {
    const layered = runSim(config(7, "composite"));
    const plain = runSim(config(7, "fcfs"));
    expect(layered.overspendTokens).toBe(0);
    expect(layered.extras.budgetExhausted).toBeGreaterThan(0);
    expect(plain.extras.budgetViolations).toBeGreaterThan(0);
  });
});

// Backend model B: a small engine (8 sequences, 24k tokens of KV, 32-token quantum) under a
// chat/react/mcts mix, so the batch fills and quanta end with others waiting.
function engineConfig(
  seed: number,
  policy: "fcfs" | "plas" | "composite",
  engine: Partial<EngineParams> = {},
): SimConfig {
  const base = config(seed, policy === "plas" ? "fcfs" : policy);
  return {
    ...base,
    policy,
    makePolicy: () => createPolicy(policy, { tenantWeights: { t0: 1, t1: 3 } } as never),
    workload: { mix: [1, 1, 1, 0], priorityShares: [0.2, 0.6, 0.2], underBudgetFraction: 0 },
    arrivals: { kind: "open", programsPerSec: 0.05, tenantShares: [0.5, 0.5], burst: null },
    durationUs: 4 * MIN,
    measureToUs: 4 * MIN,
    engine: {
      params: {
        ...DEFAULT_ENGINE,
        maxBatch: 8,
        kvCapacityTokens: 24_000,
        quantumTokens: 32,
        ...engine,
      },
      decodeTokenUs: 1_150,
    },
  };
}

describe("bench/sched simulator, engine mode (model B)", () => {
  it("gives bit-identical metrics and event-log hash for the same seed", () => {
    const a = runSim(engineConfig(3, "plas"));
    const b = runSim(engineConfig(3, "plas"));
    expect(a.extras.completed).toBeGreaterThan(5);
    expect(a.extras.truncated).toBe(false);
    expect(b).toEqual(a);
    expect(runSim(engineConfig(4, "plas")).eventLogHash).not.toBe(a.eventLogHash);
    expect(runSim(engineConfig(3, "fcfs")).eventLogHash).not.toBe(a.eventLogHash);
  });

  it("preempts at quantum boundaries when the batch is full, and recomputes the KV", () => {
    const r = runSim(engineConfig(3, "plas"));
    const engine = r.extras.engine;
    expect(engine).toBeDefined();
    expect(engine?.maxBatch).toBe(8);
    expect(engine?.quantumEnds).toBeGreaterThan(0);
    expect(engine?.preemptions).toBeGreaterThan(0);
    expect(engine?.recomputedTokens).toBeGreaterThan(0);
    expect(engine?.peakKvTokens).toBeLessThanOrEqual(24_000);
    expect(r.failureRate).toBe(0);
  });

  it("never reports a p95 below the idle-backend floor, for completion or token latency", () => {
    for (const policy of ["fcfs", "plas", "composite"] as const) {
      const r = runSim(engineConfig(3, policy));
      expect(r.extras.completed).toBe(r.extras.measured);
      expect(r.p95Ms).toBeGreaterThanOrEqual(r.extras.p95IsolatedMs);
      expect(r.p95TokenLatencyMs).toBeGreaterThanOrEqual(r.extras.p95IsolatedTokenLatencyMs);
      expect(r.extras.p95IsolatedTokenLatencyMs).toBeGreaterThan(0);
    }
  });

  it("backfills around a head that does not fit the free KV, deterministically", () => {
    // Short of KV rather than of batch slots, so heads do wait for memory.
    const kvBound = { maxBatch: 64, kvCapacityTokens: 6_000 };
    const blocked = runSim(engineConfig(3, "fcfs", kvBound));
    const backfill = runSim(engineConfig(3, "fcfs", { ...kvBound, backfillLookahead: 4 }));
    expect(blocked.extras.engine?.kvStalls).toBeGreaterThan(0);
    expect(runSim(engineConfig(3, "fcfs", { ...kvBound, backfillLookahead: 4 }))).toEqual(backfill);
    expect(backfill.extras.completed).toBe(backfill.extras.measured);
    // Requests that fit go around the head: the batch is fuller and programs finish sooner.
    expect(backfill.extras.engine?.meanBatch).toBeGreaterThan(
      blocked.extras.engine?.meanBatch ?? 0,
    );
    expect(backfill.p95TokenLatencyMs).toBeLessThan(blocked.p95TokenLatencyMs);
    // With no skips allowed around a head, backfill is the blocking engine again.
    const noSkips = runSim(
      engineConfig(3, "fcfs", { ...kvBound, backfillLookahead: 4, backfillMaxSkips: 0 }),
    );
    expect(noSkips.p95TokenLatencyMs).toBe(blocked.p95TokenLatencyMs);
  });

  it("runs an offline batch (S7): every program submitted at t = 0, measured, makespan its last end", () => {
    const batch = (policy: "fcfs" | "plas"): SimConfig => ({
      ...engineConfig(5, policy),
      arrivals: { kind: "batch", programs: 24, tenantShares: [0.5, 0.5] },
      durationUs: 600 * MIN,
      measureFromUs: 0,
      measureToUs: 1,
    });
    const fcfs = runSim(batch("fcfs"));
    expect(runSim(batch("fcfs"))).toEqual(fcfs);
    expect(fcfs.extras.measured).toBe(24);
    expect(fcfs.extras.completed).toBe(24);
    expect(fcfs.extras.truncated).toBe(false);
    // Everything arrived at 0, so the slowest program's completion is the makespan.
    expect(fcfs.extras.makespanS).toBeCloseTo(fcfs.p99Ms / 1_000, 0);
    expect(fcfs.extras.makespanS).toBeGreaterThan(0);
    // The batch statistics cover the run, not the 600-minute horizon (which would give < 0.1):
    // the engine is busy most of it, idle only while the last programs wait for tools.
    expect(fcfs.extras.makespanS).toBeLessThan(0.1 * 600 * 60);
    expect(fcfs.extras.engine?.busyShare).toBeGreaterThan(0.5);
    const plas = runSim(batch("plas"));
    expect(plas.extras.completed).toBe(24);
    expect(plas.eventLogHash).not.toBe(fcfs.eventLogHash);
  });

  it("never preempts when the engine has room for every sequence", () => {
    for (const policy of ["fcfs", "plas", "composite"] as const) {
      const r = runSim(engineConfig(3, policy, { maxBatch: 1_000, kvCapacityTokens: 10_000_000 }));
      expect(r.extras.engine?.preemptions).toBe(0);
      expect(r.extras.engine?.kvStalls).toBe(0);
      expect(r.extras.engine?.quantumEnds).toBeGreaterThan(0);
      // With nothing waiting, order cannot matter: every policy finishes programs at the same times.
      expect(r.p95Ms).toBe(
        runSim(engineConfig(3, "fcfs", { maxBatch: 1_000, kvCapacityTokens: 10_000_000 })).p95Ms,
      );
    }
  });
});

describe("bench/sched workload", () => {
  it("ends a branch at a denied approval, after the human's answer (BENCH-SCHED §3)", () => {
    const params = { mix: [0, 1, 0, 0], priorityShares: [0.2, 0.6, 0.2], underBudgetFraction: 0 };
    let denied = 0;
    for (let i = 0; i < 2_000; i++) {
      const spec = generateProgram(1, `0.${i}`, 0, params, DEFAULT_BACKEND);
      const steps = spec.stages[0]?.[0] ?? [];
      const last = steps[steps.length - 1];
      // A react agent has no tool after its last call, unless a denial cut the chain there.
      if (last && last.gapUs > 0) denied++;
    }
    // 10.8 calls a program, 5% of tools need approval, 10% of those are denied: ~4% of programs.
    expect(denied).toBeGreaterThan(20);
    expect(denied).toBeLessThan(200);
  });

  it("without HITL stalls (S1) has no hang, approval or denial, and the same programs otherwise", () => {
    const base = { mix: [0, 1, 0, 0], priorityShares: [0.2, 0.6, 0.2], underBudgetFraction: 0 };
    const gaps = (hitl: boolean) => {
      const out: number[][] = [];
      for (let i = 0; i < 400; i++) {
        const spec = generateProgram(1, `0.${i}`, 0, { ...base, hitl }, DEFAULT_BACKEND);
        out.push(spec.stages.flat(2).map((s) => s.gapUs));
      }
      return out;
    };
    const on = gaps(true);
    const off = gaps(false);
    const hung = (g: number[][]) => g.flat().filter((us) => us === WORKLOAD_LIMITS.toolTimeoutUs);
    expect(hung(on).length).toBeGreaterThan(10);
    expect(hung(off)).toEqual([]);
    // A program whose tools met no stall is drawn identically either way (a react agent has
    // ~10 tools and a 6% chance of a stall at each: about half of them).
    const same = on.filter((g, i) => JSON.stringify(g) === JSON.stringify(off[i])).length;
    expect(same).toBeGreaterThan(120);
    expect(same).toBeLessThan(300);
    // Denials cut branches short, hangs and approvals add time: turning them off changes both.
    expect(off.flat().length).toBeGreaterThan(on.flat().length);
    const total = (g: number[][]) => g.flat().reduce((a, b) => a + b, 0);
    expect(total(off)).toBeLessThan(total(on) / 2);
  });
});

describe("bench/sched gate over seeds", () => {
  const row = (seed: number, policy: string, tokMs: number, floorMs: number): SimResult =>
    ({
      scenario: "s",
      seed,
      policy,
      load: 0.8,
      p95Ms: tokMs * 10,
      p95TokenLatencyMs: tokMs,
      extras: { p95IsolatedTokenLatencyMs: floorMs, p95IsolatedMs: floorMs * 10 },
    }) as SimResult;

  it("reads every policy against FCFS of the same seed, with the worst seed and a 95% CI", () => {
    const rows = [
      row(1, "fcfs", 100, 50),
      row(1, "plas", 50, 50),
      row(1, "fair-plas", 55, 50),
      row(2, "fcfs", 200, 150),
      row(2, "plas", 160, 150),
      row(2, "fair-plas", 200, 150),
    ];
    const g = summariseGate(rows, "p95TokenLatencyMs", 0.6, "fair-plas");
    expect(g?.seeds).toEqual([1, 2]);
    expect(g?.policies.plas?.perSeed).toEqual([0.5, 0.8]);
    expect(g?.policies.plas?.worst).toBe(0.8);
    expect(g?.policies.plas?.worstSeed).toBe(2);
    expect(g?.policies.plas?.heldSeeds).toBe(1);
    expect(g?.floor.perSeed).toEqual([0.5, 0.75]);
    expect(g?.best).toBe("plas");
    expect(g?.defaultPolicy).toBe("fair-plas");
    expect(g?.defaultVsPlas?.perSeed).toEqual([1.1, 1.25]);
    // Two seeds: t = 12.706, sd of [0.5, 0.8] = 0.2121…, so ±1.906.
    expect(g?.policies.plas?.ci95).toBeCloseTo(1.906, 3);
    expect(meanCi95([3]).halfWidth).toBeNaN();
  });
});

describe("bench/sched decision cost", () => {
  it("keeps every policy's pool at its size while it serves, so each decision sees the full queue", () => {
    const makers = new Map(
      POLICY_NAMES.map((name) => [name, () => createPolicy(name, {} as never)] as const),
    );
    let ticks = 0;
    const clocks = { cpuUs: () => ticks++, wallNs: () => BigInt(ticks++) * 1_000n };
    const options = {
      queued: 500,
      batchPicks: 20,
      batches: 3,
      warmupCycles: 50,
      seed: 1,
      tenantWeights: [1, 1, 2, 4],
      priorityShares: [0.2, 0.6, 0.2],
    };
    const results = measureDecisionCosts(makers, options, clocks);
    expect([...results.keys()]).toEqual(POLICY_NAMES);
    for (const r of results.values()) expect(r.batches).toBe(3);
    for (const name of POLICY_NAMES) {
      const pool = new QueuedPool(() => createPolicy(name, {} as never), options);
      for (let i = 0; i < 2_000; i++) pool.cycle();
      expect(pool.policy.size()).toBe(500);
    }
  });
});
