/** Summary statistics for the simulator's results. */

/** Nearest-rank percentile (p in [0, 1]) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1] as number;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Jain's fairness index of non-negative shares: 1 when all equal, 1/n when one gets all. */
export function jainIndex(shares: readonly number[]): number {
  let sum = 0;
  let sumSq = 0;
  for (const x of shares) {
    sum += x;
    sumSq += x * x;
  }
  return sumSq === 0 ? 1 : (sum * sum) / (shares.length * sumSq);
}

/**
 * Per-tenant amounts over fixed time windows. An amount over an interval is spread over the
 * windows it overlaps in proportion to the overlap.
 */
export class WindowedSeries {
  readonly perTenant: number[][];

  constructor(
    tenants: number,
    readonly windowUs: number,
  ) {
    this.perTenant = Array.from({ length: tenants }, () => []);
  }

  add(tenant: number, amount: number, startUs: number, endUs: number): void {
    const series = this.perTenant[tenant] as number[];
    const w = this.windowUs;
    if (endUs <= startUs) {
      this.bump(series, Math.floor(startUs / w), amount);
      return;
    }
    const span = endUs - startUs;
    for (let i = Math.floor(startUs / w); i * w < endUs; i++) {
      const overlap = Math.min(endUs, (i + 1) * w) - Math.max(startUs, i * w);
      if (overlap > 0) this.bump(series, i, (amount * overlap) / span);
    }
  }

  get(tenant: number, window: number): number {
    return this.perTenant[tenant]?.[window] ?? 0;
  }

  windows(): number {
    let n = 0;
    for (const s of this.perTenant) n = Math.max(n, s.length);
    return n;
  }

  private bump(series: number[], i: number, amount: number): void {
    while (series.length <= i) series.push(0);
    series[i] = (series[i] as number) + amount;
  }
}

export interface FairnessSummary {
  /** Mean Jain index over windows where at least two tenants were backlogged throughout. */
  jain: number;
  /** Such windows. */
  windows: number;
  /** Largest gap in weight-normalised service between backlogged tenants in one window. */
  maxServiceGap: number;
}

/**
 * Jain's index over per-tenant weight-normalised service in windows where the tenants were
 * backlogged (had a request waiting) for at least `backloggedShare` of the window.
 */
export function fairness(
  service: WindowedSeries,
  backlog: WindowedSeries,
  weights: readonly number[],
  backloggedShare = 0.99,
): FairnessSummary {
  let total = 0;
  let windows = 0;
  let maxServiceGap = 0;
  const n = Math.max(service.windows(), backlog.windows());
  for (let i = 0; i < n; i++) {
    const shares: number[] = [];
    for (let t = 0; t < weights.length; t++) {
      if (backlog.get(t, i) >= backloggedShare * backlog.windowUs) {
        shares.push(service.get(t, i) / (weights[t] as number));
      }
    }
    if (shares.length < 2) continue;
    total += jainIndex(shares);
    windows++;
    maxServiceGap = Math.max(maxServiceGap, Math.max(...shares) - Math.min(...shares));
  }
  return { jain: windows === 0 ? Number.NaN : total / windows, windows, maxServiceGap };
}

/** Two-sided 95% Student t quantiles for 1..30 degrees of freedom. */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/**
 * Mean and the half-width of its 95% confidence interval (Student t, n − 1 degrees of freedom;
 * the normal 1.96 beyond 30). The half-width is NaN for fewer than two values.
 *
 * @example meanCi95([0.5, 0.6, 0.7]) // { mean: 0.6, halfWidth: 0.248… }
 */
export function meanCi95(values: readonly number[]): { mean: number; halfWidth: number } {
  const n = values.length;
  const m = mean(values);
  if (n < 2) return { mean: m, halfWidth: Number.NaN };
  let ss = 0;
  for (const v of values) ss += (v - m) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  const t = T95[n - 2] ?? 1.96;
  return { mean: m, halfWidth: (t * sd) / Math.sqrt(n) };
}
