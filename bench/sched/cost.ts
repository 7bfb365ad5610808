/**
 * Scheduler cost per decision with 10,000 queued processes: the one measurement in bench/sched
 * that is a timer, not simulation. The queue is kept near its size by replacing each picked
 * request with that process's next one, as a steady pool would.
 *
 * Made to be read on a shared machine:
 *  - a decision's cost is CPU time of this process (`cpuUs`), not wall-clock, so time spent
 *    descheduled while other jobs run is not counted; it is read over batches of picks (a
 *    batch lasts about a millisecond, far above the timer's 1 µs resolution) and reported as the
 *    median batch, so a batch that a page fault or a GC landed in does not move it. The process's
 *    CPU time includes V8's helper threads (concurrent GC marking), so it also counts garbage
 *    collection the decisions cause; the wall-clock median of the same batches is reported too;
 *  - policies are measured round-robin, batch by batch, so a change in the machine's load
 *    during the run hits all of them alike, and FCFS (one heap pop) is measured in the same run
 *    as the baseline;
 *  - the p99 is over single picks, each timed with the wall clock (`wallNs`) in batches of its
 *    own; it includes the clock read and does see preemption, so read it with the load average.
 *
 * No Node built-ins here: the clocks are passed in (process.cpuUsage and hrtime in main.ts), and
 * the queue generator is shared with the workerd measurement (worker.ts).
 */

import { createRng, deriveSeed, type Rng } from "../../src/kernel/capacity/random.js";
import type { SchedPolicy, SchedTask } from "../../src/kernel/scheduler/types.js";
import { intBetween, weightedIndex } from "./dist.js";
import { percentile } from "./metrics.js";
import type { Oracle } from "./sim-types.js";

/** Queued processes while a decision is timed: issue 3's "10,000 queued processes". */
/** Decision-cost sizes: picks per timed batch and batches per policy. */
export const COST_BATCH_PICKS = 200;
export const COST_BATCHES = { full: 60, quick: 15 } as const;

export const QUEUED_PROCESSES = 10_000;

export interface CostResult {
  /** Median over batches of CPU µs per `pick` (the decision). */
  pickUs: number;
  /** Median over the same batches of wall-clock µs per pick. */
  pickWallUs: number;
  /** P99 of single picks, wall-clock µs. */
  pickP99Us: number;
  /** Median over batches of CPU µs per pick + charge + enqueue of the replacement. */
  cycleUs: number;
  batches: number;
}

export interface CostOptions {
  queued: number;
  /** Picks per timed batch; the queue dips by at most this much during a batch. */
  batchPicks: number;
  /** Timed batches per policy, of each kind (CPU-timed and wall-timed). */
  batches: number;
  warmupCycles: number;
  seed: number;
  tenantWeights: readonly number[];
  priorityShares: readonly number[];
}

export interface Clocks {
  /** CPU time of the process in µs (user + system). */
  cpuUs: () => number;
  /** A wall clock in ns. */
  wallNs: () => bigint;
}

/**
 * A policy with `queued` processes waiting, each with one request; `cycle` serves one request
 * (pick, charge, enqueue that process's next) so the queue keeps its size.
 */
export class QueuedPool {
  readonly policy: SchedPolicy;
  private readonly rng: Rng;
  private readonly remaining = new Map<string, number>();
  private readonly nextStep: number[] = [];
  private nowMs = 0;

  constructor(
    make: (oracle: Oracle) => SchedPolicy,
    private readonly options: Pick<
      CostOptions,
      "queued" | "seed" | "tenantWeights" | "priorityShares"
    >,
  ) {
    this.rng = createRng(deriveSeed(options.seed, "decision-cost"));
    this.policy = make({ remainingWorkUs: (id) => this.remaining.get(id) ?? 0 });
    for (let p = 0; p < options.queued; p++) {
      this.nextStep.push(1);
      const r = this.policy.enqueue(this.taskFor(p, 0), this.nowMs);
      if (!r.ok) throw new Error(`setup enqueue refused: ${r.reason}`);
    }
  }

  /** One full scheduling cycle. */
  cycle(): void {
    this.requeue(this.pick());
  }

