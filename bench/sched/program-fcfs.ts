/**
 * Oldest program first: requests ordered by when their program first asked for the model, then
 * by arrival. The textbook order for a tail of completion times (first come, first served at the
 * level of whole programs, where the bench's FCFS is at the level of calls), tried against issue
 * 3's p95-completion target. It lives in bench/ as an experiment, run only when named with
 * `--policy`: its p95 completion is behind token-budget's on every backend and behind FCFS's on
 * two of the three hosted-API pools (bench/sched/README.md, "Orders tried for p95 completion"),
 * so the kernel does not offer it.
 */

import { sealState } from "../../src/kernel/scheduler/common.js";
import { HeapQueuePolicy, type QueueEntry } from "../../src/kernel/scheduler/heap-queue.js";
import type { EnqueueResult, PolicyState, SchedTask } from "../../src/kernel/scheduler/types.js";

interface Entry extends QueueEntry {
  /** When the request's program first asked for the model. */
  programStartMs: number;
}

const older = (a: Entry, b: Entry) =>
  a.programStartMs < b.programStartMs || (a.programStartMs === b.programStartMs && a.seq < b.seq);

/** Program-level FCFS; see the file comment. */
export class ProgramFcfs extends HeapQueuePolicy<Entry> {
  readonly name = "program-fcfs";
  /** First request time of every program not yet forgotten, by process id. */
  private readonly startMs = new Map<string, number>();

  constructor() {
    super(older);
  }

  enqueue(task: SchedTask, _nowMs: number): EnqueueResult {
    if (this.queue.has(task.taskId)) return { ok: false, reason: "duplicate" };
    let programStartMs = this.startMs.get(task.processId);
    if (programStartMs === undefined) {
      programStartMs = task.enqueuedAtMs;
      this.startMs.set(task.processId, programStartMs);
    }
    this.queue.push({ task, programStartMs, seq: this.nextSeq++ });
    return { ok: true };
  }

  override forget(processId: string): void {
    this.startMs.delete(processId);
  }

  exportState(): PolicyState {
    return sealState(this.name, { note: "a bench experiment, not persisted" });
  }

  importState(): void {}
}
