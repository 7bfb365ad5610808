/**
 * The named scenarios (BENCH-SCHED §6). Each expands into cases (one per load level); every case
 * runs every policy. Capacity is calibrated once from a fixed sample, so a load level means the
 * same offered work whatever the seed.
 *
 * S1 (mixed programs) runs on several backends, because whether ordering can matter at all
 * depends on what the binding limit is: `mixed-engine` is S1 as BENCH-SCHED specifies it (engine
 * mode B), `mixed-engine-kv` the same on an engine with little KV memory, `mixed-api` the
 * hosted-API pool bound by tokens/min, `mixed-api-c16` / `mixed-api-c8` API pools bound by
 * concurrency. S1's programs have tools but no human-in-the-loop stalls (`s1Workload`);
 * `mixed-engine-kv-hitl` is the KV-scarce engine with them. The other scenarios run on the
 * hosted API, with the stalls.
 */

import { DEFAULT_POLICY } from "../../src/kernel/scheduler/registry.js";
import { type BackendParams, DEFAULT_BACKEND } from "./backend.js";
import {
  DEFAULT_ENGINE,
  type EngineCapacity,
  type EngineParams,
  engineCapacity,
} from "./engine.js";
import type { ArrivalModel, ClientParams, SimConfig } from "./sim-types.js";
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
/** BENCH-SCHED S1: chat + react + mcts in equal shares (the engine scenarios). */
const S1_MIX: readonly number[] = [1 / 3, 1 / 3, 1 / 3, 0];
const STORM_MIX: readonly number[] = [0.4, 0.4, 0.2, 0];
const PRIORITY_SHARES = [0.2, 0.6, 0.2];

export interface Case {
  load: number;
  config: Omit<SimConfig, "seed" | "policy" | "makePolicy">;
}

/** A client stack other than the kernel's, run as a baseline (S4's naive retries, S6's held lanes). */
export interface ClientBaseline {
  /** The row's policy label, e.g. "fcfs+naive-retry". */
  label: string;
  /** The bench label of the policy it runs. */
  policy: string;
  client: Partial<ClientParams>;
}

export interface Scenario {
  name: string;
  description: string;
  /** The backend and its binding limit, as the targets summary names it. */
  backend: string;
  /**
   * Client stacks other than the kernel's, each run with one policy beside the others in every
   * case. Declared here, not per case, so the policies they need are known without building the
   * cases (which calibrates load).
   */
  baselines?: readonly ClientBaseline[];
  cases(options: CaseOptions): Case[];
}

/** How long the cases run. */
export interface CaseOptions {
  /** Smoke size: minutes instead of hours, too short for contention. */
  quick: boolean;
  /** Arrival period of S1's hosted-API runs (`mixed-api*`), in hours; ignored when quick. */
  apiHours: number;
}

/** The S1 variants (one per backend shape) that the p95 target is read from. */
export const S1_PREFIX = "mixed-";
/** S6: lanes released after each call (the kernel) against held through tool waits. */
export const STALLS_SCENARIO = "stalls";
/** The label suffix of a run that holds its lanes through tool waits (S6's baseline). */
export const HOLD_LANES_SUFFIX = "+hold-lanes";
/** The S7 offline-batch scenarios, read for makespan. */
export const BATCH_PREFIX = "batch-";

const MIN = 60_000_000;
/**
 * Open-loop runs measure programs arriving between these shares of the arrival period: coding
 * agents run for about an hour, so the first third is warm-up before demand is steady, and the
 * last sixth arrives too late to see steady load for most of its life.
 */
const WARMUP_SHARE = 1 / 3;
const MEASURE_END_SHARE = 5 / 6;
const ENGINE_WARMUP_SHARE = 1 / 5;
/**
 * Simulated length of an S1 run on an engine. FCFS's p95 needs hours to settle on the KV-scarce
 * engine: its p95 token latency at 80% load, mean over seeds 1–10, was 132 ms over 40 minutes,
 * 194 over 120, 191 over 240, 182 over 480 and 218 over 960 (2026-12-07), so shorter runs
 * understate the baseline every ratio is taken to. `--quick` keeps 15 minutes.
 */
