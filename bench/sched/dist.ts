/** Distributions over a seeded `Rng` (no Math.random anywhere in the simulator). */

import type { Rng } from "../../src/kernel/capacity/random.js";

/** Standard normal by Box–Muller (one draw per call; the second value is discarded for simplicity). */
export function normal(rng: Rng): number {
  const u1 = 1 - rng.nextFloat();
  const u2 = rng.nextFloat();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Lognormal with the given median and log-space sigma. */
export function lognormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng));
}

/** Lognormal with the given mean (median = mean / e^(σ²/2)). */
export function lognormalMean(rng: Rng, mean: number, sigma: number): number {
  return lognormal(rng, mean / Math.exp((sigma * sigma) / 2), sigma);
}

/** Exponential with the given mean. */
export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng.nextFloat());
}

/** Uniform integer in [lo, hi]. */
export function intBetween(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.nextFloat() * (hi - lo + 1));
}

/** An index drawn with probability proportional to `weights`. */
export function weightedIndex(rng: Rng, weights: readonly number[]): number {
  let total = 0;
  for (const w of weights) total += w;
  let x = rng.nextFloat() * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i] as number;
    if (x < 0) return i;
  }
  return weights.length - 1;
}

/** Clamps and rounds to an integer in [lo, hi]. */
export function clampInt(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(x)));
}
