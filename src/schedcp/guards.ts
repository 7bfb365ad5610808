/**
 * Guards, as the control plane judges them: a node's telemetry after a deploy against its
 * baseline from before, per GuardSchema. A guard trips when its metric is worse than the
 * baseline by more than `maxIncreasePct`, at or above the `floor` (below it the metric is
 * noise), for at least `sustainMs`. A report without the metric, or a node without a
 * baseline, proves nothing either way.
 */

import type { Guard } from "./protocol/assignment.js";
import type { TelemetryReport } from "./protocol/telemetry.js";

/** The guard metric's value in a report, null when the report does not carry it. */
export function guardMetric(report: TelemetryReport, metric: Guard["metric"]): number | null {
  if (metric === "psiSomeAvg10Pct") return report.pressure?.some.avg10Pct ?? null;
  return report.runQueue?.meanRunDelayUs ?? null;
}

/** The highest value a guard tolerates over `baseline`: the margin above it, or the floor. */
export function guardLimit(guard: Guard, baseline: number): number {
  return Math.max(guard.floor, baseline * (1 + guard.maxIncreasePct / 100));
}

/** Per guard: since when its metric has been over the limit (null: it is not). */
export type GuardTracker = Array<number | null>;

export type GuardVerdict =
  /** Every guard measured and within its limit. */
  | { kind: "ok" }
  /** Over a limit, not yet for `sustainMs`. */
  | { kind: "violating"; detail: string }
  /** Over a limit for `sustainMs`: a regression. */
  | { kind: "regressed"; detail: string }
  /** A guard could not be measured (no metric in the report, or no baseline). */
  | { kind: "no_evidence"; detail: string };

/**
 * Judges one report of a node against its baseline; returns the verdict and the updated
 * tracker (the input is not changed).
 *
 * @example evaluateGuards(guards, baseline, report, atMs, tracker ?? newTracker(guards)).verdict.kind
 */
export function evaluateGuards(
  guards: readonly Guard[],
  baseline: TelemetryReport | null,
  report: TelemetryReport,
  atMs: number,
  tracker: GuardTracker,
): { verdict: GuardVerdict; tracker: GuardTracker } {
  const next = [...tracker];
  let regressed: string | null = null;
  let violating: string | null = null;
  let missing: string | null = null;
  guards.forEach((guard, i) => {
    const value = guardMetric(report, guard.metric);
    const base = baseline === null ? null : guardMetric(baseline, guard.metric);
    if (value === null || base === null) {
      // No evidence: the guard's clock neither starts nor resets.
      missing ??= `${guard.metric}: ${base === null ? "no baseline" : "not in the report"}`;
      return;
    }
    const limit = guardLimit(guard, base);
    if (value >= guard.floor && value > limit) {
      const since = next[i] ?? atMs;
      next[i] = since;
      const detail = `${guard.metric} ${round(value)} over ${round(limit)} (baseline ${round(base)} + ${guard.maxIncreasePct}%, floor ${guard.floor}) for ${atMs - since} ms`;
      if (atMs - since >= guard.sustainMs) regressed ??= detail;
      else violating ??= detail;
    } else {
      next[i] = null;
    }
  });
  const verdict: GuardVerdict = regressed
    ? { kind: "regressed", detail: regressed }
    : violating
      ? { kind: "violating", detail: violating }
      : missing
        ? { kind: "no_evidence", detail: missing }
        : { kind: "ok" };
  return { verdict, tracker: next };
}

/** A tracker for `guards` with nothing over its limit. */
export function newTracker(guards: readonly Guard[]): GuardTracker {
  return guards.map(() => null);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
