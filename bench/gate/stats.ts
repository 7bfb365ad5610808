/** Timing for bench/gate: per-call samples in microseconds, and their percentiles. */

import process from "node:process";

export interface Stats {
  samples: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
}

/** The value at quantile `q` (0–1) of ascending `sorted` (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Times `fn(i)` once per sample with the monotonic high-resolution clock, after `warmup` untimed
 * calls (JIT, caches). Each sample includes the clock's own cost: the caller measures a no-op in
 * the same run to show that floor.
 *
 * @example measure((i) => engine.decide(requests[i % requests.length]!), { warmup: 2_000, samples: 20_000 })
 */
export function measure(
  fn: (i: number) => unknown,
  options: { warmup: number; samples: number },
): Stats {
  let sink = 0;
  for (let i = 0; i < options.warmup; i++) if (fn(i)) sink++;
  const us = new Float64Array(options.samples);
  for (let i = 0; i < options.samples; i++) {
    const start = process.hrtime.bigint();
    if (fn(i)) sink++;
    us[i] = Number(process.hrtime.bigint() - start) / 1_000;
  }
  if (sink < 0) console.log(sink); // keeps the results observable, so no call is optimised away
  const sorted = [...us].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  return {
    samples: options.samples,
    p50Us: quantile(sorted, 0.5),
    p99Us: quantile(sorted, 0.99),
    meanUs: total / options.samples,
  };
}
