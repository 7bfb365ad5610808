/**
 * Backend model B inside the simulation: a self-hosted engine whose batch the policy under test
 * chooses (BENCH-SCHED §2; the iteration-time and prefix-cache formulas are in `engine.ts`).
 *
 * Every running sequence produces one token per iteration. At each iteration boundary where a
 * slot is free or a quantum ended, the driver settles the sequences that are done (a quantum
 * that ended with tokens to go is charged and queued again), asks the policy for the next batch
 * members, and times the next iteration(s). Iterations with the same batch are run as one
 * stretch, cut short only when new work could join. The event loop (`sim.ts`) owns programs,
 * the queue bookkeeping and the metrics; it reaches the driver through `kick`, `tick` and the
 * two questions about picked requests, and the driver reaches it through `EngineHost`.
 */

import { IndexedHeap } from "../../src/kernel/scheduler/heap.js";
import type { Decision, SchedTask } from "../../src/kernel/scheduler/types.js";
import { cachedPromptTokens, type EngineParams, iterationUs } from "./engine.js";
import { type BackendHost, type Call, US_PER_MS } from "./sim-records.js";
import type { EngineStats } from "./sim-types.js";

/** What the engine driver needs from the event loop beyond what every backend does. */
export interface EngineHost extends BackendHost {
  /** Raise an engine tick event at `atUs` carrying `generation`. */
  scheduleTick(atUs: number, generation: number): void;
  /** The rest of a call goes back to the policy. */
  requeue(call: Call): void;
}

/** A picked request waiting for KV, and how often later ones went around it. */
interface Waiting {
  d: Extract<Decision, { kind: "run" }>;
  skips: number;
}

/** A call running on the engine for one quantum. */
interface Segment {
  call: Call;
  taskId: string;
  /** Iteration count when it joined; it produces one token per iteration from then on. */
  joinD: number;
  /** Iteration count at which its quantum (or its output) ends. */
  endD: number;
  kvTokens: number;
  inputTokens: number;
  startUs: number;
  order: number;
}

/** The engine's current run of identical iterations (or a single prefill iteration). */
interface Stretch {
  startUs: number;
  startD: number;
  iterUs: number;
  endD: number;
}

const segmentBefore = (a: Segment, b: Segment) =>
  a.endD < b.endD || (a.endD === b.endD && a.order < b.order);

/** The part of the run whose batch statistics count: after warm-up, while arrivals go on. */
export interface SteadyPeriod {
  fromUs: number;
  toUs: number;
}

/** The engine's batch, chosen by the policy; see the file comment. */
export class EngineDriver {
  private readonly running = new IndexedHeap<Segment>(segmentBefore, (s) => s.taskId);
  /**
   * Picked but waiting for KV, oldest first. With no backfill it holds at most the head, which
   * blocks admission behind it; with backfill, up to `backfillLookahead` later picks may be
   * admitted around it.
   */
  private readonly room: Waiting[] = [];
  private engineD = 0;
  private kvUsed = 0;
  private stretch: Stretch | null = null;
  private tickGen = 0;
  private segmentSeq = 0;
  /** Work was queued since the last boundary: worth cutting a stretch short for. */
  private dirty = false;
  private lastBoundaryUs = 0;
  private batchUs = 0;
  private busyUs = 0;
  private readonly stats: EngineStats = {
    iterations: 0,
    meanBatch: 0,
    maxBatch: 0,
    busyShare: 0,
    quantumEnds: 0,
    preemptions: 0,
    recomputedTokens: 0,
    kvStalls: 0,
    peakKvTokens: 0,
  };

  constructor(
    private readonly host: EngineHost,
    private readonly p: EngineParams,
    /** Engine time per token at a full batch: what the SRPT oracle counts work in. */
    private readonly decodeTokenUs: number,
    /** The output cap a requeued remainder asks for, less what the call produced. */
    private readonly maxOutputTokens: number,
    private readonly steady: SteadyPeriod,
  ) {}

  /** A request was queued: an iteration boundary is worth having soon. */
  queued(): void {
    this.dirty = true;
  }

  /** Picked and waiting for KV. */
  isWaiting(taskId: string): boolean {
    return this.room.some((w) => w.d.task.taskId === taskId);
  }

  /** Takes the waiting requests of an ended program out of the room and returns them. */
  dropWaiting(processId: string): SchedTask[] {
    const dropped: SchedTask[] = [];
    for (let i = this.room.length - 1; i >= 0; i--) {
      const task = (this.room[i] as Waiting).d.task;
      if (task.processId !== processId) continue;
      dropped.push(task);
      this.room.splice(i, 1);
    }
    return dropped;
  }

