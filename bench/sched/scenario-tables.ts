/**
 * What `main.ts` prints per scenario: one aligned table of every run (the common metrics, then
 * the scenario's own columns: S1's floors and engine counters, S6's lanes, S7's makespan, S2–S5's
 * fairness, priority, budget and storm counts), and the decision-cost table.
 */

import type { CostResult } from "./cost.js";
import type { BenchPolicy } from "./policies.js";
import { BATCH_PREFIX, S1_PREFIX, type Scenario, STALLS_SCENARIO } from "./scenarios.js";
import type { SimResult } from "./sim-types.js";
import { fmt, formatTable } from "./table.js";

/** Scenario-specific columns after the common ones; `results` are the scenario's rows. */
function extraColumns(
  scenario: string,
  results: SimResult[],
): { header: string; cell: (r: SimResult) => string }[] {
  const s = (ms: number | undefined) => fmt((ms ?? Number.NaN) / 1_000, 0);
  if (scenario.startsWith(BATCH_PREFIX)) {
    const fcfsMakespan = (r: SimResult) =>
      results.find((x) => x.policy === "fcfs" && x.load === r.load)?.extras.makespanS;
    return [
      { header: "makespan s", cell: (r) => fmt(r.extras.makespanS, 0) },
      {
        header: "makespan/fcfs",
        cell: (r) => fmt(r.extras.makespanS / (fcfsMakespan(r) ?? Number.NaN), 3),
      },
      { header: "batch", cell: (r) => fmt(r.extras.engine?.meanBatch, 1) },
      { header: "preempt", cell: (r) => String(r.extras.engine?.preemptions ?? "-") },
      { header: "recomputed ktok", cell: (r) => s(r.extras.engine?.recomputedTokens) },
    ];
  }
  if (scenario.startsWith(S1_PREFIX)) {
    const common = [
      { header: "p95 tok-lat", cell: (r: SimResult) => fmt(r.p95TokenLatencyMs, 1) },
      {
        header: "tok floor",
        cell: (r: SimResult) => fmt(r.extras.p95IsolatedTokenLatencyMs, 1),
      },
      { header: "floor s", cell: (r: SimResult) => fmt(r.extras.p95IsolatedMs / 1_000) },
      { header: "mcts p95 s", cell: (r: SimResult) => s(r.extras.p95ByKindMs[2]) },
    ];
    if (!scenario.startsWith("mixed-engine")) return common;
    return [
      ...common,
      { header: "batch", cell: (r) => fmt(r.extras.engine?.meanBatch, 1) },
      { header: "preempt", cell: (r) => String(r.extras.engine?.preemptions ?? "-") },
      { header: "kv-stall", cell: (r) => String(r.extras.engine?.kvStalls ?? "-") },
    ];
  }
  switch (scenario) {
    case STALLS_SCENARIO:
      return [
        { header: "p95 tok-lat", cell: (r) => fmt(r.p95TokenLatencyMs, 1) },
        { header: "floor s", cell: (r) => fmt(r.extras.p95IsolatedMs / 1_000) },
        { header: "lane-h", cell: (r) => fmt((r.extras.lanes?.heldS ?? Number.NaN) / 3_600, 0) },
        {
          header: "lane waste %",
          cell: (r) => fmt((r.extras.lanes?.wasteShare ?? Number.NaN) * 100, 1),
        },
      ];
    case "noisy":
      return [
        { header: "fair-win", cell: (r) => String(r.extras.fairWindows) },
        { header: "max-gap", cell: (r) => fmt(r.extras.maxServiceGap, 0) },
      ];
    case "priority":
      return [
        { header: "p0-p99 s", cell: (r) => s(r.extras.p99ByClassMs[0]) },
        { header: "p2-p99 s", cell: (r) => s(r.extras.p99ByClassMs[2]) },
        { header: "p2-maxwait s", cell: (r) => s(r.extras.maxWaitByClassMs[2]) },
      ];
    case "budgets":
      return [
        { header: "violations", cell: (r) => String(r.extras.budgetViolations) },
        { header: "exhausted", cell: (r) => String(r.extras.budgetExhausted) },
      ];
    case "storm":
      return [
        { header: "429s", cell: (r) => String(r.extras.rateLimited) },
        { header: "retries", cell: (r) => String(r.extras.retries) },
        { header: "wasted ktok", cell: (r) => fmt(r.extras.wastedTokens / 1_000, 0) },
      ];
    default:
      return [];
  }
}

export function scenarioTable(scenario: Scenario, results: SimResult[]): string {
  const fcfsP95 = new Map<number, number>();
  for (const r of results) if (r.policy === "fcfs") fcfsP95.set(r.load, r.p95Ms);
  const extra = extraColumns(scenario.name, results);
  const headers = [
    "load",
    "policy",
    "p50 s",
    "p95 s",
    "p99 s",
    "p95/fcfs",
    "tok-lat ms",
    "prog/min",
    "jain",
    "invers.",
    "fail %",
    "overspend",
    ...extra.map((e) => e.header),
    "hash",
  ];
  const rows = results.map((r) => [
    String(r.load),
    r.policy,
    fmt(r.p50Ms / 1_000),
    fmt(r.p95Ms / 1_000),
    fmt(r.p99Ms / 1_000),
    fmt(r.p95Ms / (fcfsP95.get(r.load) ?? Number.NaN), 2),
    fmt(r.tokenLatencyMs, 1),
    fmt(r.throughput, 2),
    fmt(r.jain, 3),
    String(r.inversions),
    fmt(r.failureRate * 100, 1),
    String(r.overspendTokens),
    ...extra.map((e) => e.cell(r)),
    r.eventLogHash,
  ]);
  return formatTable(headers, rows);
}

export function costTable(policies: BenchPolicy[], costs: Map<string, CostResult>): string {
  const base = costs.get("fcfs")?.pickUs ?? Number.NaN;
  const rows = policies.map((p) => {
    const c = costs.get(p.label) as CostResult;
    return [
      p.label,
      fmt(c.pickUs, 2),
      fmt(c.pickUs / base, 1),
      fmt(c.pickWallUs, 2),
      fmt(c.pickP99Us, 2),
      fmt(c.cycleUs, 2),
    ];
  });
  return formatTable(
    [
      "policy",
      "pick µs (CPU)",
      "× fcfs",
      "pick µs (wall)",
      "pick µs p99 (wall)",
      "pick+charge+enqueue µs (CPU)",
    ],
    rows,
  );
}