  /** The decision alone: one pick at the next millisecond. */
  pick(): SchedTask {
    this.nowMs += 1;
    const d = this.policy.pick(this.nowMs);
    if (d?.kind !== "run") throw new Error("decision-cost pool ran dry");
    return d.task;
  }

  /** What follows a pick: charge the lease, queue that process's next request. */
  requeue(task: SchedTask): void {
    this.policy.charge(
      task,
      { inputTokens: task.inputTokens, outputTokens: 200, runMs: 2_000 },
      this.nowMs,
    );
    const p = Number(task.processId.slice(1));
    const step = this.nextStep[p] as number;
    this.nextStep[p] = step + 1;
    this.policy.enqueue(this.taskFor(p, step), this.nowMs);
  }

  private taskFor(p: number, step: number): SchedTask {
    const processId = `p${p}`;
    const rng = this.rng;
    if (!this.remaining.has(processId)) this.remaining.set(processId, intBetween(rng, 1, 1e9));
    return {
      taskId: `${processId}/${step}`,
      processId,
      tenantId: `t${p % this.options.tenantWeights.length}`,
      priority: weightedIndex(rng, this.options.priorityShares),
      enqueuedAtMs: this.nowMs,
      inputTokens: intBetween(rng, 100, 4_000),
      maxOutputTokens: 1_024,
      budgetTokens: 1_000_000_000,
      spentTokens: 0,
      // A few programs fan out, so ATLAS follows threads as it would in a pool.
      ...(p % 8 === 0 ? { threadId: `${step % 4}` } : {}),
    };
  }
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

/**
 * Measures every policy of `makers` (label → factory), interleaved batch by batch.
 *
 * @example measureDecisionCosts(new Map([["fcfs", () => createPolicy("fcfs")]]), opts, clocks)
 */
export function measureDecisionCosts(
  makers: ReadonlyMap<string, (oracle: Oracle) => SchedPolicy>,
  options: CostOptions,
  clocks: Clocks,
): Map<string, CostResult> {
  const pools = new Map<string, QueuedPool>();
  for (const [label, make] of makers) {
    const pool = new QueuedPool(make, options);
    for (let i = 0; i < options.warmupCycles; i++) pool.cycle();
    pools.set(label, pool);
  }
  const B = options.batchPicks;
  const picked: SchedTask[] = new Array(B);
  // What reading the CPU clock twice costs, to take out of every batch.
  const overhead: number[] = [];
  for (let i = 0; i < 50; i++) {
    const a = clocks.cpuUs();
    overhead.push(clocks.cpuUs() - a);
  }
  const clockUs = median(overhead);
  type Series = { pick: number[]; pickWall: number[]; cycle: number[]; single: number[] };
  const series = new Map<string, Series>();
  for (const label of pools.keys())
    series.set(label, { pick: [], pickWall: [], cycle: [], single: [] });
  for (let round = 0; round < options.batches; round++) {
    for (const [label, pool] of pools) {
      const s = series.get(label) as Series;
      // B decisions in a row (the queue dips by B), then their charges and replacements.
      const w0 = clocks.wallNs();
      let t0 = clocks.cpuUs();
      for (let i = 0; i < B; i++) picked[i] = pool.pick();
      const t1 = clocks.cpuUs();
      s.pickWall.push(Number(clocks.wallNs() - w0) / 1_000 / B);
      s.pick.push((t1 - t0 - clockUs) / B);
      for (let i = 0; i < B; i++) pool.requeue(picked[i] as SchedTask);
      // B full cycles.
      t0 = clocks.cpuUs();
      for (let i = 0; i < B; i++) pool.cycle();
      s.cycle.push((clocks.cpuUs() - t0 - clockUs) / B);
      // B single picks, each on the wall clock.
      for (let i = 0; i < B; i++) {
        const w0 = clocks.wallNs();
        const task = pool.pick();
        s.single.push(Number(clocks.wallNs() - w0) / 1_000);
        pool.requeue(task);
      }
    }
  }
  const results = new Map<string, CostResult>();
  for (const [label, s] of series) {
    results.set(label, {
      pickUs: median(s.pick),
      pickWallUs: median(s.pickWall),
      pickP99Us: percentile(s.single, 0.99),
      cycleUs: median(s.cycle),
      batches: s.pick.length,
    });
  }
  return results;
}
