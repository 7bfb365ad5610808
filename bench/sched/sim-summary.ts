/**
 * A finished run's metrics (the row `main.ts` prints): completion-time percentiles, program
 * token latency, the idle-backend floors, fairness, priority and budget counts, over the
 * programs that arrived in the measured period. Pure: the event loop (`sim.ts`) hands over
 * what it counted and folds the result into its event-log hash.
 */

import { fairness, mean, percentile, type WindowedSeries } from "./metrics.js";
import type { ApiCounts } from "./sim-api.js";
import { type Program, US_PER_MS } from "./sim-records.js";
import type { EngineStats, SimConfig, SimResult } from "./sim-types.js";
import { PROGRAM_KINDS } from "./workload.js";

/** What the event loop counted during a run. */
export interface RunCounts {
  config: SimConfig;
  programs: readonly Program[];
  inversions: number;
  maxWaitByClassUs: readonly number[];
  /** Weighted service per tenant over time, and when each tenant had a request queued. */
  service: WindowedSeries;
  backlog: WindowedSeries;
  wastedTokens: number;
  events: number;
  truncated: boolean;
  /** Hosted-API runs only: retries, 429s and lane-time. */
  api: ApiCounts | null;
  /** Model-B runs only. */
  engine: EngineStats | null;
}

/** The result row, with an empty `eventLogHash` for the caller to fill in. */
export function summariseRun(run: RunCounts): SimResult {
  const c = run.config;
  const jct = (p: Program) => (p.endUs - p.arrivalUs) / US_PER_MS;
  const measured = run.programs.filter(
    (p) => p.arrivalUs >= c.measureFromUs && p.arrivalUs < c.measureToUs,
  );
  const completed = measured.filter((p) => p.status === "exited");
  const jctMs = completed.map(jct);
  const p95ByKindMs = PROGRAM_KINDS.map((kind) =>
    round(percentile(completed.filter((p) => p.spec.kind === kind).map(jct), 0.95), 1),
  );
  const p95IsolatedMs = percentile(
    completed.map((p) => p.isolatedUs / US_PER_MS),
    0.95,
  );
  const p95IsolatedTokenLatencyMs = percentile(
    completed.map((p) => p.isolatedUs / US_PER_MS / Math.max(1, p.spec.outputTokens)),
    0.95,
  );
  const tokenLatency = completed.map((p) => jct(p) / Math.max(1, p.spec.outputTokens));
  const failed = measured.filter((p) => p.status === "failed").length;
  const exhausted = measured.filter((p) => p.status === "budget_exhausted").length;
  let overspend = 0;
  let violations = 0;
  for (const p of run.programs) {
    const over = p.spentTokens - p.spec.budgetTokens;
    if (over > 0) {
      violations++;
      overspend = Math.max(overspend, over);
    }
  }
  const p99ByClassMs = [0, 1, 2].map((k) =>
    percentile(completed.filter((p) => p.spec.priority === k).map(jct), 0.99),
  );
  const makespanUs = Math.max(1, ...run.programs.map((p) => p.endUs));
  const allCompleted = run.programs.filter((p) => p.status === "exited").length;
  const fair = fairness(run.service, run.backlog, c.tenantWeights);
  const ended = completed.length + failed;
  const result: SimResult = {
    scenario: c.scenario,
    seed: c.seed,
    policy: c.policy,
    load: c.load,
    p50Ms: round(percentile(jctMs, 0.5), 1),
    p95Ms: round(percentile(jctMs, 0.95), 1),
    p99Ms: round(percentile(jctMs, 0.99), 1),
    tokenLatencyMs: round(mean(tokenLatency), 3),
    p95TokenLatencyMs: round(percentile(tokenLatency, 0.95), 3),
    throughput: round((allCompleted / makespanUs) * 60_000_000, 3),
    jain: round(fair.jain, 4),
    inversions: run.inversions,
    failureRate: round(ended === 0 ? 0 : failed / ended, 4),
    overspendTokens: overspend,
    eventLogHash: "",
    extras: {
      measured: measured.length,
      completed: completed.length,
      failed,
      budgetExhausted: exhausted,
      budgetViolations: violations,
      p99ByClassMs: p99ByClassMs.map((v) => round(v, 1)),
      p95ByKindMs,
      p95IsolatedMs: round(p95IsolatedMs, 1),
      p95IsolatedTokenLatencyMs: round(p95IsolatedTokenLatencyMs, 3),
      maxWaitByClassMs: run.maxWaitByClassUs.map((v) => round(v / US_PER_MS, 1)),
      fairWindows: fair.windows,
      maxServiceGap: round(fair.maxServiceGap, 1),
      rateLimited: run.api?.rateLimited ?? 0,
      retries: run.api?.retries ?? 0,
      wastedTokens: run.wastedTokens,
      events: run.events,
      makespanS: round(makespanUs / 1_000_000, 1),
      truncated: run.truncated,
    },
  };
  const api = run.api;
  if (api && c.client.holdLanes !== undefined) {
    result.extras.lanes = {
      heldS: round(api.laneHeldUs / 1_000_000, 1),
      wasteShare: round(api.laneHeldUs === 0 ? 0 : api.laneIdleUs / api.laneHeldUs, 4),
    };
  }
  if (run.engine) result.extras.engine = run.engine;
  return result;
}

function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
