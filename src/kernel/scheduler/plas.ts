/**
 * Program-level least attained service (Autellix PLAS). A request's priority is its program's
 * (process's) cumulative service so far, discretised into K queues by `levelsTokens`: programs
 * that have consumed little run first, so short agents are not stuck behind long ones (both
 * call-level and program-level head-of-line blocking). FIFO within a queue.
 *
 * Anti-starvation, as in Autellix: a program whose total waiting time reaches `starvationRatio`
 * times its total service time is promoted to the top queue. For a queued request this happens
 * at a time fixed when it is queued, `queuedAt + β·serviceMs − waitMs`, so a deadline heap finds
 * due promotions without scanning the queue; each request is promoted at most once.
 * With `promotedTurnPicks` set, a promoted request instead keeps its queue and also joins a
 * lane that gets one pick in that many (`promoted-lane.ts`), so promotion cannot turn PLAS into
 * FIFO when most programs wait long enough to qualify.
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
import { PromotedLane } from "./promoted-lane.js";
import {
  type Decision,
  type EnqueueResult,
  type PolicyState,
  PRIORITY_CLASSES,
  type SchedPolicy,
  type SchedTask,
  serviceTokens,
  type Usage,
} from "./types.js";

export const PlasOptionsSchema = z.object({
  /** Attained weighted tokens at which a program moves down one queue; K = length + 1. */
  levelsTokens: levelThresholdsSchema([4_096, 16_384, 65_536, 262_144, 1_048_576]),
  /** β: promote when waiting time ≥ β × service time. */
  starvationRatio: z.number().min(0).max(1_000).default(2),
  /** No promotion sooner than this after queueing, so a fresh program is not "starved" at once. */
  minStarvationMs: z.number().int().min(0).max(86_400_000).default(1_000),
  /**
   * Share weight of each priority class (p0, p1, p2): a lease's service counts 1/weight, so a
   * class with weight 4 moves down a queue after 4× the tokens of weight 1, as CFS weights
   * runtime by nice level. All 1 (the default): classes do not matter.
   */
  classWeights: z
    .array(z.number().positive().max(1_000))
    .length(PRIORITY_CLASSES)
    .default([1, 1, 1]),
  /**
   * null (the default, Autellix's rule): a promoted request joins the top queue. N: it keeps its
   * queue and one pick in every N goes to the oldest promoted request.
   */
  promotedTurnPicks: z.number().int().min(1).max(1_000).nullable().default(null),
  ...ServiceWeightOptions,
  maxQueued: MaxQueuedSchema,
});
export type PlasOptions = z.input<typeof PlasOptionsSchema>;

/** A rank is level × this + the head's queue time in ms: levels first, then older first. */
const RANK_LEVEL_SPAN = 2 ** 44;
const rankOf = (level: number, head: { queuedAtMs: number }) =>
  level * RANK_LEVEL_SPAN + Math.min(Math.max(0, head.queuedAtMs), RANK_LEVEL_SPAN - 1);

interface Entry {
  task: SchedTask;
  level: number;
  seq: number;
  queuedAtMs: number;
  /** When this request counts as starved; null once promoted or when already at the top. */
  promoteAtMs: number | null;
}

/** What the policy remembers of a program (a process): its service and its waiting. */
export interface ProgramService {
  /** Weighted tokens that set its level: the total for PLAS, the longest thread for ATLAS. */
  attainedTokens: number;
  serviceMs: number;
  waitMs: number;
  /** ATLAS only: attained service along each thread's path, by thread id. */
  threads?: Map<string, number>;
}

const StateSchema = z.object({
  nextSeq: z.number().int().min(0),
  promotions: z.number().int().min(0),
  /** Picks counted towards the promoted lane's next turn (absent: no lane). */
  laneCredit: z.number().int().min(0).optional(),
  programs: z.array(
    z.object({
      processId: z.string(),
      attainedTokens: z.number().min(0),
      serviceMs: z.number().min(0),
      waitMs: z.number().min(0),
      threads: z
        .array(z.object({ threadId: z.string(), pathTokens: z.number().min(0) }))
        .optional(),
    }),
  ),
  queue: z.array(
    z.object({
      task: SchedTaskSchema,
      level: z.number().int().min(0),
      seq: z.number().int().min(0),
      queuedAtMs: z.number().int(),
      promoteAtMs: z.number().int().nullable(),
      /** Queued in the promoted lane as well as in its level. */
      inLane: z.boolean().optional(),
    }),
  ),
});

