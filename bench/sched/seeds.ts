/**
 * The S1 gate read over several seeds (BENCH-SCHED §7: "10 seeds, mean ± 95% CI, plus the worst
 * seed"), so a claim never rests on one seed. For each seed every policy's p95 is divided by
 * FCFS's p95 of the same seed (same programs, same arrivals); the ratios are then summarised
 * across seeds. The idle-backend floor is summarised the same way: it is the lowest ratio any
 * order could reach on that seed.
 */

import { meanCi95 } from "./metrics.js";
import type { SimResult } from "./sim-types.js";

/** The p95 metrics a gate can be read from. */
export type GateMetric = "p95TokenLatencyMs" | "p95Ms";

/** A ratio to FCFS across seeds. */
export interface RatioStat {
  mean: number;
  /** Half-width of the 95% confidence interval of the mean (NaN with one seed). */
  ci95: number;
  /** The highest ratio over the seeds, and that seed. */
  worst: number;
  worstSeed: number;
  /** Seeds whose ratio is at or below the target. */
  heldSeeds: number;
  perSeed: number[];
}

export interface GateSummary {
  scenario: string;
  load: number;
  metric: GateMetric;
  target: number;
  seeds: number[];
  /** FCFS's p95 in ms, per seed. */
  fcfsMs: number[];
  floor: RatioStat;
  /** Ratio to FCFS per policy label (FCFS itself excluded). */
  policies: Record<string, RatioStat>;
  /** The kernel policy (no FCFS, no oracle) with the lowest mean ratio. */
  best: string;
  /** The default policy stack, whose ratio to PLAS BENCH-SCHED §7 bounds. */
  defaultPolicy: string;
  /** Default stack / PLAS per seed (BENCH-SCHED §7: within 1.2×). */
  defaultVsPlas: RatioStat | null;
}

const ORACLE = "srpt-oracle";
const FLOORS: Record<GateMetric, (r: SimResult) => number> = {
  p95TokenLatencyMs: (r) => r.extras.p95IsolatedTokenLatencyMs,
  p95Ms: (r) => r.extras.p95IsolatedMs,
};

function stat(perSeed: number[], seeds: number[], target: number): RatioStat {
  const { mean, halfWidth } = meanCi95(perSeed);
  let worstAt = 0;
  perSeed.forEach((v, i) => {
    if (v > (perSeed[worstAt] as number)) worstAt = i;
  });
  return {
    mean,
    ci95: halfWidth,
    worst: perSeed[worstAt] as number,
    worstSeed: seeds[worstAt] as number,
    heldSeeds: perSeed.filter((v) => v <= target).length,
    perSeed,
  };
}

/**
 * Summarises one scenario's runs at one load over the seeds they cover. Every seed must have
 * an FCFS run; a policy missing on some seed is left out.
 *
 * @example summariseGate(rows.filter((r) => r.scenario === "mixed-engine-kv" && r.load === 0.8), "p95TokenLatencyMs", 0.6, "fair-plas")
 */
export function summariseGate(
  results: readonly SimResult[],
  metric: GateMetric,
  target: number,
  defaultPolicy: string,
): GateSummary | null {
  const first = results[0];
  if (!first) return null;
  const seeds = [...new Set(results.map((r) => r.seed))].sort((a, b) => a - b);
  const fcfs = seeds.map((s) => results.find((r) => r.seed === s && r.policy === "fcfs"));
  if (fcfs.some((r) => r === undefined)) return null;
  const base = fcfs as SimResult[];
  const labels = [...new Set(results.map((r) => r.policy))].filter((l) => l !== "fcfs");
  const policies: Record<string, RatioStat> = {};
  for (const label of labels) {
    const ratios = seeds.map((s, i) => {
      const r = results.find((x) => x.seed === s && x.policy === label);
      return r ? r[metric] / (base[i] as SimResult)[metric] : Number.NaN;
    });
    if (ratios.some((v) => Number.isNaN(v))) continue;
    policies[label] = stat(ratios, seeds, target);
  }
  const floor = stat(
    base.map((r) => FLOORS[metric](r) / r[metric]),
    seeds,
    target,
  );
  const kernel = Object.entries(policies).filter(([l]) => l !== ORACLE);
  const best = kernel.reduce<[string, RatioStat] | null>(
    (a, b) => (a === null || b[1].mean < a[1].mean ? b : a),
    null,
  );
  const stack = policies[defaultPolicy];
  const plas = policies.plas;
  const defaultVsPlas =
    stack && plas
      ? stat(
          stack.perSeed.map((v, i) => v / (plas.perSeed[i] as number)),
          seeds,
          1.2,
        )
      : null;
  return {
    scenario: first.scenario,
    load: first.load,
    metric,
    target,
    seeds,
    fcfsMs: base.map((r) => r[metric]),
    floor,
    policies,
    best: best?.[0] ?? "-",
    defaultPolicy,
    defaultVsPlas,
  };
}
