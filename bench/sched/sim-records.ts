/**
 * The simulator's own records of what runs: a program (one agent process) and one of its model
 * calls, shared by the event loop (`sim.ts`), the engine driver (`sim-engine.ts`) and the
 * summary (`sim-summary.ts`).
 */

import type { Permit } from "../../src/kernel/capacity/limiter.js";
import type { SchedTask } from "../../src/kernel/scheduler/types.js";
import type { ProgramSpec, StepSpec } from "./workload.js";

export const US_PER_MS = 1_000;

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