const bySeq = (a: Entry, b: Entry) => a.seq < b.seq;
const byPromotion = (a: Entry, b: Entry) =>
  (a.promoteAtMs as number) < (b.promoteAtMs as number) ||
  (a.promoteAtMs === b.promoteAtMs && a.seq < b.seq);

/** PLAS with anti-starvation promotion. */
export class PlasPolicy implements SchedPolicy {
  readonly name: string = "plas";
  protected readonly options: z.output<typeof PlasOptionsSchema>;
  private readonly levels: IndexedHeap<Entry>[] = [];
  private readonly due = new IndexedHeap<Entry>(byPromotion, (e) => e.task.taskId);
  private readonly entries = new Map<string, Entry>();
  private readonly programs = new Map<string, ProgramService>();
  /** Where promoted requests wait for their turn; null: they join the top queue instead. */
  private readonly lane: PromotedLane<Entry> | null;
  private nextSeq = 0;
  private promotions = 0;

  constructor(options: PlasOptions = {}) {
    this.options = PlasOptionsSchema.parse(options);
    for (let i = 0; i <= this.options.levelsTokens.length; i++) {
      this.levels.push(new IndexedHeap(bySeq, (e) => e.task.taskId));
    }
    const turnPicks = this.options.promotedTurnPicks;
    this.lane =
      turnPicks === null ? null : new PromotedLane(turnPicks, bySeq, (e) => e.task.taskId);
  }

  /** How many requests anti-starvation has promoted so far. */
  get promotedCount(): number {
    return this.promotions;
  }

  enqueue(task: SchedTask, nowMs: number): EnqueueResult {
    assertTask(task);
    const refusal = queueRefusal(
      this.entries.size,
      this.entries.has(task.taskId),
      this.options.maxQueued,
    );
    if (refusal) return { ok: false, reason: refusal };
    const program = this.program(task.processId);
    const level = this.levelFor(this.attainedOf(task, program));
    const { starvationRatio, minStarvationMs } = this.options;
    const slackMs = Math.max(
      minStarvationMs,
      Math.ceil(starvationRatio * program.serviceMs - program.waitMs),
    );
    const entry: Entry = {
      task,
      level,
      seq: this.nextSeq++,
      queuedAtMs: nowMs,
      promoteAtMs: level === 0 ? null : nowMs + slackMs,
    };
    this.entries.set(task.taskId, entry);
    this.levels[level]?.push(entry);
    if (entry.promoteAtMs !== null) this.due.push(entry);
    return { ok: true };
  }

  pick(nowMs: number): Decision | null {
    this.promoteStarved(nowMs);
    if (this.entries.size === 0) return null;
    let entry = this.lane?.takeTurn();
    if (entry) this.levels[entry.level]?.remove(entry.task.taskId);
    else {
      entry = this.levels[this.topLevel()]?.pop();
      if (!entry) return null;
      this.lane?.remove(entry.task.taskId);
    }
    this.due.remove(entry.task.taskId);
    this.entries.delete(entry.task.taskId);
    this.program(entry.task.processId).waitMs += Math.max(0, nowMs - entry.queuedAtMs);
    return { kind: "run", task: entry.task, maxOutputTokens: entry.task.maxOutputTokens };
  }

  /** The head's queue level and queue time: see `SchedPolicy.peekRank`. */
  peekRank(nowMs: number): number | null {
    this.promoteStarved(nowMs);
    // A promoted request whose turn it is ranks as the top queue would rank it.
    const promoted = this.lane?.peekTurn();
    if (promoted) return rankOf(0, promoted);
    const level = this.topLevel();
    const head = this.levels[level]?.peek();
    return head ? rankOf(level, head) : null;
  }

  charge(task: SchedTask, usage: Usage, _nowMs: number): void {
    const program = this.program(task.processId);
    const weight = this.options.classWeights[task.priority] ?? 1;
    this.account(task, program, serviceTokens(usage, this.options) / weight);
    program.serviceMs += usage.runMs;
  }