const ENGINE_RUN_MIN = 240;
const ENGINE_QUICK_RUN_MIN = 15;

/**
 * Default arrival period of S1's hosted-API runs. FCFS's p95 on these pools has not settled even
 * over 384 h (coding agents swing the offered load over hours, and every longer run meets a worse
 * overload window), while token-budget's settles by 192 h; `--api-hours` reruns them longer
 * (bench/sched/README.md, "Hosted-API pools over longer runs"). 12 h keeps the default run short.
 */
export const API_RUN_HOURS = 12;
const API_QUICK_RUN_MIN = 180;
const apiRunUs = ({ quick, apiHours }: CaseOptions) =>
  (quick ? API_QUICK_RUN_MIN : apiHours * 60) * MIN;

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

/** A hosted-API pool: the limits the provider enforces and the client is configured with. */
export interface ApiPool {
  maxConcurrent: number;
  /** null: not limited (the provider imposes no tokens/min or requests/min on this pool). */
  tokensPerMin: number | null;
  /** The limit that defines capacity, so what offered load ρ is a share of. */
  binding: "tokens/min" | "concurrency";
}

/**
 * The pool of the open-loop scenarios, sized like a typical API-key tier: 1M tokens/min is the
 * binding limit, as it is for the large hosted APIs (OpenAI, Anthropic and Workers AI publish
 * per-minute request and token limits, not concurrency caps); 32 concurrent calls is above the
 * ~10 calls in flight at full load, and requests/min is twice what full load needs.
 *
 * Pool size matters. In a pool much larger than one agent's demand (tried: 6M tokens/min, 256
 * concurrent) per-minute demand is the sum of many agents, smooth enough that the one-minute
 * bucket never empties below ~97% load and every policy ties.
 */
export const OPEN_POOL: ApiPool = {
  maxConcurrent: 32,
  tokensPerMin: 1_000_000,
  binding: "tokens/min",
};

/**
 * A pool bound by concurrency only (`mixed-api-c8`, `mixed-api-c16`): what an OpenAI-compatible
 * server run by the user imposes (Ollama's OLLAMA_NUM_PARALLEL, llama.cpp's --parallel slots,
 * vLLM's max_num_seqs on a small GPU, typically 1–16), and what the hosted providers that cap
 * concurrency publish for an account (Scaleway Generative APIs: 25 concurrent requests; Comfy's
 * API nodes: 5 for a new account up to 40). Tokens/min and requests/min are left unlimited so
 * that concurrency alone binds. See README "Pool shapes".
 */
export function concurrencyPool(maxConcurrent: number): ApiPool {
  return { maxConcurrent, tokensPerMin: null, binding: "concurrency" };
}

/** Not a limit: larger than anything the workload can ask for. */
const UNLIMITED = { requestsPerMin: 100_000_000, tokensPerMin: 10_000_000_000 } as const;

const calibrations = new Map<string, ReturnType<typeof calibrate>>();
const engineCalibrations = new Map<string, EngineCapacity>();

function calibrated(workload: WorkloadParams): ReturnType<typeof calibrate> {
  const key = JSON.stringify(workload);
  let cal = calibrations.get(key);
  if (!cal) {
    cal = calibrate(workload, DEFAULT_BACKEND);
    calibrations.set(key, cal);
  }
  return cal;
}

/** Engine capacity for a workload (memoised: the calibration sample costs ~0.2 s). */
export function calibratedEngine(workload: WorkloadParams, engine: EngineParams): EngineCapacity {
  const key = JSON.stringify([workload, engine]);
  let cap = engineCalibrations.get(key);
  if (!cap) {
    cap = engineCapacity(workload, engine);
    engineCalibrations.set(key, cap);
  }
  return cap;
}

