/**
 * What a simulation is given and what it reports: the configuration a scenario builds
 * (`scenarios.ts`) and the result row `main.ts` prints and writes. The simulator is `sim.ts`.
 */

import type { RetryOptions } from "../../src/kernel/capacity/backoff.js";
import type { CapacityConfig } from "../../src/kernel/capacity/limiter.js";
import type { SchedPolicy } from "../../src/kernel/scheduler/types.js";
import type { BackendParams } from "./backend.js";
import type { EngineParams } from "./engine.js";
import type { WorkloadParams } from "./workload.js";

export interface BurstModel {
  tenant: number;
  /** Arrival rate while on, relative to the tenant's mean rate. */
  factor: number;
  meanOnUs: number;
}

export type ArrivalModel =
  | {
      kind: "open";
      programsPerSec: number;
      tenantShares: readonly number[];
      burst: BurstModel | null;
    }
  | { kind: "closed"; agents: number; agentTenants: readonly number[] }
  /** An offline batch (BENCH-SCHED S7): every program submitted at t = 0, tenants drawn by share. */
  | { kind: "batch"; programs: number; tenantShares: readonly number[] };

export interface ClientParams {
  /** kernel: CapacityLimiter with pool backoff and jittered retry; naive: resend after a fixed delay. */
  mode: "kernel" | "naive";
  /** The limits the client is configured with (may be wrong about the provider's). */
  limits: CapacityConfig;
  retry: RetryOptions;
  /** 429s one call may meet before its program fails (kernel mode). */
  maxRateLimitRetries: number;
  naiveRetryDelayMs: number;
  maxOutputTokens: number;
  /**
   * Hold the lane (the pool's concurrency slot) through the tool or approval wait after each
   * call, as a semaphore around a whole agent step does; released when the wait ends, and the
   * next call queues again. The kernel's leases cover one model call, so it never holds one:
   * this is S6's baseline (BENCH-SCHED §6, AgentRM's lane waste). Default false.
   */
  holdLanes?: boolean;
}

/** What only the SRPT oracle may ask. */
export interface Oracle {
  remainingWorkUs(processId: string): number;
}

export interface SimConfig {
  scenario: string;
  seed: number;
  /** Offered load ρ (open loop) or number of agents (closed loop); reported as is. */
  load: number;
  policy: string;
  makePolicy: (oracle: Oracle) => SchedPolicy;
  workload: WorkloadParams;
  tenantWeights: readonly number[];
  arrivals: ArrivalModel;
  /** Arrivals stop at this time; the run then drains. */
  durationUs: number;
  /** Programs arriving in [measureFromUs, measureToUs) are measured. */
  measureFromUs: number;
  measureToUs: number;
  backend: BackendParams;
  client: ClientParams;
  windowUs: number;
  /** A run that exceeds this many events is cut short (and says so). */
  maxEvents: number;
  /**
   * Backend model B: run the calls on a self-hosted engine instead of the hosted API (`backend`
   * and `client` are then unused). `decodeTokenUs` is the engine time per token at a full batch,
   * what the SRPT oracle counts work in.
   */
  engine?: { params: EngineParams; decodeTokenUs: number };
}

/** What the engine did in a model-B run. */
export interface EngineStats {
  iterations: number;
  /** Time-weighted running sequences while the engine was busy, after warm-up and before arrivals stop. */
  meanBatch: number;
  maxBatch: number;
  /** Share of that steady period with at least one sequence running. */
  busyShare: number;
  /** Quanta that ended with tokens still to produce (the sequence went back to the policy). */
  quantumEnds: number;
  /** ... of which the policy did not pick again at once: KV dropped, recomputed on resume. */
  preemptions: number;
  recomputedTokens: number;
  /** Boundaries where the policy's pick did not fit the free KV (it waited at the head). */
  kvStalls: number;
  peakKvTokens: number;
}

export interface SimResult {
  scenario: string;
  seed: number;
  policy: string;
  load: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  tokenLatencyMs: number;
  /** P95 of program token latency: BENCH-SCHED §7's S1 gate reads this one. */
  p95TokenLatencyMs: number;
  throughput: number;
  jain: number;
  inversions: number;
  failureRate: number;
  overspendTokens: number;
  eventLogHash: string;
  extras: {
    measured: number;
    completed: number;
    failed: number;
    budgetExhausted: number;
    budgetViolations: number;
    p99ByClassMs: number[];
    /** P95 completion per program kind (chat, react, mcts, coding); NaN for none. */
    p95ByKindMs: number[];
    /**
     * P95 of the measured programs' completion time on an idle backend (calls at their idle
     * latency, tool and approval time as drawn, parallel branches not slowing each other). Every
     * program takes at least that long, so no policy's p95 can be below it.
     */
    p95IsolatedMs: number;
    /**
     * P95 over the measured programs of their token latency on an idle backend (isolated
     * completion time / output tokens): how low p95 token latency could go if no program ever
     * waited for or shared the backend.
     */
    p95IsolatedTokenLatencyMs: number;
    maxWaitByClassMs: number[];
    fairWindows: number;
    maxServiceGap: number;
    rateLimited: number;
    retries: number;
    wastedTokens: number;
    events: number;
    makespanS: number;
    truncated: boolean;
    /**
     * Runs that set `holdLanes` (S6) only: lane-time (a concurrency slot held, in seconds) over
     * the run, and the share of it held while no model call was in flight (the tool and approval
     * waits under `holdLanes`; 0 without).
     */
    lanes?: { heldS: number; wasteShare: number };
    /** Model-B runs only. */
    engine?: EngineStats;
  };
}
