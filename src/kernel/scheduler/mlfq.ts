/**
 * Multi-level feedback queue (AgentRM, FastServe). A process starts in the top queue and is
 * demoted one level each time the weighted tokens it consumed since the last boost cross that
 * level's threshold; every `boostMs` all processes return to the top so that long agents cannot
 * starve. FIFO within a level.
 *
 * A boost must not touch every queued request (that would be a linear scan), so it only bumps an
 * epoch. A queued entry from an older epoch counts as top level; because entries are sequenced
 * in time order, such entries are always at the front of their level, so the candidates for the
 * top level are just the K queue heads.
 */

import { z } from "zod";
import {
  assertTask,
  levelThresholdsSchema,
  MaxQueuedSchema,
  openState,
  queueRefusal,
  SchedTaskSchema,
  ServiceWeightOptions,
  sealState,
} from "./common.js";
import { IndexedHeap } from "./heap.js";
import {
  type Decision,
  type EnqueueResult,
  type PolicyState,
  type SchedPolicy,
  type SchedTask,
  serviceTokens,
  type Usage,
} from "./types.js";

export const MlfqOptionsSchema = z.object({
  /** Weighted tokens after which a process leaves level i; K = length + 1 levels. */
  levelsTokens: levelThresholdsSchema([4_096, 16_384, 65_536]),
  boostMs: z.number().int().min(1).max(86_400_000).default(60_000),
  /** FastServe's skip-join: a request whose prompt alone exceeds a level's threshold starts below it. */
  skipJoin: z.boolean().default(false),
  ...ServiceWeightOptions,
  maxQueued: MaxQueuedSchema,
});
export type MlfqOptions = z.input<typeof MlfqOptionsSchema>;

interface Entry {
  task: SchedTask;
  level: number;
  seq: number;
  epoch: number;
}

interface ProcessLevel {
  attainedTokens: number;
  level: number;
  epoch: number;
}

const EntrySchema = z.object({
  task: SchedTaskSchema,
  level: z.number().int().min(0),
  seq: z.number().int().min(0),
  epoch: z.number().int().min(0),
});
const StateSchema = z.object({
  epoch: z.number().int().min(0),
  nextBoostAtMs: z.number().int().nullable(),
  nextSeq: z.number().int().min(0),
  processes: z.array(
    z.object({
      processId: z.string(),
      attainedTokens: z.number().min(0),
      level: z.number().int().min(0),
      epoch: z.number().int().min(0),
    }),
  ),
  queue: z.array(EntrySchema),
});

const bySeq = (a: Entry, b: Entry) => a.seq < b.seq;

/** MLFQ with demotion by tokens consumed and a periodic boost. */
export class MlfqPolicy implements SchedPolicy {
  readonly name = "mlfq";
  private readonly options: z.output<typeof MlfqOptionsSchema>;
  private readonly levels: IndexedHeap<Entry>[] = [];
  private readonly levelOf = new Map<string, number>();
  private readonly processes = new Map<string, ProcessLevel>();
  private epoch = 0;
  private nextBoostAtMs: number | null = null;
  private nextSeq = 0;

  constructor(options: MlfqOptions = {}) {
    this.options = MlfqOptionsSchema.parse(options);
    for (let i = 0; i <= this.options.levelsTokens.length; i++) {
      this.levels.push(new IndexedHeap(bySeq, (e) => e.task.taskId));
    }
  }

  enqueue(task: SchedTask, nowMs: number): EnqueueResult {
    assertTask(task);
    const { maxQueued, skipJoin } = this.options;
    const refusal = queueRefusal(this.levelOf.size, this.levelOf.has(task.taskId), maxQueued);
    if (refusal) return { ok: false, reason: refusal };
    this.maybeBoost(nowMs);
    let level = this.process(task.processId).level;
    if (skipJoin)
      level = Math.max(
        level,
        this.levelFor(
          serviceTokens({ inputTokens: task.inputTokens, outputTokens: 0 }, this.options),
        ),
      );
    this.levels[level]?.push({ task, level, seq: this.nextSeq++, epoch: this.epoch });
    this.levelOf.set(task.taskId, level);
    return { ok: true };
  }