  remove(taskId: string): SchedTask | null {
    const entry = this.entries.get(taskId);
    if (!entry) return null;
    this.entries.delete(taskId);
    this.levels[entry.level]?.remove(taskId);
    this.due.remove(taskId);
    this.lane?.remove(taskId);
    return entry.task;
  }

  forget(processId: string): void {
    this.programs.delete(processId);
  }

  size(): number {
    return this.entries.size;
  }

  drain(): SchedTask[] {
    const entries = [...this.entries.values()].sort((a, b) => a.seq - b.seq);
    for (const q of this.levels) q.clear();
    this.due.clear();
    this.lane?.clear();
    this.entries.clear();
    return entries.map((e) => e.task);
  }

  exportState(): PolicyState {
    return sealState(this.name, {
      nextSeq: this.nextSeq,
      promotions: this.promotions,
      ...(this.lane && { laneCredit: this.lane.credit }),
      programs: [...this.programs].map(([processId, { threads, ...p }]) => ({
        processId,
        ...p,
        ...(threads && {
          threads: [...threads].map(([threadId, pathTokens]) => ({ threadId, pathTokens })),
        }),
      })),
      queue: [...this.entries.values()].map((e) => ({
        ...e,
        task: { ...e.task },
        ...(this.lane?.has(e.task.taskId) && { inLane: true }),
      })),
    });
  }

  importState(state: PolicyState): void {
    const data = openState(state, this.name, StateSchema);
    const top = this.levels.length - 1;
    for (const q of this.levels) q.clear();
    this.due.clear();
    this.lane?.clear();
    this.entries.clear();
    this.programs.clear();
    for (const { processId, threads, ...p } of data.programs) {
      const program: ProgramService = p;
      if (threads) program.threads = new Map(threads.map((t) => [t.threadId, t.pathTokens]));
      this.programs.set(processId, program);
    }
    for (const { inLane, ...saved } of data.queue) {
      const entry: Entry = { ...saved, level: Math.min(saved.level, top) };
      this.entries.set(entry.task.taskId, entry);
      this.levels[entry.level]?.push(entry);
      if (entry.promoteAtMs !== null) this.due.push(entry);
      if (inLane) this.lane?.add(entry);
    }
    if (this.lane && data.laneCredit !== undefined) this.lane.credit = data.laneCredit;
    this.nextSeq = data.nextSeq;
    this.promotions = data.promotions;
  }

  /** The attained service that sets the level of `task`: its program's total (PLAS). */
  protected attainedOf(_task: SchedTask, program: ProgramService): number {
    return program.attainedTokens;
  }

  /** Books `serviceTokens` of weighted service of a lease of `task` to its program. */
  protected account(_task: SchedTask, program: ProgramService, serviceTokens: number): void {
    program.attainedTokens += serviceTokens;
  }

  private promoteStarved(nowMs: number): void {
    const top = this.levels[0] as IndexedHeap<Entry>;
    for (let e = this.due.peek(); e && (e.promoteAtMs as number) <= nowMs; e = this.due.peek()) {
      this.due.pop();
      e.promoteAtMs = null;
      this.promotions++;
      if (this.lane) {
        this.lane.add(e);
        continue;
      }
      this.levels[e.level]?.remove(e.task.taskId);
      e.level = 0;
      // Keeps its sequence number, so it runs ahead of requests that arrived after it.
      top.push(e);
    }
  }

  /** The first non-empty level, or the last one if all are empty. */
  private topLevel(): number {
    let level = 0;
    while (level < this.levels.length - 1 && (this.levels[level] as IndexedHeap<Entry>).size === 0)
      level++;
    return level;
  }

  private program(processId: string): ProgramService {
    let p = this.programs.get(processId);
    if (!p) {
      p = { attainedTokens: 0, serviceMs: 0, waitMs: 0 };
      this.programs.set(processId, p);
    }
    return p;
  }

  private levelFor(tokens: number): number {
    const t = this.options.levelsTokens;
    let level = 0;
    while (level < t.length && tokens >= (t[level] as number)) level++;
    return level;
  }
}

/**
 * Creates a PLAS policy.
 *
 * @example createPlasPolicy({ starvationRatio: 2 }) // promote once waiting ≥ 2× service
 */
export function createPlasPolicy(options: PlasOptions = {}): PlasPolicy {
  return new PlasPolicy(options);
}
