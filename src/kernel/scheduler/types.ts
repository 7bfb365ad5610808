/**
 * The scheduler's one interface, shaped like the kernel's `struct sched_ext_ops`: a policy is a
 * small table of callbacks the Scheduler Durable Object (or the simulator) calls at fixed points.
 *
 *   sched_ext op      here        when the caller invokes it
 *   ───────────────   ─────────   ─────────────────────────────────────────────────────────
 *   enqueue           enqueue     a process asks for a run lease (its next model call)
 *   dispatch          pick        capacity is free: which queued request runs next
 *   stopping          charge      a lease ended: the tokens it consumed and how long it ran
 *   dequeue           remove      a queued request is withdrawn (pause, terminate, timeout)
 *   exit_task         forget      a process ended: drop what the policy remembers of it
 *   dump              exportState the Durable Object persists this between evictions
 *
 * Policies never read a clock: every callback that depends on time takes `nowMs`.
 */

import { PRIORITY_MAX } from "../process/record.js";

/** 0 interactive, 1 normal, 2 batch; lower runs first. Same scale as the process record. */
export type PriorityClass = number;

/** How many priority classes there are (0..PRIORITY_MAX). */
export const PRIORITY_CLASSES = PRIORITY_MAX + 1;

/** Limits every policy enforces, so a runaway caller cannot grow a queue without bound. */
export const SCHED_LIMITS = {
  /** Queued (not running) requests per policy instance. */
  maxQueuedTasks: 100_000,
  /** Largest token count a single request may declare. */
  maxTokensPerTask: 10_000_000,
} as const;

/** One request for a run lease: the next model call of a process. */
export interface SchedTask {
  /** Unique among queued and running requests; a retried call may reuse its id once it left. */
  taskId: string;
  processId: string;
  tenantId: string;
  priority: PriorityClass;
  /** When the process first asked; retries keep the original so FCFS does not punish them. */
  enqueuedAtMs: number;
  /** Prompt size, known before the call because the process has built its context. */
  inputTokens: number;
  /** The output cap the process asks for; a budget may grant less. */
  maxOutputTokens: number;
  /** The process's total token budget, or null for none. */
  budgetTokens: number | null;
  /** Tokens the process has spent so far, as its own record says. */
  spentTokens: number;
  /**
   * The thread of its process this request continues (a branch of a tree search), for policies
   * that follow a program's critical path (ATLAS). Absent: the process is one thread.
   */
  threadId?: string;
}

/** What `pick` hands the caller. */
export type Decision =
  | {
      kind: "run";
      task: SchedTask;
      /** Pass this as the call's max output tokens: it is how budget overspend stays bounded. */
      maxOutputTokens: number;
    }
  | {
      kind: "end";
      task: SchedTask;
      /** The process must end in this state; its other queued requests should be removed. */
      reason: "budget_exhausted";
    };

export type EnqueueRefusal = "budget_exhausted" | "queue_full" | "duplicate";

export type EnqueueResult = { ok: true } | { ok: false; reason: EnqueueRefusal };

/** What a finished (or failed, or reclaimed) lease consumed. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Time the call held capacity; PLAS compares it to waiting time for anti-starvation. */
  runMs: number;
}

/** The usage of a lease that never reached the model: charging it undoes a pick. */
export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0, runMs: 0 });

/** A policy's dynamic state as plain JSON; options are not state and are given at creation. */
export interface PolicyState {
  policy: string;
  version: 1;
  data: unknown;
}

/** The scheduling policy interface. See the table at the top of this file. */
export interface SchedPolicy {
  readonly name: string;
  /** Queue a lease request. Refusals say why; the caller records the reason in the status. */
  enqueue(task: SchedTask, nowMs: number): EnqueueResult;
  /**
   * Choose the next request to run, removing it from the queue; null when nothing is runnable.
   * A pick already books the lease (budget reservation, VTC input charge). If the caller cannot
   * send it yet (tokens/min short, pool paused by a 429), it should hold it and send it before
   * picking again; to put it back instead, undo the pick with `charge(task, ZERO_USAGE)` and
   * only then `enqueue` it again.
   */
  pick(nowMs: number): Decision | null;
  /** Account a finished lease (also a failed call or a 429, whose usage may be zero). */
  charge(task: SchedTask, usage: Usage, nowMs: number): void;
  /** Withdraw a queued request; returns it, or null if it was not queued. */
  remove(taskId: string): SchedTask | null;
  /**
   * Drop per-process accounting once the process has ended, its queued requests were removed
   * and its running leases were charged (a later charge would recreate the account).
   */
  forget(processId: string): void;
  /**
   * Optional: how urgent the request `pick` would return is, lower first; null when nothing is
   * queued. Ranks compare between instances of the same policy with the same options, so a
   * layer choosing between children (VTC with slack) can run the most urgent eligible one. It
   * may apply what time alone changes (a due promotion), exactly as `pick` at `nowMs` would.
   */
  peekRank?(nowMs: number): number | null;
  /** Queued requests (including ones a budget layer holds back). */
  size(): number;
  /** Remove and return every queued request, e.g. to move them to a new policy. */
  drain(): SchedTask[];
  exportState(): PolicyState;
  /** Replace the dynamic state with one produced by `exportState` of the same policy. */
  importState(state: PolicyState): void;
}

/** Builds a fresh policy; layers use it to create one child per class or tenant. */
export type PolicyFactory = () => SchedPolicy;

/** Service in weighted tokens, as VTC counts it: output tokens cost more than input tokens. */
export interface ServiceWeights {
  inputWeight: number;
  outputWeight: number;
}

/** VTC's weights: an output token costs two input tokens. */
export const DEFAULT_SERVICE_WEIGHTS: ServiceWeights = { inputWeight: 1, outputWeight: 2 };

/** Weighted service of a usage. */
export function serviceTokens(
  usage: Pick<Usage, "inputTokens" | "outputTokens">,
  w: ServiceWeights,
) {
  return w.inputWeight * usage.inputTokens + w.outputWeight * usage.outputTokens;
}
