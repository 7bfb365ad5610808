/**
 * The simulator's own records of what runs: a program (one agent process) and one of its model
 * calls, shared by the event loop (`sim.ts`), the engine driver (`sim-engine.ts`) and the
 * summary (`sim-summary.ts`).
 */

import type { Permit } from "../../src/kernel/capacity/limiter.js";
import type { Decision, SchedPolicy, SchedTask } from "../../src/kernel/scheduler/types.js";
import type { EventHash } from "./hash.js";
import type { ProgramSpec, StepSpec } from "./workload.js";

export const US_PER_MS = 1_000;

/** What the loop's events are; `a` and `ref` of each are described where it is raised. */
export enum EventKind {
  Arrival = 0,
  CallEnd = 1,
  StepReady = 2,
  Retry = 3,
  Wake = 4,
  AgentStart = 5,
  EngineTick = 6,
  LaneRelease = 7,
}

/**
 * What a backend driver (`sim-api.ts`, `sim-engine.ts`) needs from the event loop: the steps
 * both backends take around a model call.
 */
export interface BackendHost {
  readonly policy: SchedPolicy;
  readonly hash: EventHash;
  nowUs(): number;
  /**
   * The policy's next decision, with the bookkeeping every pick needs; an `end` decision has
   * already ended its program.
   */
  pickNext(nowMs: number): Decision | null;
  call(taskId: string): Call | undefined;
  /** A picked request left the queue. */
  leftQueue(task: SchedTask): void;
  /** A request waited this long before it ran. */
  waited(priority: number, waitUs: number): void;
  /** Weighted service a tenant received over [fromUs, toUs). */
  served(tenant: number, weightedTokens: number, fromUs: number, toUs: number): void;
  /** A call of a program that already ended came back: its tokens were wasted. */
  discard(call: Call, usedTokens: number): void;
  /** A call produced all its output: its step is done. */
  finished(call: Call): void;
}

export type ProgramStatus = "running" | "exited" | "failed" | "budget_exhausted";

export interface Program {
  idx: number;
  id: string;
  spec: ProgramSpec;
  agent: number;
  arrivalUs: number;
  endUs: number;
  status: ProgramStatus;
  stage: number;
  pendingBranches: number;
  branchStep: number[];
  spentTokens: number;
  queued: Set<string>;
  inFlight: number;
  remainingWorkUs: number;
  /** Engine mode: calls admitted so far (the first one only hits the system prompt in cache). */
  admittedCalls: number;
  /** Completion time on an idle backend: a lower bound for this program. */
  isolatedUs: number;
}

export interface Call {
  prog: Program;
  branch: number;
  step: StepSpec;
  task: SchedTask;
  attempts: number;
  rateLimits: number;
  queuedAtUs: number;
  permit: Permit | null;
  grant: number;
  startUs: number;
  outputTokens: number;
  failed: boolean;
  /** Engine mode: tokens produced so far over all quanta. */
  generated: number;
  /** Engine mode: the most this call may produce (its length, cut by the budget's grants). */
  outputCap: number;
  /** Engine mode: prompt tokens served from the prefix cache, fixed at first admission. */
  cachedTokens: number;
  /** Engine mode: its quantum just ended and its KV is still in place. */
  resident: boolean;
  /** Engine mode: preempted; its KV must be recomputed when it resumes. */
  evicted: boolean;
}
