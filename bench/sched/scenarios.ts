/**
 * The named scenarios (BENCH-SCHED §6, adapted to the hosted-API backend). Each expands into
 * cases (one per load level); every case runs every policy. Capacity is calibrated once from a
 * fixed sample, so a load level means the same offered work whatever the seed.
 */

import { type BackendParams, DEFAULT_BACKEND } from "./backend.js";
import type { ArrivalModel, ClientParams, SimConfig } from "./sim.js";
import { calibrate, type WorkloadParams } from "./workload.js";

/** Fair-share weights of the four tenants; tenant 0 is the noisy neighbour. */
export const TENANT_WEIGHTS = [1, 1, 2, 4] as const;
export const TENANT_WEIGHT_MAP: Record<string, number> = Object.fromEntries(
  TENANT_WEIGHTS.map((w, t) => [`t${t}`, w]),
);
const WEIGHT_SUM = TENANT_WEIGHTS.reduce((a, b) => a + b, 0);
/** Tenants offer load in proportion to their weights, so fair share equals demand share on average. */
const TENANT_SHARES = TENANT_WEIGHTS.map((w) => w / WEIGHT_SUM);

/** chat, react, mcts, coding. */
const MIXED: readonly number[] = [0.32, 0.32, 0.32, 0.04];
const STORM_MIX: readonly number[] = [0.4, 0.4, 0.2, 0];
const PRIORITY_SHARES = [0.2, 0.6, 0.2];

export interface Case {
  load: number;
  config: Omit<SimConfig, "seed" | "policy" | "makePolicy">;
  /** Extra client stacks to run with FCFS only (the storm's uncoordinated baseline). */
  naiveBaseline: boolean;
}

export interface Scenario {
  name: string;
  description: string;
  cases(quick: boolean): Case[];
}

const MIN = 60_000_000;
/**
 * Open-loop runs measure programs arriving between these shares of the arrival period: coding
 * agents run for about an hour, so the first third is warm-up before demand is steady, and the
 * last sixth arrives too late to see steady load for most of its life.
 */
const WARMUP_SHARE = 1 / 3;
const MEASURE_END_SHARE = 5 / 6;

function kernelClient(backend: BackendParams): ClientParams {
  return {
    mode: "kernel",
    limits: {
      maxConcurrent: backend.maxConcurrent,
      requestsPerMin: backend.requestsPerMin,
      tokensPerMin: backend.tokensPerMin,
    },
    retry: { baseMs: 500, capMs: 30_000, maxAttempts: 5 },
    maxRateLimitRetries: 20,
    naiveRetryDelayMs: 200,
    maxOutputTokens: 4_096,
  };
}

/**
 * The pool of the open-loop scenarios, sized like a typical API-key tier: 1M tokens/min is the
 * binding limit, as it is for most hosted APIs; 32 concurrent calls is above the ~10 calls in
 * flight at full load, and requests/min is twice what full load needs.
 *
 * Pool size matters. In a pool much larger than one agent's demand (tried: 6M tokens/min, 256
 * concurrent) per-minute demand is the sum of many agents, smooth enough that the one-minute
 * bucket never empties below ~97% load and every policy ties; likewise with concurrency as the
 * only limit, the provider's slowdown band above 0.8·C soaks up bursts.
 */
export const OPEN_POOL = { maxConcurrent: 32, tokensPerMin: 1_000_000 } as const;

/**
 * An open-loop case at offered load ρ: programs arrive at ρ × TPM / (mean tokens per program),
 * so ρ is the offered share of the pool's tokens/min.
 */