/**
 * Programs per second the pool sustains at most: tokens/min over tokens per program when that
 * binds; with concurrency binding, C calls always in flight, each slowed by the provider's
 * full-cap factor, over call time per program.
 */
function poolCapacityPerSec(pool: ApiPool, workload: WorkloadParams): number {
  const cal = calibrated(workload);
  if (pool.binding === "tokens/min") return (pool.tokensPerMin as number) / 60 / cal.tokens;
  const slowestUs = cal.workUs * (1 + DEFAULT_BACKEND.slowdownMax);
  return (pool.maxConcurrent * 1_000_000) / slowestUs;
}

function measured(
  scenario: string,
  rho: number,
  workload: WorkloadParams,
  durationUs: number,
  programsPerSec: number,
  burst: Extract<ArrivalModel, { kind: "open" }>["burst"],
  warmupShare: number,
): Case["config"] {
  return {
    scenario,
    load: rho,
    workload,
    tenantWeights: TENANT_WEIGHTS,
    arrivals: { kind: "open", programsPerSec, tenantShares: TENANT_SHARES, burst },
    durationUs,
    measureFromUs: Math.floor(durationUs * warmupShare),
    measureToUs: Math.floor(durationUs * MEASURE_END_SHARE),
    backend: DEFAULT_BACKEND,
    client: kernelClient(DEFAULT_BACKEND),
    windowUs: MIN,
    maxEvents: 20_000_000,
  };
}

/**
 * An open-loop case on a hosted-API pool at offered load ρ: programs arrive at ρ × the pool's
 * capacity in programs/s (see `poolCapacityPerSec`).
 */
function openCase(
  scenario: string,
  rho: number,
  workload: WorkloadParams,
  durationUs: number,
  burst: Extract<ArrivalModel, { kind: "open" }>["burst"],
  pool: ApiPool = OPEN_POOL,
): Case {
  const cal = calibrated(workload);
  const saturationPerSec = poolCapacityPerSec(pool, workload);
  const backend: BackendParams = {
    ...DEFAULT_BACKEND,
    maxConcurrent: pool.maxConcurrent,
    ...(pool.tokensPerMin === null
      ? UNLIMITED
      : {
          tokensPerMin: pool.tokensPerMin,
          requestsPerMin: Math.ceil(2 * saturationPerSec * cal.calls * 60),
        }),
  };
  const config = measured(
    scenario,
    rho,
    workload,
    durationUs,
    rho * saturationPerSec,
    burst,
    WARMUP_SHARE,
  );
  return {
    load: rho,
    config: { ...config, backend, client: kernelClient(backend) },
  };
}

/**
 * An open-loop case on a self-hosted engine (backend model B) at offered load ρ of its capacity
 * (`engineCapacity`: a batch kept full). Agentic programs here last minutes, not hours (no coding
 * agents, and the engine decodes a token in ~20 ms under load), so runs are shorter than on the
 * API pools and the first fifth is warm-up.
 */
function engineCase(
  scenario: string,
  rho: number,
  workload: WorkloadParams,
  engine: EngineParams,
  durationUs: number,
): Case {
  const cap = calibratedEngine(workload, engine);
  const config = measured(
    scenario,
    rho,
    workload,
    durationUs,
    rho * cap.programsPerSec,
    null,
    ENGINE_WARMUP_SHARE,
  );
  return {
    load: rho,
    config: { ...config, engine: { params: engine, decodeTokenUs: cap.decodeTokenUs } },
  };
}

const workload = (underBudgetFraction: number, mix = MIXED, hitl = true): WorkloadParams => ({
  mix,
  priorityShares: PRIORITY_SHARES,
  underBudgetFraction,
  hitl,
});

