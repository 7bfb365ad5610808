/**
 * Priority classes with linear aging (no starvation). A request's effective priority improves
 * by one class every `agingMs` it waits, so a batch request that has waited 2·agingMs longer
 * than an interactive one goes first. With `agingMs: null` this is vLLM's strict priority.
 *
 * Effective priority at time t is `class − (t − enqueuedAt) / agingMs`; since t is common to all
 * requests, ordering by it equals ordering by the static key `class·agingMs + enqueuedAt`, which
 * a heap keeps without ever re-scanning waiting requests.
 *
 * Each class holds a child policy (FCFS unless told otherwise): the composite policy puts fair
 * share and PLAS inside the classes. The class to serve is the one whose oldest request has the
 * smallest key; the child then chooses which of its requests runs.
 */

import { z } from "zod";
import { KernelError } from "../errors.js";
import {
  assertTask,
  MaxQueuedSchema,
  openState,
  PolicyStateSchema,
  queueRefusal,
  sealState,
} from "./common.js";
import { FcfsPolicy } from "./fcfs.js";
import { IndexedHeap } from "./heap.js";
import {
  type Decision,
  type EnqueueResult,
  type PolicyFactory,
  type PolicyState,
  PRIORITY_CLASSES,
  type SchedPolicy,
  type SchedTask,
  type Usage,
} from "./types.js";

export const PriorityOptionsSchema = z.object({
  /** Wait that buys one class of priority; null for strict priority (starvation possible). */
  agingMs: z.number().int().min(1).max(86_400_000).nullable().default(30_000),
  maxQueued: MaxQueuedSchema,
});
export type PriorityOptions = z.input<typeof PriorityOptionsSchema>;

interface Age {
  taskId: string;
  enqueuedAtMs: number;
  seq: number;
}

interface ClassQueue {
  child: SchedPolicy;
  /** The class's requests by age, to find its oldest in O(1). */
  ages: IndexedHeap<Age>;
}

const AgeSchema = z.object({
  taskId: z.string(),
  enqueuedAtMs: z.number().int(),
  seq: z.number().int(),
});
const StateSchema = z.object({
  nextSeq: z.number().int().min(0),
  classes: z.array(z.object({ child: PolicyStateSchema, ages: z.array(AgeSchema) })),
});

const older = (a: Age, b: Age) =>
  a.enqueuedAtMs < b.enqueuedAtMs || (a.enqueuedAtMs === b.enqueuedAtMs && a.seq < b.seq);

/** Priority classes with aging, each class delegating to a child policy. */
export class PriorityPolicy implements SchedPolicy {
  readonly name = "priority";
  readonly agingMs: number | null;
  private readonly maxQueued: number;
  private readonly classes: ClassQueue[] = [];
  private readonly classOf = new Map<string, number>();
  private nextSeq = 0;

  constructor(options: PriorityOptions = {}, inner: PolicyFactory = () => new FcfsPolicy()) {
    const parsed = PriorityOptionsSchema.parse(options);
    this.agingMs = parsed.agingMs;
    this.maxQueued = parsed.maxQueued;
    for (let c = 0; c < PRIORITY_CLASSES; c++) {
      this.classes.push({ child: inner(), ages: new IndexedHeap(older, (a) => a.taskId) });
    }
  }

  enqueue(task: SchedTask, nowMs: number): EnqueueResult {
    assertTask(task);
    const refusal = queueRefusal(this.classOf.size, this.classOf.has(task.taskId), this.maxQueued);
    if (refusal) return { ok: false, reason: refusal };
    const queue = this.classes[task.priority] as ClassQueue;
    const result = queue.child.enqueue(task, nowMs);
    if (!result.ok) return result;
    this.classOf.set(task.taskId, task.priority);
    queue.ages.push({ taskId: task.taskId, enqueuedAtMs: task.enqueuedAtMs, seq: this.nextSeq++ });
    return result;
  }

  pick(nowMs: number): Decision | null {
    const c = this.classToServe();
    if (c === null) return null;
    const queue = this.classes[c] as ClassQueue;
    const decision = queue.child.pick(nowMs);
    if (!decision) {
      throw new KernelError("conflict", `priority class ${c} child is empty but holds requests`);
    }
    queue.ages.remove(decision.task.taskId);
    this.classOf.delete(decision.task.taskId);
    return decision;
  }

  charge(task: SchedTask, usage: Usage, nowMs: number): void {
    this.classes[task.priority]?.child.charge(task, usage, nowMs);
  }

  remove(taskId: string): SchedTask | null {
    const c = this.classOf.get(taskId);
    if (c === undefined) return null;
    const queue = this.classes[c] as ClassQueue;
    this.classOf.delete(taskId);
    queue.ages.remove(taskId);
    return queue.child.remove(taskId);
  }

  forget(processId: string): void {
    for (const q of this.classes) q.child.forget(processId);
  }

  size(): number {
    return this.classOf.size;
  }

  drain(): SchedTask[] {
    const tasks: SchedTask[] = [];
    for (const q of this.classes) {
      tasks.push(...q.child.drain());
      q.ages.clear();
    }
    this.classOf.clear();
    return tasks;
  }

  exportState(): PolicyState {
    return sealState(this.name, {
      nextSeq: this.nextSeq,
      classes: this.classes.map((q) => ({
        child: q.child.exportState(),
        ages: q.ages.values().map((a) => ({ ...a })),
      })),
    });
  }

  importState(state: PolicyState): void {
    const data = openState(state, this.name, StateSchema);
    if (data.classes.length !== PRIORITY_CLASSES) {
      throw new KernelError("invalid_argument", "priority state has the wrong number of classes");
    }
    this.classOf.clear();
    data.classes.forEach((saved, c) => {
      const queue = this.classes[c] as ClassQueue;
      queue.child.importState(saved.child);
      queue.ages.clear();
      for (const age of saved.ages) {
        queue.ages.push(age);
        this.classOf.set(age.taskId, c);
      }
    });
    this.nextSeq = data.nextSeq;
  }

  /** The class whose oldest request has the smallest aging key; ties go to the earlier request. */
  private classToServe(): number | null {
    let best: number | null = null;
    let bestKey = Number.POSITIVE_INFINITY;
    let bestSeq = Number.POSITIVE_INFINITY;
    for (let c = 0; c < this.classes.length; c++) {
      const oldest = (this.classes[c] as ClassQueue).ages.peek();
      if (!oldest) continue;
      if (this.agingMs === null) return c;
      const key = c * this.agingMs + oldest.enqueuedAtMs;
      if (key < bestKey || (key === bestKey && oldest.seq < bestSeq)) {
        best = c;
        bestKey = key;
        bestSeq = oldest.seq;
      }
    }
    return best;
  }
}

/**
 * Creates priority-with-aging; pass `agingMs: null` for strict priority.
 *
 * @example createPriorityPolicy({ agingMs: 10_000 }) // a p2 request beats a fresh p0 after 20 s
 */
export function createPriorityPolicy(
  options: PriorityOptions = {},
  inner?: PolicyFactory,
): PriorityPolicy {
  return new PriorityPolicy(options, inner);
}
