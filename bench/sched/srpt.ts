/**
 * The clairvoyant shortest-remaining-processing-time oracle: requests ordered by their
 * program's remaining work, which only the simulator knows. An upper bound for the kernel's
 * policies (Autellix Fig. 18), never a policy the kernel could run; it lives in bench/ only.
 */

import { sealState } from "../../src/kernel/scheduler/common.js";
import { HeapQueuePolicy } from "../../src/kernel/scheduler/heap-queue.js";
import type { EnqueueResult, PolicyState, SchedTask } from "../../src/kernel/scheduler/types.js";
import type { Oracle } from "./sim-types.js";

interface Entry {
  task: SchedTask;
  remainingUs: number;
  seq: number;
}

const shorter = (a: Entry, b: Entry) =>
  a.remainingUs < b.remainingUs || (a.remainingUs === b.remainingUs && a.seq < b.seq);

/** SRPT by program remaining work, fixed when the request is queued. */
export class SrptOracle extends HeapQueuePolicy<Entry> {
  readonly name = "srpt-oracle";

  constructor(private readonly oracle: Oracle) {
    super(shorter);
  }

  enqueue(task: SchedTask, _nowMs: number): EnqueueResult {
    if (this.queue.has(task.taskId)) return { ok: false, reason: "duplicate" };
    const remainingUs = this.oracle.remainingWorkUs(task.processId);
    this.queue.push({ task, remainingUs, seq: this.nextSeq++ });
    return { ok: true };
  }

  exportState(): PolicyState {
    return sealState(this.name, { note: "the oracle is not persisted" });
  }

  importState(): void {}
}