/**
 * S1's programs: tools between model calls, but no human-in-the-loop stalls (hung tools,
 * approvals), which BENCH-SCHED puts in their own scenario (S6): a wait for a person is time no
 * order of model calls can shorten. With them, an idle backend already gives 0.86× FCFS's p95
 * completion at 80% load on the KV-scarce engine (10-seed mean, 2026-12-07), so no policy can
 * show what it does; `mixed-engine-kv-hitl` keeps measuring that case.
 */
const s1Workload = (mix: readonly number[]): WorkloadParams => workload(0, mix, false);

/**
 * The S1 engine: BENCH-SCHED's iteration costs with vLLM's default batch cap (256) and the KV
 * cache an 8B model in bf16 (128 KiB of KV per token) gets on one 80 GB GPU at vLLM's default
 * gpu_memory_utilization 0.9 (~72 GB − 16 GB of weights − activations ≈ 50 GB ≈ 400k tokens).
 */
const ENGINE: EngineParams = DEFAULT_ENGINE;
/**
 * The same model on a 24 GB GPU (L4, A10G): ~21.6 GB usable − 16 GB of weights − activations
 * leaves ~4 GB, about 32k tokens of KV, so memory, not the batch cap, limits the batch.
 */
const SMALL_KV_ENGINE: EngineParams = { ...DEFAULT_ENGINE, kvCapacityTokens: 32_000 };
/**
 * The same engine admitting around a head that does not fit the free KV (up to 8 later picks,
 * and at most 64 around one head): what an engine scheduler could do that vLLM's does not.
 */
const BACKFILL_ENGINE: EngineParams = {
  ...SMALL_KV_ENGINE,
  backfillLookahead: 8,
  backfillMaxSkips: 64,
};

/**
 * S7 offline batch: `programs` S1 programs submitted at t = 0 to an engine; `load` is the
 * program count. Every program is measured; the run ends when the last one does (makespan).
 * The horizon only bounds the engine's batch statistics, which cover the whole run.
 */
function batchCase(scenario: string, programs: number, engine: EngineParams): Case {
  const s1 = s1Workload(S1_MIX);
  const cap = calibratedEngine(s1, engine);
  const horizonUs = 48 * 60 * MIN;
  return {
    load: programs,
    config: {
      scenario,
      load: programs,
      workload: s1,
      tenantWeights: TENANT_WEIGHTS,
      arrivals: { kind: "batch", programs, tenantShares: TENANT_SHARES },
      durationUs: horizonUs,
      measureFromUs: 0,
      measureToUs: 1,
      backend: DEFAULT_BACKEND,
      client: kernelClient(DEFAULT_BACKEND),
      windowUs: MIN,
      maxEvents: 20_000_000,
      engine: { params: engine, decodeTokenUs: cap.decodeTokenUs },
    },
  };
}

/**
 * S6 tool-heavy and HITL stalls: the hosted-API mix with BENCH-SCHED §3's stalls (1% of tools
 * hang until reaped at 60 s; 5% wait for an approval, median 30 s) on a pool of 16 concurrent
 * calls, so lanes bind. Every policy runs as the kernel does, holding a lane for one model call;
 * FCFS and the default stack run again holding it through each tool or approval wait after a
 * call, as a semaphore around a whole agent step would. ρ is calibrated on model-call time
 * alone, so the held lanes' extra demand shows as load.
 */
function stallsCase(rho: number, quick: boolean): Case {
  const base = openCase(
    STALLS_SCENARIO,
    rho,
    workload(0, MIXED, true),
    (quick ? 180 : 720) * MIN,
    null,
    concurrencyPool(16),
  );
  return {
    ...base,
    config: { ...base.config, client: { ...base.config.client, holdLanes: false } },
  };
}

/** S6's baselines: the same policies holding their lane through each tool wait. */
const HOLD_LANES_BASELINES: readonly ClientBaseline[] = [
  { label: `fcfs${HOLD_LANES_SUFFIX}`, policy: "fcfs", client: { holdLanes: true } },
  {
    label: `${DEFAULT_POLICY}${HOLD_LANES_SUFFIX}`,
    policy: DEFAULT_POLICY,
    client: { holdLanes: true },
  },
];