  /** After any event: start an idle engine, or end the current stretch at the next boundary. */
  kick(): void {
    const p = this.p;
    const s = this.stretch;
    if (!s) {
      if (this.room.length > 0 || this.host.policy.size() > 0) this.boundary();
      return;
    }
    // New work can only join at an iteration boundary, and only if there is room for it (and,
    // with a head waiting for KV, only if it may go around it).
    if (!this.dirty || this.room.length > p.backfillLookahead) return;
    if (this.running.size >= p.maxBatch) return;
    if (this.kvUsed >= p.kvCapacityTokens) return;
    const next = Math.max(1, Math.ceil((this.host.nowUs() - s.startUs) / s.iterUs));
    if (s.startD + next >= s.endD) return;
    this.scheduleTick(s, next);
  }

  /** The tick event of `generation` fired; stale ticks (a stretch cut short) are ignored. */
  tick(generation: number): void {
    if (generation === this.tickGen && this.stretch) this.boundary();
  }

  /** What the engine did, for the result row. */
  summary(): EngineStats {
    const round2 = (x: number) => Math.round(x * 100) / 100;
    const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
    return {
      ...this.stats,
      meanBatch: round2(this.busyUs === 0 ? 0 : this.batchUs / this.busyUs),
      busyShare: round4(this.busyUs / Math.max(1, this.steadyEndUs() - this.steady.fromUs)),
    };
  }

  /** The steady period ends when arrivals stop, or earlier if the engine ran out of work. */
  private steadyEndUs(): number {
    return Math.min(this.steady.toUs, this.lastBoundaryUs);
  }

  private scheduleTick(s: Stretch, iterations: number): void {
    s.endD = s.startD + iterations;
    this.tickGen++;
    this.host.scheduleTick(s.startUs + iterations * s.iterUs, this.tickGen);
  }

  /**
   * An iteration boundary: account the iterations run, settle the sequences whose output or
   * quantum ended (the latter go back to the policy), let the policy fill the batch, drop the
   * KV of preempted sequences, and time the next iteration(s).
   */
  private boundary(): void {
    const p = this.p;
    const st = this.stats;
    const host = this.host;
    const nowUs = host.nowUs();
    const nowMs = Math.floor(nowUs / US_PER_MS);
    const elapsed =
      Math.min(nowUs, this.steady.toUs) - Math.max(this.lastBoundaryUs, this.steady.fromUs);
    if (elapsed > 0) {
      this.batchUs += this.running.size * elapsed;
      if (this.running.size > 0) this.busyUs += elapsed;
    }
    this.lastBoundaryUs = nowUs;
    if (this.stretch) {
      this.engineD = this.stretch.endD;
      st.iterations += this.stretch.endD - this.stretch.startD;
      this.stretch = null;
    }

    const released: Call[] = [];
    for (
      let seg = this.running.peek();
      seg && seg.endD <= this.engineD;
      seg = this.running.peek()
    ) {
      this.running.pop();
      this.segmentEnded(seg, released, nowMs);
    }

    let prefillTokens = 0;
    let prefilling = 0;
    // Candidates in the order picked: the room first (oldest first), then new picks.
    let i = 0;
    while (this.running.size < p.maxBatch) {
      // Nothing more goes around a head that has been bypassed too often: it is next.
      if (i > 0 && (this.room[0] as Waiting).skips >= p.backfillMaxSkips) break;
      let w = this.room[i];
      if (!w) {
        // Pick more only while the room has space.
        if (this.room.length > p.backfillLookahead) break;
        const picked = host.pickNext(nowMs);
        if (!picked) break;
        if (picked.kind === "end") {
          // Its program ended, and with it any of its requests in the room: look again.
          i = 0;
          continue;
        }
        w = { d: picked, skips: 0 };
        this.room.push(w);
      }
      const d = w.d;
      const call = host.call(d.task.taskId) as Call;
      const cap =
        call.generated === 0
          ? Math.min(call.step.decodeTokens, d.maxOutputTokens)
          : Math.min(call.outputCap, call.generated + d.maxOutputTokens);
      const tokens = Math.max(1, Math.min(p.quantumTokens, cap - call.generated));
      const kv = call.step.prefillTokens + call.generated + tokens;
      if (this.running.size > 0 && kv > p.kvCapacityTokens - this.kvUsed) {
        // It waits for KV: at the head it blocks admission behind it, as an engine's FCFS
        // admission does, unless the engine backfills around it.
        st.kvStalls++;
        i++;
        continue;
      }
      this.room.splice(i, 1);
      if (i > 0) (this.room[0] as Waiting).skips++;
      host.leftQueue(d.task);
      call.outputCap = Math.max(cap, call.generated + 1);
      const prefill = this.admit(call, d.task, tokens, kv);
      if (prefill > 0) {
        prefillTokens += prefill;
        prefilling++;
      }
    }
    for (const call of released) {
      if (!call.resident || host.call(call.task.taskId) !== call) continue;
      // Its quantum ended and the policy chose others: preempted, its KV is gone.
      call.resident = false;
      call.evicted = true;
      st.preemptions++;
    }
    this.dirty = false;

    const n = this.running.size;
    st.maxBatch = Math.max(st.maxBatch, n);
    st.peakKvTokens = Math.max(st.peakKvTokens, this.kvUsed);
    host.hash.int(n);
    host.hash.int(this.kvUsed);
    if (n === 0) return; // idle until work is queued
    const first = this.running.peek() as Segment;
    const s: Stretch = {
      startUs: nowUs,
      startD: this.engineD,
      iterUs: iterationUs(p, n - prefilling, prefillTokens),
      endD: this.engineD,
    };
    this.stretch = s;
    // A prefill iteration is timed alone; after it the batch decodes in identical iterations.
    this.scheduleTick(s, prefillTokens > 0 ? 1 : first.endD - this.engineD);
  }