  pick(nowMs: number): Decision | null {
    this.maybeBoost(nowMs);
    let chosen: IndexedHeap<Entry> | null = null;
    let chosenSeq = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.levels.length; i++) {
      const head = (this.levels[i] as IndexedHeap<Entry>).peek();
      if (!head) continue;
      const boosted = i === 0 || head.epoch < this.epoch;
      if (boosted && head.seq < chosenSeq) {
        chosen = this.levels[i] as IndexedHeap<Entry>;
        chosenSeq = head.seq;
      }
    }
    if (!chosen) chosen = this.levels.find((q) => q.size > 0) ?? null;
    const entry = chosen?.pop();
    if (!entry) return null;
    this.levelOf.delete(entry.task.taskId);
    return { kind: "run", task: entry.task, maxOutputTokens: entry.task.maxOutputTokens };
  }

  charge(task: SchedTask, usage: Usage, nowMs: number): void {
    this.maybeBoost(nowMs);
    const proc = this.process(task.processId);
    proc.attainedTokens += serviceTokens(usage, this.options);
    proc.level = Math.max(proc.level, this.levelFor(proc.attainedTokens));
  }

  remove(taskId: string): SchedTask | null {
    const level = this.levelOf.get(taskId);
    if (level === undefined) return null;
    this.levelOf.delete(taskId);
    return this.levels[level]?.remove(taskId)?.task ?? null;
  }

  forget(processId: string): void {
    this.processes.delete(processId);
  }

  size(): number {
    return this.levelOf.size;
  }

  drain(): SchedTask[] {
    const entries = this.levels.flatMap((q) => q.values());
    entries.sort((a, b) => a.seq - b.seq);
    for (const q of this.levels) q.clear();
    this.levelOf.clear();
    return entries.map((e) => e.task);
  }

  exportState(): PolicyState {
    return sealState(this.name, {
      epoch: this.epoch,
      nextBoostAtMs: this.nextBoostAtMs,
      nextSeq: this.nextSeq,
      processes: [...this.processes].map(([processId, p]) => ({ processId, ...p })),
      queue: this.levels.flatMap((q) => q.values().map((e) => ({ ...e, task: { ...e.task } }))),
    });
  }

  importState(state: PolicyState): void {
    const data = openState(state, this.name, StateSchema);
    const top = this.levels.length - 1;
    for (const q of this.levels) q.clear();
    this.levelOf.clear();
    this.processes.clear();
    for (const { processId, ...p } of data.processes) {
      this.processes.set(processId, { ...p, level: Math.min(p.level, top) });
    }
    for (const e of data.queue) {
      const level = Math.min(e.level, top);
      this.levels[level]?.push({ ...e, level });
      this.levelOf.set(e.task.taskId, level);
    }
    this.epoch = data.epoch;
    this.nextBoostAtMs = data.nextBoostAtMs;
    this.nextSeq = data.nextSeq;
  }

  /** The process's level in the current epoch; a boost resets it lazily on first touch. */
  private process(processId: string): ProcessLevel {
    let proc = this.processes.get(processId);
    if (!proc) {
      proc = { attainedTokens: 0, level: 0, epoch: this.epoch };
      this.processes.set(processId, proc);
    } else if (proc.epoch !== this.epoch) {
      proc.attainedTokens = 0;
      proc.level = 0;
      proc.epoch = this.epoch;
    }
    return proc;
  }

  private levelFor(tokens: number): number {
    const t = this.options.levelsTokens;
    let level = 0;
    while (level < t.length && tokens >= (t[level] as number)) level++;
    return level;
  }

  private maybeBoost(nowMs: number): void {
    const { boostMs } = this.options;
    if (this.nextBoostAtMs === null) {
      this.nextBoostAtMs = nowMs + boostMs;
      return;
    }
    if (nowMs < this.nextBoostAtMs) return;
    // One boost covers any number of missed periods: it only resets levels.
    this.epoch++;
    this.nextBoostAtMs += (Math.floor((nowMs - this.nextBoostAtMs) / boostMs) + 1) * boostMs;
  }
}

/**
 * Creates an MLFQ policy.
 *
 * @example createMlfqPolicy({ levelsTokens: [4096, 16384], boostMs: 60_000 })
 */
export function createMlfqPolicy(options: MlfqOptions = {}): MlfqPolicy {
  return new MlfqPolicy(options);
}
