/**
 * The skeleton of a policy that is one priority queue: requests ordered by a key fixed when
 * they are queued (arrival for FCFS, remaining budget, remaining work for the SRPT oracle).
 * Subclasses decide the order and what `enqueue` accepts; picking, withdrawing and draining
 * are the same for all of them.
 */

import { IndexedHeap } from "./heap.js";
import type { Decision, EnqueueResult, PolicyState, SchedPolicy, SchedTask } from "./types.js";

/** What every entry of a heap-queue policy holds. */
export interface QueueEntry {
  task: SchedTask;
  /** Arrival at the policy: breaks ties so equal keys keep their order. */
  seq: number;
}

/** A policy that is one heap of entries `E`; see the file comment. */
export abstract class HeapQueuePolicy<E extends QueueEntry> implements SchedPolicy {
  abstract readonly name: string;
  protected readonly queue: IndexedHeap<E>;
  protected nextSeq = 0;

  constructor(before: (a: E, b: E) => boolean) {
    this.queue = new IndexedHeap<E>(before, (e) => e.task.taskId);
  }

  abstract enqueue(task: SchedTask, nowMs: number): EnqueueResult;
  abstract exportState(): PolicyState;
  abstract importState(state: PolicyState): void;

  pick(_nowMs: number): Decision | null {
    const entry = this.queue.pop();
    return entry
      ? { kind: "run", task: entry.task, maxOutputTokens: entry.task.maxOutputTokens }
      : null;
  }

  /** Nothing to account: the order depends on the request alone. */
  charge(): void {}

  remove(taskId: string): SchedTask | null {
    return this.queue.remove(taskId)?.task ?? null;
  }

  forget(_processId: string): void {}

  size(): number {
    return this.queue.size;
  }

  drain(): SchedTask[] {
    const tasks: SchedTask[] = [];
    for (let e = this.queue.pop(); e; e = this.queue.pop()) tasks.push(e.task);
    return tasks;
  }
}
