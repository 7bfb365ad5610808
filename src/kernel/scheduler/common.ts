/**
 * What every policy shares: the request schema, invariant checks at the boundary, queue limits
 * and the envelope around exported state.
 */

import { z } from "zod";
import { KernelError } from "../errors.js";
import {
  DEFAULT_SERVICE_WEIGHTS,
  type EnqueueRefusal,
  type PolicyState,
  PRIORITY_CLASSES,
  SCHED_LIMITS,
  type SchedTask,
} from "./types.js";

const tokenCount = z.number().int().min(0).max(SCHED_LIMITS.maxTokensPerTask);

/** Schema of a lease request; the Scheduler Durable Object parses requests with it. */
export const SchedTaskSchema = z.object({
  taskId: z.string().min(1).max(256),
  processId: z.string().min(1).max(256),
  tenantId: z.string().min(1).max(256),
  priority: z
    .number()
    .int()
    .min(0)
    .max(PRIORITY_CLASSES - 1),
  enqueuedAtMs: z.number().int().min(0),
  inputTokens: tokenCount,
  maxOutputTokens: tokenCount,
  budgetTokens: z.number().int().min(0).nullable(),
  spentTokens: z.number().int().min(0),
  threadId: z.string().min(1).max(256).optional(),
});

const isCount = (n: number, max: number) => Number.isInteger(n) && n >= 0 && n <= max;

/**
 * Asserts the invariants policies rely on. Cheap enough for the hot path, unlike a zod parse;
 * a violation is a caller bug, reported as `invalid_argument`.
 */
export function assertTask(task: SchedTask): void {
  const max = SCHED_LIMITS.maxTokensPerTask;
  const ok =
    task.taskId.length > 0 &&
    isCount(task.priority, PRIORITY_CLASSES - 1) &&
    isCount(task.enqueuedAtMs, Number.MAX_SAFE_INTEGER) &&
    isCount(task.inputTokens, max) &&
    isCount(task.maxOutputTokens, max) &&
    isCount(task.spentTokens, Number.MAX_SAFE_INTEGER) &&
    (task.budgetTokens === null || isCount(task.budgetTokens, Number.MAX_SAFE_INTEGER)) &&
    (task.threadId === undefined || (task.threadId.length > 0 && task.threadId.length <= 256));
  if (!ok) {
    throw new KernelError("invalid_argument", "malformed scheduling request", {
      taskId: task.taskId,
    });
  }
}

/** The refusal for a request that cannot be queued, or null if it can. */
export function queueRefusal(
  queued: number,
  alreadyKnown: boolean,
  maxQueued: number,
): EnqueueRefusal | null {
  if (alreadyKnown) return "duplicate";
  if (queued >= maxQueued) return "queue_full";
  return null;
}

/** Wraps a policy's data in the exported envelope. */
export function sealState(policy: string, data: unknown): PolicyState {
  return { policy, version: 1, data };
}

/**
 * Checks an envelope belongs to `policy` and parses its data, so stale or foreign state from
 * storage is rejected instead of corrupting a queue.
 */
export function openState<S extends z.ZodType>(
  state: PolicyState,
  policy: string,
  schema: S,
): z.infer<S> {
  if (state.policy !== policy || state.version !== 1) {
    throw new KernelError(
      "invalid_argument",
      `state of ${state.policy} cannot load into ${policy}`,
    );
  }
  const parsed = schema.safeParse(state.data);
  if (!parsed.success) {
    throw new KernelError("invalid_argument", `corrupt ${policy} state`, {
      issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  return parsed.data;
}

/** Schema of the envelope, for states nested inside other states. */
export const PolicyStateSchema = z.object({
  policy: z.string(),
  version: z.literal(1),
  data: z.unknown(),
});

/** `maxQueued`: the queue bound every policy takes (at most SCHED_LIMITS.maxQueuedTasks). */
export const MaxQueuedSchema = z
  .number()
  .int()
  .min(1)
  .max(SCHED_LIMITS.maxQueuedTasks)
  .default(SCHED_LIMITS.maxQueuedTasks);

/** The service weights of an input and an output token (VTC's 1 and 2 by default). */
export const ServiceWeightOptions = {
  inputWeight: z.number().min(0).default(DEFAULT_SERVICE_WEIGHTS.inputWeight),
  outputWeight: z.number().min(0).default(DEFAULT_SERVICE_WEIGHTS.outputWeight),
};

/**
 * Increasing token thresholds between queue levels (K = length + 1 levels), as MLFQ and PLAS
 * take them.
 *
 * @example levelThresholdsSchema([4_096, 16_384])
 */
export function levelThresholdsSchema(defaults: number[]) {
  return z
    .array(z.number().int().min(1))
    .min(1)
    .max(15)
    .refine((t) => t.every((v, i) => i === 0 || v > (t[i - 1] as number)), "must increase")
    .default(defaults);
}
