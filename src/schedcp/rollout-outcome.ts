/**
 * What a finished rollout taught about a policy on a node: its workload class before the
 * deploy, the scheduling metrics before and after, and the outcome — the performance history
 * recommendations learn from. Pure: reports in, a record out.
 */

import type { TelemetryReport } from "./protocol/telemetry.js";
import type { Outcome } from "./recommend.js";
import { classifyNode } from "./workload.js";
import type { WorkloadClass } from "./workload-classes.js";
import type { TimedReport } from "./workload-types.js";

/** A change within this share of the before value is neutral. */
export const NEUTRAL_CHANGE = 0.1;

/** The metrics compared, lower is better for each. */
const METRICS = {
  psiSomeAvg10Pct: (r: TelemetryReport) => r.pressure?.some.avg10Pct ?? null,
  meanRunDelayUs: (r: TelemetryReport) => r.runQueue?.meanRunDelayUs ?? null,
  cpuBusyPct: (r: TelemetryReport) => r.cpu?.total.busyPct ?? null,
  contextSwitchesPerSec: (r: TelemetryReport) => r.contextSwitches?.perSec ?? null,
} as const;
type MetricName = keyof typeof METRICS;
/** The metrics that decide the outcome (the others are context). */
const JUDGED: readonly MetricName[] = ["psiSomeAvg10Pct", "meanRunDelayUs"];

/** Per metric, the mean over the reports that carry it. */
export function meanMetrics(reports: readonly TelemetryReport[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, read] of Object.entries(METRICS)) {
    const values = reports.map(read).filter((v): v is number => v !== null && Number.isFinite(v));
    if (values.length > 0)
      out[name] = Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000;
  }
  return out;
}

export interface NodePerformance {
  workloadClass: WorkloadClass;
  metricsBefore: Record<string, number>;
  metricsAfter: Record<string, number>;
  outcome: Outcome;
}

/**
 * The record for one node, or null when its class is unknown (no CPU utilisation before).
 *
 * @example nodePerformance(before, after, "completed")?.outcome // "neutral"
 */
export function nodePerformance(
  before: readonly TimedReport[],
  after: readonly TelemetryReport[],
  finished: "completed" | "rolled_back",
): NodePerformance | null {
  const profile = classifyNode({ nodeId: "n", reports: before });
  if (profile.class === null) return null;
  const metricsBefore = meanMetrics(before.map((r) => r.report));
  const metricsAfter = meanMetrics(after);
  let outcome: Outcome = "neutral";
  if (finished === "rolled_back") outcome = "rolled_back";
  else {
    const changes = JUDGED.flatMap((name) => {
      const b = metricsBefore[name];
      const a = metricsAfter[name];
      return b === undefined || a === undefined || b === 0 ? [] : [(a - b) / b];
    });
    if (changes.some((c) => c > NEUTRAL_CHANGE)) outcome = "regressed";
    else if (changes.some((c) => c < -NEUTRAL_CHANGE)) outcome = "improved";
  }
  return { workloadClass: profile.class, metricsBefore, metricsAfter, outcome };
}
