/**
 * Scheduler cost per decision with 10,000 queued processes: the one measurement in bench/sched
 * that is wall-clock, not simulated. The queue is kept at its size by replacing each picked
 * request with that process's next one, as a steady pool would.
 */

import { createRng, deriveSeed } from "../../src/kernel/capacity/random.js";
import type { SchedPolicy, SchedTask } from "../../src/kernel/scheduler/types.js";
import { intBetween, weightedIndex } from "./dist.js";
import { percentile } from "./metrics.js";
import type { Oracle } from "./sim.js";

export interface CostResult {
  /** Mean µs of one `pick` (the decision). */
  pickMeanUs: number;
  pickP99Us: number;
  /** Mean µs of pick + charge + enqueue of the replacement: a full scheduling cycle. */
  cycleMeanUs: number;
}

export interface CostOptions {
  queued: number;
  cycles: number;
  warmupCycles: number;
  seed: number;
  tenantWeights: readonly number[];
  priorityShares: readonly number[];
}

/**
 * Measures `make()` with a real timer (nanoseconds as bigint, e.g. process.hrtime.bigint).
 *
 * @example measureDecisionCost(() => createPolicy("plas"), oracle, opts, process.hrtime.bigint)
 */
export function measureDecisionCost(
  make: (oracle: Oracle) => SchedPolicy,
  options: CostOptions,
  nowNs: () => bigint,
): CostResult {
  const rng = createRng(deriveSeed(options.seed, "decision-cost"));
  const remaining = new Map<string, number>();
  const policy = make({ remainingWorkUs: (id) => remaining.get(id) ?? 0 });
  const next = new Map<string, number>();
  const taskFor = (p: number, step: number, nowMs: number): SchedTask => {
    const processId = `p${p}`;
    if (!remaining.has(processId)) remaining.set(processId, intBetween(rng, 1, 1_000_000_000));
    return {
      taskId: `${processId}/${step}`,
      processId,
      tenantId: `t${p % options.tenantWeights.length}`,
      priority: weightedIndex(rng, options.priorityShares),
      enqueuedAtMs: nowMs,
      inputTokens: intBetween(rng, 100, 4_000),
      maxOutputTokens: 1_024,
      budgetTokens: 1_000_000_000,
      spentTokens: 0,
    };
  };
  let nowMs = 0;
  for (let p = 0; p < options.queued; p++) {
    next.set(`p${p}`, 1);
    const r = policy.enqueue(taskFor(p, 0, nowMs), nowMs);
    if (!r.ok) throw new Error(`setup enqueue refused: ${r.reason}`);
  }
  const picks: number[] = [];
  let cycleNs = 0n;
  for (let i = 0; i < options.warmupCycles + options.cycles; i++) {
    nowMs += 1;
    const t0 = nowNs();
    const d = policy.pick(nowMs);
    const t1 = nowNs();
    if (d?.kind !== "run") throw new Error("decision-cost pool ran dry");
    policy.charge(
      d.task,
      { inputTokens: d.task.inputTokens, outputTokens: 200, runMs: 2_000 },
      nowMs,
    );
    const p = Number(d.task.processId.slice(1));
    const step = next.get(d.task.processId) as number;
    next.set(d.task.processId, step + 1);
    policy.enqueue(taskFor(p, step, nowMs), nowMs);
    const t2 = nowNs();
    if (i >= options.warmupCycles) {
      picks.push(Number(t1 - t0) / 1_000);
      cycleNs += t2 - t0;
    }
  }
  const pickMean = picks.reduce((a, b) => a + b, 0) / picks.length;
  return {
    pickMeanUs: pickMean,
    pickP99Us: percentile(picks, 0.99),
    cycleMeanUs: Number(cycleNs) / 1_000 / options.cycles,
  };
}