  /** Puts a picked call into the batch for one quantum; returns the prompt tokens it prefills. */
  private admit(call: Call, task: SchedTask, tokens: number, kv: number): number {
    const prog = call.prog;
    const nowUs = this.host.nowUs();
    this.host.waited(task.priority, nowUs - call.queuedAtUs);
    const p = this.p;
    let prefill = 0;
    if (call.resident) {
      // Picked again as its quantum ended: it keeps decoding with its KV.
    } else if (call.generated === 0) {
      call.cachedTokens = cachedPromptTokens(p, call.step.prefillTokens, prog.admittedCalls === 0);
      prog.admittedCalls++;
      prefill = call.step.prefillTokens - call.cachedTokens;
      prog.remainingWorkUs -= prefill * p.perPrefillTokenUs;
    } else {
      prefill = call.step.prefillTokens - call.cachedTokens + call.generated;
      this.stats.recomputedTokens += prefill;
    }
    call.resident = false;
    call.evicted = false;
    const seg: Segment = {
      call,
      taskId: task.taskId,
      joinD: this.engineD,
      endD: this.engineD + tokens,
      kvTokens: kv,
      inputTokens: task.inputTokens,
      startUs: nowUs,
      order: this.segmentSeq++,
    };
    this.running.push(seg);
    this.kvUsed += kv;
    prog.inFlight++;
    this.host.hash.int(prog.idx);
    this.host.hash.int(tokens);
    this.host.hash.int(prefill);
    return prefill;
  }

  /** A running quantum ended at this boundary: charge it, then finish the call or re-queue it. */
  private segmentEnded(seg: Segment, released: Call[], nowMs: number): void {
    const call = seg.call;
    const prog = call.prog;
    const nowUs = this.host.nowUs();
    const produced = seg.endD - seg.joinD;
    this.kvUsed -= seg.kvTokens;
    call.generated += produced;
    prog.inFlight--;
    const used = seg.inputTokens + produced;
    prog.spentTokens += used;
    prog.remainingWorkUs -= produced * this.decodeTokenUs;
    const runMs = Math.round((nowUs - seg.startUs) / US_PER_MS);
    this.host.policy.charge(
      call.task,
      { inputTokens: seg.inputTokens, outputTokens: produced, runMs },
      nowMs,
    );
    this.host.served(prog.spec.tenant, seg.inputTokens + 2 * produced, seg.startUs, nowUs);
    if (prog.status !== "running") {
      this.host.discard(call, used);
      return;
    }
    if (call.generated >= call.outputCap) {
      call.outputTokens = call.generated;
      this.host.finished(call);
      return;
    }
    // Quantum over with tokens to go: back to the policy, as the rest of the same request.
    this.stats.quantumEnds++;
    call.task = {
      ...call.task,
      inputTokens: 0,
      maxOutputTokens: Math.max(1, this.maxOutputTokens - call.generated),
    };
    call.resident = true;
    released.push(call);
    this.host.requeue(call);
  }
}
