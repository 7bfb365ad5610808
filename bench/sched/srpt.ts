/**
 * The clairvoyant shortest-remaining-processing-time oracle: requests ordered by their
 * program's remaining work, which only the simulator knows. An upper bound for the kernel's
 * policies (Autellix Fig. 18), never a policy the kernel could run; it lives in bench/ only.
 */

import { sealState } from "../../src/kernel/scheduler/common.js";
import { IndexedHeap } from "../../src/kernel/scheduler/heap.js";
import type {
  Decision,
  EnqueueResult,
  PolicyState,
  SchedPolicy,
  SchedTask,
} from "../../src/kernel/scheduler/types.js";
import type { Oracle } from "./sim.js";

interface Entry {
  task: SchedTask;
  remainingUs: number;
  seq: number;
}

const shorter = (a: Entry, b: Entry) =>
  a.remainingUs < b.remainingUs || (a.remainingUs === b.remainingUs && a.seq < b.seq);

/** SRPT by program remaining work, fixed when the request is queued. */
export class SrptOracle implements SchedPolicy {
  readonly name = "srpt-oracle";
  private readonly queue = new IndexedHeap<Entry>(shorter, (e) => e.task.taskId);
  private nextSeq = 0;

  constructor(private readonly oracle: Oracle) {}

  enqueue(task: SchedTask, _nowMs: number): EnqueueResult {
    if (this.queue.has(task.taskId)) return { ok: false, reason: "duplicate" };
    const remainingUs = this.oracle.remainingWorkUs(task.processId);
    this.queue.push({ task, remainingUs, seq: this.nextSeq++ });
    return { ok: true };
  }

  pick(_nowMs: number): Decision | null {
    const e = this.queue.pop();
    return e ? { kind: "run", task: e.task, maxOutputTokens: e.task.maxOutputTokens } : null;
  }

  charge(): void {}

  remove(taskId: string): SchedTask | null {
    return this.queue.remove(taskId)?.task ?? null;
  }

  forget(): void {}

  size(): number {
    return this.queue.size;
  }

  drain(): SchedTask[] {
    const out: SchedTask[] = [];
    for (let e = this.queue.pop(); e; e = this.queue.pop()) out.push(e.task);
    return out;
  }

  exportState(): PolicyState {
    return sealState(this.name, { note: "the oracle is not persisted" });
  }

  importState(): void {}
}