const STALLS_LOADS = [0.3, 0.5, 0.6, 0.7, 0.8];

/** BENCH-SCHED S7's batch sizes (1,000–4,000 programs). */
const BATCH_SIZES = [1_000, 4_000];
const QUICK_BATCH_SIZES = [250];

const LOADS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
const QUICK_LOADS = [0.5, 0.8, 0.95];

export const SCENARIOS: Scenario[] = [
  {
    name: "mixed-engine",
    backend: `engine B=${ENGINE.maxBatch}, KV ${ENGINE.kvCapacityTokens / 1_000}k tokens`,
    description: `S1 mixed programs (chat/react/mcts equal shares, tools but no HITL stalls) on a self-hosted engine (model B: B=${ENGINE.maxBatch}, KV ${ENGINE.kvCapacityTokens / 1_000}k tokens, quantum ${ENGINE.quantumTokens} tokens), load sweep 50%–95% of capacity`,
    cases: ({ quick }) =>
      (quick ? QUICK_LOADS : LOADS).map((rho) =>
        engineCase(
          "mixed-engine",
          rho,
          s1Workload(S1_MIX),
          ENGINE,
          (quick ? ENGINE_QUICK_RUN_MIN : ENGINE_RUN_MIN) * MIN,
        ),
      ),
  },
  {
    name: "mixed-engine-kv",
    backend: `engine B=${SMALL_KV_ENGINE.maxBatch}, KV ${SMALL_KV_ENGINE.kvCapacityTokens / 1_000}k tokens`,
    description: `S1 on an engine short of KV memory (B=${SMALL_KV_ENGINE.maxBatch}, KV ${SMALL_KV_ENGINE.kvCapacityTokens / 1_000}k tokens), load sweep 50%–95% of capacity`,
    cases: ({ quick }) =>
      (quick ? QUICK_LOADS : LOADS).map((rho) =>
        engineCase(
          "mixed-engine-kv",
          rho,
          s1Workload(S1_MIX),
          SMALL_KV_ENGINE,
          (quick ? ENGINE_QUICK_RUN_MIN : ENGINE_RUN_MIN) * MIN,
        ),
      ),
  },
  {
    name: "mixed-engine-kv-hitl",
    backend: `engine B=${SMALL_KV_ENGINE.maxBatch}, KV ${SMALL_KV_ENGINE.kvCapacityTokens / 1_000}k tokens, HITL stalls`,
    description: `mixed-engine-kv with human-in-the-loop stalls (1% of tool calls hang until reaped at 60 s, 5% wait for an approval, median 30 s): how much of p95 is time no scheduler can touch`,
    cases: ({ quick }) =>
      (quick ? QUICK_LOADS : LOADS).map((rho) =>
        engineCase(
          "mixed-engine-kv-hitl",
          rho,
          workload(0, S1_MIX, true),
          SMALL_KV_ENGINE,
          (quick ? ENGINE_QUICK_RUN_MIN : ENGINE_RUN_MIN) * MIN,
        ),
      ),
  },
  {
    name: "mixed-engine-kv-backfill",
    backend: `engine B=${BACKFILL_ENGINE.maxBatch}, KV ${BACKFILL_ENGINE.kvCapacityTokens / 1_000}k tokens, backfill ${BACKFILL_ENGINE.backfillLookahead}`,
    description: `mixed-engine-kv on an engine that backfills: a request that fits the free KV may be admitted around a head that does not (up to ${BACKFILL_ENGINE.backfillLookahead} picks ahead, ${BACKFILL_ENGINE.backfillMaxSkips} around one head)`,
    cases: ({ quick }) =>
      (quick ? QUICK_LOADS : LOADS).map((rho) =>
        engineCase(
          "mixed-engine-kv-backfill",
          rho,
          s1Workload(S1_MIX),
          BACKFILL_ENGINE,
          (quick ? ENGINE_QUICK_RUN_MIN : ENGINE_RUN_MIN) * MIN,
        ),
      ),
  },
  {
    name: "mixed-api",
    backend: "hosted API, 1M tokens/min binds (32 concurrent)",
    description:
      "S1 workload (chat/react/mcts/coding, no HITL stalls) on a hosted-API pool bound by tokens/min (1M/min, 32 concurrent), load sweep 50%–95%",
    cases: (options) =>
      (options.quick ? QUICK_LOADS : LOADS).map((rho) =>
        openCase("mixed-api", rho, s1Workload(MIXED), apiRunUs(options), null),
      ),
  },
  ...[16, 8].map(
    (c): Scenario => ({
      name: `mixed-api-c${c}`,
      backend: `hosted API, ${c} concurrent binds (tokens/min unlimited)`,
      description: `the mixed-api sweep on a pool bound by concurrency only (${c} concurrent calls, tokens/min and requests/min unlimited)`,
      cases: (options) =>
        (options.quick ? QUICK_LOADS : LOADS).map((rho) =>
          openCase(
            `mixed-api-c${c}`,
            rho,
            s1Workload(MIXED),
            apiRunUs(options),
            null,
            concurrencyPool(c),
          ),
        ),
    }),
  ),
  ...[
    { name: "batch-engine", engine: ENGINE },
    { name: "batch-engine-kv", engine: SMALL_KV_ENGINE },
  ].map(
    ({ name, engine }): Scenario => ({
      name,
      backend: `engine B=${engine.maxBatch}, KV ${engine.kvCapacityTokens / 1_000}k tokens`,
      description: `S7 offline batch: N S1 programs (chat/react/mcts) submitted at t = 0 to the engine (B=${engine.maxBatch}, KV ${engine.kvCapacityTokens / 1_000}k tokens); makespan per policy (the load column is N)`,
      cases: ({ quick }) =>
        (quick ? QUICK_BATCH_SIZES : BATCH_SIZES).map((n) => batchCase(name, n, engine)),
    }),
  ),
  {
    name: STALLS_SCENARIO,
    backend: "hosted API, 16 concurrent binds",
    description:
      "S6 tool-heavy and HITL stalls: hosted-API mix with hung tools and approvals, 16 concurrent calls; lanes released after each call (kernel) or held through each tool wait (+hold-lanes)",
    baselines: HOLD_LANES_BASELINES,
    cases: ({ quick }) => (quick ? QUICK_LOADS : STALLS_LOADS).map((rho) => stallsCase(rho, quick)),
  },
  {
    name: "noisy",
    backend: "hosted API",
    description:
      "S2 noisy neighbour: tenant 0 bursts at 10× its mean rate (on ~10% of the time, 10 min on average), load 90%",
    cases: ({ quick }) => [
      openCase("noisy", 0.9, workload(0), (quick ? 180 : 720) * MIN, {
        tenant: 0,
        factor: 10,
        meanOnUs: 10 * MIN,
      }),
    ],
  },
  {
    name: "priority",
    backend: "hosted API",
    description: "S3 priority under overload: load 110%, classes p0/p1/p2 = 20/60/20%",
    cases: ({ quick }) => [openCase("priority", 1.1, workload(0), (quick ? 120 : 360) * MIN, null)],
  },
  {
    name: "budgets",
    backend: "hosted API",
    description: "S5 budgets: 10% of programs get 0.5× their need (the rest 1.5×), load 80%",
    cases: ({ quick }) => [
      openCase("budgets", 0.8, workload(0.1), (quick ? 180 : 720) * MIN, null),
    ],
  },
  {
    name: "storm",
    backend: "hosted API",
    description:
      "S4 rate-limit storm: closed loop N agents, provider RPM/TPM half what the pool is configured with, 2% 502s",
    baselines: [{ label: "fcfs+naive-retry", policy: "fcfs", client: { mode: "naive" } }],
    cases: ({ quick }) =>
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
