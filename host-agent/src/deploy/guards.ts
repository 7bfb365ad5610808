import type { Guard, TelemetryReport } from "../protocol.js";
import type { GuardVerdict } from "./types.js";

/*
 * Guards: a policy is reverted when a telemetry metric is worse than before the deploy by more
 * than its margin, above its noise floor, for at least `sustainMs`. Pure: reports in, verdicts
 * out; the deployer does the reverting.
 */

/** How many reports before a deploy make its baseline (their mean, per metric). */
export const BASELINE_REPORTS = 3;

/**
 * A guard metric's value in one report; null when the node cannot measure it.
 *
 * @example guardMetric(report, "psiSomeAvg10Pct") // report.pressure.some.avg10Pct
 */
export function guardMetric(report: TelemetryReport, metric: Guard["metric"]): number | null {
  switch (metric) {
    case "psiSomeAvg10Pct":
      return report.pressure?.some.avg10Pct ?? null;
    case "meanRunDelayUs":
      return report.runQueue?.meanRunDelayUs ?? null;
  }
}

/** The mean of a metric over the reports that have it, or null. */
export function baselineOf(
  reports: readonly TelemetryReport[],
  metric: Guard["metric"],
): number | null {
  const values = reports
    .map((report) => guardMetric(report, metric))
    .filter((value): value is number => value !== null);
  if (values.length === 0) return null;
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * One guard's verdict on a value: regressed when above `baseline × (1 + margin)` and above the
 * floor. Without a baseline (or a value) nothing can regress.
 *
 * @example judge({ metric: "meanRunDelayUs", maxIncreasePct: 50, floor: 10, sustainMs: 0 }, 20, 31).regressed // true
 */
export function judge(guard: Guard, baseline: number | null, value: number | null): GuardVerdict {
  const regressed =
    baseline !== null &&
    value !== null &&
    value > guard.floor &&
    value > baseline * (1 + guard.maxIncreasePct / 100);
  return { guard, baseline, value, regressed };
}

/** A guard that tripped, with the evidence. */
export interface GuardTrip {
  verdict: GuardVerdict;
  /** When the regression began (the first regressed report). */
  sinceMs: number;
  atMs: number;
}

/**
 * Watches the guards of one deployment: fixed baselines, and per guard the instant its metric
 * started to regress (reset by any report that does not).
 *
 * @example
 * const watch = new GuardWatch(guards, reportsBeforeDeploy);
 * const trip = watch.observe(report, Date.now()); // non-null: revert
 */
export class GuardWatch {
  readonly #guards: readonly Guard[];
  readonly #baselines: (number | null)[];
  readonly #regressingSinceMs: (number | null)[];

  constructor(guards: readonly Guard[], before: readonly TelemetryReport[]) {
    this.#guards = guards;
    const recent = before.slice(-BASELINE_REPORTS);
    this.#baselines = guards.map((guard) => baselineOf(recent, guard.metric));
    this.#regressingSinceMs = guards.map(() => null);
  }

  baselines(): (number | null)[] {
    return [...this.#baselines];
  }

  observe(report: TelemetryReport, atMs: number): GuardTrip | null {
    let trip: GuardTrip | null = null;
    this.#guards.forEach((guard, i) => {
      const verdict = judge(guard, this.#baselines[i] ?? null, guardMetric(report, guard.metric));
      if (!verdict.regressed) {
        this.#regressingSinceMs[i] = null;
        return;
      }
      const sinceMs = this.#regressingSinceMs[i] ?? atMs;
      this.#regressingSinceMs[i] = sinceMs;
      if (trip === null && atMs - sinceMs >= guard.sustainMs) trip = { verdict, sinceMs, atMs };
    });
    return trip;
  }
}

/** The evidence of a trip, as a transition's reason. */
export function describeTrip(trip: GuardTrip): string {
  const { guard, baseline, value } = trip.verdict;
  const fmt = (n: number | null) => (n === null ? "n/a" : Number(n.toFixed(3)).toString());
  const increasePct =
    baseline !== null && value !== null && baseline > 0
      ? ((value - baseline) / baseline) * 100
      : null;
  return (
    `guard ${guard.metric}: ${fmt(value)} against a baseline of ${fmt(baseline)}` +
    `${increasePct === null ? "" : ` (+${fmt(increasePct)}%)`}, allowed +${guard.maxIncreasePct}% above a floor of ${guard.floor}` +
    `, regressed for ${trip.atMs - trip.sinceMs} ms (sustain ${guard.sustainMs} ms)`
  );
}
