/**
 * Round robin across processes (AIOS's RRScheduler in API mode): each turn grants one lease to
 * the process at the head of the ring, which then goes to the back if it still has requests.
 * A process with many parallel requests (a tree search fanning out) thus gets one call per turn
 * instead of all of them in a row.
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
import type { Decision, EnqueueResult, PolicyState, SchedPolicy, SchedTask } from "./types.js";

export const RoundRobinOptionsSchema = z.object({
  maxQueued: MaxQueuedSchema,
});
export type RoundRobinOptions = z.input<typeof RoundRobinOptionsSchema>;

interface ProcessQueue {
  tasks: SchedTask[];
  /** Matches exactly one live ring slot; older slots for this process are stale and skipped. */
  ringGen: number;
}

interface RingSlot {
  processId: string;
  gen: number;
}

const StateSchema = z.object({
  /** Processes in turn order; each with its requests oldest first. */
  ring: z.array(z.object({ processId: z.string(), tasks: z.array(SchedTaskSchema) })),
});

/** Round robin of one lease per process per turn. */
export class RoundRobinPolicy implements SchedPolicy {
  readonly name = "round-robin";
  private readonly maxQueued: number;
  private readonly processes = new Map<string, ProcessQueue>();
  private readonly owner = new Map<string, string>();
  private ring: RingSlot[] = [];
  private ringHead = 0;
  private nextGen = 0;

  constructor(options: RoundRobinOptions = {}) {
    this.maxQueued = RoundRobinOptionsSchema.parse(options).maxQueued;
  }

  enqueue(task: SchedTask, _nowMs: number): EnqueueResult {
    assertTask(task);
    const refusal = queueRefusal(this.owner.size, this.owner.has(task.taskId), this.maxQueued);
    if (refusal) return { ok: false, reason: refusal };
    this.owner.set(task.taskId, task.processId);
    const proc = this.processes.get(task.processId);
    if (proc) {
      proc.tasks.push(task);
    } else {
      this.processes.set(task.processId, { tasks: [task], ringGen: this.joinRing(task.processId) });
    }
    return { ok: true };
  }

  pick(_nowMs: number): Decision | null {
    while (this.ringHead < this.ring.length) {
      const slot = this.ring[this.ringHead++] as RingSlot;
      const proc = this.processes.get(slot.processId);
      if (!proc || proc.ringGen !== slot.gen) continue;
      const task = proc.tasks.shift() as SchedTask;
      this.owner.delete(task.taskId);
      if (proc.tasks.length > 0) proc.ringGen = this.joinRing(slot.processId);
      else this.processes.delete(slot.processId);
      this.compactRing();
      return { kind: "run", task, maxOutputTokens: task.maxOutputTokens };
    }
    this.compactRing();
    return null;
  }

  charge(): void {}

  remove(taskId: string): SchedTask | null {
    const processId = this.owner.get(taskId);
    if (processId === undefined) return null;
    this.owner.delete(taskId);
    const proc = this.processes.get(processId) as ProcessQueue;
    const at = proc.tasks.findIndex((t) => t.taskId === taskId);
    const [task] = proc.tasks.splice(at, 1);
    // Its ring slot goes stale and is skipped when reached.
    if (proc.tasks.length === 0) this.processes.delete(processId);
    return task ?? null;
  }

  forget(): void {}

  size(): number {
    return this.owner.size;
  }

  drain(): SchedTask[] {
    const tasks: SchedTask[] = [];
    for (let d = this.pick(0); d; d = this.pick(0)) tasks.push(d.task);
    return tasks;
  }

  exportState(): PolicyState {
    const ring: { processId: string; tasks: SchedTask[] }[] = [];
    for (let i = this.ringHead; i < this.ring.length; i++) {
      const slot = this.ring[i] as RingSlot;
      const proc = this.processes.get(slot.processId);
      if (proc && proc.ringGen === slot.gen) {
        ring.push({ processId: slot.processId, tasks: proc.tasks.map((t) => ({ ...t })) });
      }
    }
    return sealState(this.name, { ring });
  }

  importState(state: PolicyState): void {
    const data = openState(state, this.name, StateSchema);
    this.processes.clear();
    this.owner.clear();
    this.ring = [];
    this.ringHead = 0;
    for (const { processId, tasks } of data.ring) {
      if (tasks.length === 0) continue;
      this.processes.set(processId, { tasks, ringGen: this.joinRing(processId) });
      for (const t of tasks) this.owner.set(t.taskId, processId);
    }
  }

  private joinRing(processId: string): number {
    const gen = this.nextGen++;
    this.ring.push({ processId, gen });
    return gen;
  }

  /** Drops consumed slots once they are most of the array, so the ring stays O(queued). */
  private compactRing(): void {
    if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.ringHead);
      this.ringHead = 0;
    }
  }
}

/**
 * Creates a round-robin policy.
 *
 * @example const policy = createRoundRobinPolicy(); policy.enqueue(task, nowMs);
 */
export function createRoundRobinPolicy(options: RoundRobinOptions = {}): RoundRobinPolicy {
  return new RoundRobinPolicy(options);
}