function openCase(
  scenario: string,
  rho: number,
  workload: WorkloadParams,
  durationUs: number,
  burst: Extract<ArrivalModel, { kind: "open" }>["burst"],
): Case {
  const cal = calibrate(workload, DEFAULT_BACKEND);
  const saturationPerSec = OPEN_POOL.tokensPerMin / 60 / cal.tokens;
  const backend: BackendParams = {
    ...DEFAULT_BACKEND,
    maxConcurrent: OPEN_POOL.maxConcurrent,
    tokensPerMin: OPEN_POOL.tokensPerMin,
    requestsPerMin: Math.ceil(2 * saturationPerSec * cal.calls * 60),
  };
  return {
    load: rho,
    naiveBaseline: false,
    config: {
      scenario,
      load: rho,
      workload,
      tenantWeights: TENANT_WEIGHTS,
      arrivals: {
        kind: "open",
        programsPerSec: rho * saturationPerSec,
        tenantShares: TENANT_SHARES,
        burst,
      },
      durationUs,
      measureFromUs: Math.floor(durationUs * WARMUP_SHARE),
      measureToUs: Math.floor(durationUs * MEASURE_END_SHARE),
      backend,
      client: kernelClient(backend),
      windowUs: MIN,
      maxEvents: 20_000_000,
    },
  };
}

const workload = (underBudgetFraction: number, mix = MIXED): WorkloadParams => ({
  mix,
  priorityShares: PRIORITY_SHARES,
  underBudgetFraction,
});

export const SCENARIOS: Scenario[] = [
  {
    name: "mixed",
    description:
      "S1 mixed programs (chat/react/mcts/coding), open loop, load sweep 50%–95% of capacity",
    cases: (quick) =>
      (quick ? [0.5, 0.8, 0.95] : [0.5, 0.6, 0.7, 0.8, 0.9, 0.95]).map((rho) =>
        openCase("mixed", rho, workload(0), (quick ? 180 : 720) * MIN, null),
      ),
  },
  {
    name: "noisy",
    description:
      "S2 noisy neighbour: tenant 0 bursts at 10× its mean rate (on ~10% of the time, 10 min on average), load 90%",
    cases: (quick) => [
      openCase("noisy", 0.9, workload(0), (quick ? 180 : 720) * MIN, {
        tenant: 0,
        factor: 10,
        meanOnUs: 10 * MIN,
      }),
    ],
  },
  {
    name: "priority",
    description: "S3 priority under overload: load 110%, classes p0/p1/p2 = 20/60/20%",
    cases: (quick) => [openCase("priority", 1.1, workload(0), (quick ? 120 : 360) * MIN, null)],
  },
  {
    name: "budgets",
    description: "S5 budgets: 10% of programs get 0.5× their need (the rest 1.5×), load 80%",
    cases: (quick) => [openCase("budgets", 0.8, workload(0.1), (quick ? 180 : 720) * MIN, null)],
  },
  {
    name: "storm",
    description:
      "S4 rate-limit storm: closed loop N agents, provider RPM/TPM half what the pool is configured with, 2% 502s",
    cases: (quick) =>
      (quick ? [5, 50] : [5, 10, 20, 50]).map((agents) => {
        const backend: BackendParams = {
          ...DEFAULT_BACKEND,
          requestsPerMin: 600,
          tokensPerMin: 300_000,
          failProbability: 0.02,
        };
        const client = kernelClient(backend);
        // The pool believes it has twice the provider's real quota (shared key, stale config).
        client.limits = { ...client.limits, requestsPerMin: 1_200, tokensPerMin: 600_000 };
        const durationUs = (quick ? 10 : 30) * MIN;
        return {
          load: agents,
          naiveBaseline: true,
          config: {
            scenario: "storm",
            load: agents,
            workload: workload(0, STORM_MIX),
            tenantWeights: TENANT_WEIGHTS,
            arrivals: { kind: "closed", agents, agentTenants: [0, 1, 2, 2, 3, 3, 3, 3] },
            durationUs,
            measureFromUs: Math.floor(durationUs * 0.1),
            measureToUs: durationUs,
            backend,
            client,
            windowUs: MIN,
            maxEvents: 20_000_000,
          },
        };
      }),
  },
];

/** The scenario called `name`, or undefined. */
export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
