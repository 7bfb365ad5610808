/**
 * First come, first served: requests run in the order processes asked (vLLM's default). The
 * baseline every other policy is measured against.
 */

import { z } from "zod";
import {
  assertTask,
  MaxQueuedSchema,
  openState,
  queueRefusal,
  SchedTaskSchema,
  sealState,
} from "./common.js";
import { HeapQueuePolicy, type QueueEntry } from "./heap-queue.js";
import type { EnqueueResult, PolicyState, SchedTask } from "./types.js";

export const FcfsOptionsSchema = z.object({
  maxQueued: MaxQueuedSchema,
});
export type FcfsOptions = z.input<typeof FcfsOptionsSchema>;

type Entry = QueueEntry;

const StateSchema = z.object({
  nextSeq: z.number().int().min(0),
  queue: z.array(z.object({ task: SchedTaskSchema, seq: z.number().int().min(0) })),
});

const earlier = (a: Entry, b: Entry) =>
  a.task.enqueuedAtMs < b.task.enqueuedAtMs ||
  (a.task.enqueuedAtMs === b.task.enqueuedAtMs && a.seq < b.seq);

/** FCFS over all requests of the pool. */
export class FcfsPolicy extends HeapQueuePolicy<Entry> {
  readonly name = "fcfs";
  private readonly maxQueued: number;

  constructor(options: FcfsOptions = {}) {
    super(earlier);
    this.maxQueued = FcfsOptionsSchema.parse(options).maxQueued;
  }

  enqueue(task: SchedTask, _nowMs: number): EnqueueResult {
    assertTask(task);
    const refusal = queueRefusal(this.queue.size, this.queue.has(task.taskId), this.maxQueued);
    if (refusal) return { ok: false, reason: refusal };
    this.queue.push({ task, seq: this.nextSeq++ });
    return { ok: true };
  }

  exportState(): PolicyState {
    const queue = this.queue.values().map((e) => ({ task: { ...e.task }, seq: e.seq }));
    return sealState(this.name, { nextSeq: this.nextSeq, queue });
  }

  importState(state: PolicyState): void {
    const data = openState(state, this.name, StateSchema);
    this.queue.clear();
    for (const e of data.queue) this.queue.push(e);
    this.nextSeq = data.nextSeq;
  }
}

/**
 * Creates an FCFS policy.
 *
 * @example const policy = createFcfsPolicy(); policy.enqueue(task, nowMs); policy.pick(nowMs);
 */
export function createFcfsPolicy(options: FcfsOptions = {}): FcfsPolicy {
  return new FcfsPolicy(options);
}
