/**
 * bench/sched — the scheduling benchmark (issue 3, item 6; design in ../shared/BENCH-SCHED.md).
 *
 *   npx tsx bench/sched/main.ts [--seed N | --seeds A-B,C] [--scenario NAME]... [--load X]...
 *                               [--quick] [--verify] [--out FILE]
 *
 * Runs every policy of src/kernel/scheduler (through its registry, no copies) plus strict
 * priority and the clairvoyant SRPT oracle on each scenario, prints one aligned table per
 * scenario and a summary of the issue's targets, and writes the rows to bench/out/sched.json.
 * `--scenario mixed` selects every `mixed-*` variant (S1 on six backend shapes, and the KV-scarce
 * engine with HITL stalls).
 * `--seeds` runs every case once per seed and reads the S1 gate across them (mean ± 95% CI and
 * the worst seed, written to `<out>-gate.json`); `--load` keeps only the cases at those loads.
 * Same seed ⇒ same metrics and event-log hashes; only decisionUs (a real timer) varies.
 * `--verify` runs everything twice and fails if any metric or hash differs.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_POLICY } from "../../src/kernel/scheduler/registry.js";
import { type CostResult, measureDecisionCosts, QUEUED_PROCESSES } from "./cost.js";
import { meanCi95 } from "./metrics.js";
import { type BenchPolicy, benchPolicies } from "./policies.js";
import {
  type Case,
  type ClientBaseline,
  SCENARIOS,
  type Scenario,
  TENANT_WEIGHT_MAP,
  TENANT_WEIGHTS,
} from "./scenarios.js";
import { type GateMetric, type GateSummary, type RatioStat, summariseGate } from "./seeds.js";
import { runSim } from "./sim.js";
import type { SimResult } from "./sim-types.js";
import { fmt, formatTable } from "./table.js";

const DECISION_COST = "decision-cost";
const QUEUED_FOR_COST = QUEUED_PROCESSES;
/** The budget layer's default quantum: the bound the overspend target is read against. */
const QUANTUM_TOKENS = 4_096;
const BUDGET_LAYER_POLICIES = new Set([
  "token-budget",
  "composite",
  "composite-class-first",
  "fair-plas",
]);
/** The stack a pool runs unless told otherwise: BENCH-SCHED §7's "default policy stack". */
const STACK = DEFAULT_POLICY;
/** The S1 variants (one per backend shape) that the p95 target is read from. */
const S1_PREFIX = "mixed-";
const TARGET_LOAD = 0.8;
const TARGET_RATIO = 0.6;
/** S6: lanes released after each call (the kernel) against held through tool waits. */
const STALLS = "stalls";
const HOLD_SUFFIX = "+hold-lanes";
/** The S7 offline-batch scenarios, read for makespan. */
const BATCH_PREFIX = "batch-";
/** BENCH-SCHED §7: the default stack within 1.2× of PLAS. */
const PLAS_SLACK = 1.2;

interface Row {
  scenario: string;
  seed: number;
  policy: string;
  load: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  tokenLatencyMs: number | null;
  throughput: number | null;
  jain: number | null;
  inversions: number | null;
  failureRate: number | null;
  overspendTokens: number | null;
  decisionUs: number | null;
  eventLogHash: string | null;
  extras: Record<string, unknown>;
}

interface Args {
  seeds: number[];
  /** Only the cases at these loads (null: all). */
  loads: number[] | null;
  scenarios: string[];
  quick: boolean;
  verify: boolean;
  out: string;
}

function parse(): Args {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values } = parseArgs({
    options: {
      seed: { type: "string", default: "1" },
      seeds: { type: "string" },
      load: { type: "string", multiple: true },
      scenario: { type: "string", multiple: true },
      quick: { type: "boolean", default: false },
      verify: { type: "boolean", default: false },
      out: { type: "string", default: resolve(here, "../out/sched.json") },
    },
  });
  const seeds = values.seeds === undefined ? [seedOf(values.seed)] : seedList(values.seeds);
  const loads = values.load?.flatMap((l) => l.split(",")).map(Number) ?? null;
  if (loads?.some((l) => !Number.isFinite(l) || l <= 0)) fail("--load must be positive numbers");
  const known = [...SCENARIOS.map((s) => s.name), DECISION_COST];
  const scenarios = (values.scenario ?? ["all"])
    .flatMap((s) => s.split(","))
    .flatMap((s) => (s === "mixed" ? known.filter((k) => k.startsWith(S1_PREFIX)) : [s]));
  const selected = scenarios.includes("all") ? known : [...new Set(scenarios)];
  for (const s of selected) {
    if (!known.includes(s))
      fail(`unknown scenario "${s}"; known: ${known.join(", ")}, mixed (all mixed-*), all`);
  }
  return {
    seeds,
    loads,
    scenarios: selected,
    quick: values.quick,
    verify: values.verify,
    out: values.out,
  };
}

/** Most seeds one run takes: a limit, so a typo cannot start a week-long run. */
const MAX_SEEDS = 100;

function seedOf(text: string): number {
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0) fail(`seed "${text}" is not a non-negative integer`);
  return seed;
}

/** "1-10", "3,5,8" or a mix ("1-3,7"), in the order given, without repeats. */
function seedList(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(",")) {
    const range = /^(\d+)-(\d+)$/.exec(part.trim());
    if (!range) {
      seeds.push(seedOf(part.trim()));
      continue;
    }
    const [from, to] = [seedOf(range[1] as string), seedOf(range[2] as string)];
    if (to < from || to - from >= MAX_SEEDS) fail(`bad seed range "${part}"`);
    for (let x = from; x <= to; x++) seeds.push(x);
  }
  const unique = [...new Set(seeds)];
  if (unique.length === 0 || unique.length > MAX_SEEDS)
    fail(`--seeds takes 1 to ${MAX_SEEDS} seeds`);
  return unique;
}

function fail(message: string): never {
  process.stderr.write(`bench/sched: ${message}\n`);
  process.exit(2);
}

/** One run: a policy with the case's client, or a baseline's policy with its own client. */
interface Run {
  policy: BenchPolicy;
  baseline: ClientBaseline | null;
}

function runCase(c: Case, seed: number, run: Run): SimResult {
  const { policy, baseline } = run;
  return runSim({
    ...c.config,
    seed,
    policy: baseline?.label ?? policy.label,
    makePolicy: policy.make,
    client: { ...c.config.client, ...baseline?.client },
  });
}

/** The policies, then each baseline of the case with the policy it names. */
function runsOf(c: Case, policies: BenchPolicy[]): Run[] {
  const runs: Run[] = policies.map((policy) => ({ policy, baseline: null }));
  for (const baseline of c.baselines) {
    const policy = policies.find((p) => p.label === baseline.policy);
    if (!policy)
      throw new Error(`baseline ${baseline.label} names unknown policy ${baseline.policy}`);
    runs.push({ policy, baseline });
  }
  return runs;
}

function toRow(r: SimResult, decisionUs: number | null): Row {
  const { extras, ...metrics } = r;
  return { ...metrics, decisionUs, extras };
}

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
    case STALLS:
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

function scenarioTable(scenario: Scenario, results: SimResult[]): string {
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

function costTable(policies: BenchPolicy[], costs: Map<string, CostResult>): string {
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

/** Decision-cost sizes: picks per timed batch and batches per policy. */
const COST_BATCH_PICKS = 200;
const COST_BATCHES = { full: 60, quick: 15 } as const;

function measureCosts(
  policies: BenchPolicy[],
  seed: number,
  quick: boolean,
): Map<string, CostResult> {
  const cpuUs = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  return measureDecisionCosts(
    new Map(policies.map((p) => [p.label, p.make])),
    {
      queued: QUEUED_FOR_COST,
      batchPicks: COST_BATCH_PICKS,
      batches: quick ? COST_BATCHES.quick : COST_BATCHES.full,
      warmupCycles: quick ? 1_000 : 5_000,
      seed,
      tenantWeights: TENANT_WEIGHTS,
      priorityShares: [0.2, 0.6, 0.2],
    },
    { cpuUs, wallNs: process.hrtime.bigint },
  );
}

/** The best (lowest) of `metric` among the kernel's policies (no FCFS, no oracle). */
function bestOf(rows: SimResult[], metric: (r: SimResult) => number): SimResult {
  const contenders = rows.filter((r) => r.policy !== "srpt-oracle" && r.policy !== "fcfs");
  return contenders.reduce((a, b) => (metric(b) < metric(a) ? b : a));
}

/**
 * The S1 target per backend shape: issue 3 reads p95 program completion (best policy ≤ 0.6×
 * FCFS at 80% load); BENCH-SCHED §7 reads p95 program token latency and asks the default stack
 * (DEFAULT_POLICY) to stay within 1.2× of PLAS. The idle-backend floor says how low any order could
 * take p95 completion; the by-load line shows where ordering starts to matter.
 */
function s1Targets(results: SimResult[]): string[] {
  const lines: string[] = [];
  const verdict = (ok: boolean) => (ok ? "HOLDS" : "FAILS");
  const x = (v: number) => `${fmt(v, 2)}×`;
  for (const scenario of SCENARIOS.filter((sc) => sc.name.startsWith(S1_PREFIX))) {
    const rows = results.filter((r) => r.scenario === scenario.name);
    if (rows.length === 0) continue;
    const at = rows.filter((r) => r.load === TARGET_LOAD);
    const fcfs = at.find((r) => r.policy === "fcfs");
    if (!fcfs) {
      lines.push(`${scenario.name} (${scenario.backend}): no run at ${TARGET_LOAD * 100}% load`);
      continue;
    }
    const get = (label: string) => at.find((r) => r.policy === label);
    const ratio = (r: SimResult | undefined) => (r?.p95Ms ?? Number.NaN) / fcfs.p95Ms;
    const tokRatio = (r: SimResult | undefined) =>
      (r?.p95TokenLatencyMs ?? Number.NaN) / fcfs.p95TokenLatencyMs;
    const best = bestOf(at, (r) => r.p95Ms);
    const bestTok = bestOf(at, (r) => r.p95TokenLatencyMs);
    const floor = fcfs.extras.p95IsolatedMs / fcfs.p95Ms;
    const tokFloor = fcfs.extras.p95IsolatedTokenLatencyMs / fcfs.p95TokenLatencyMs;
    const stackVsPlas =
      (get(STACK)?.p95TokenLatencyMs ?? Number.NaN) /
      (get("plas")?.p95TokenLatencyMs ?? Number.NaN);
    lines.push(
      `${scenario.name} (${scenario.backend}): p95 completion best ${fmt(best.p95Ms / 1_000)} s (${best.policy}) = ${x(ratio(best))} FCFS ${fmt(fcfs.p95Ms / 1_000)} s — ${verdict(ratio(best) <= TARGET_RATIO)} (SRPT oracle ${x(ratio(get("srpt-oracle")))}, ${STACK} ${x(ratio(get(STACK)))})`,
      `  idle-backend floor ${fmt(fcfs.extras.p95IsolatedMs / 1_000)} s = ${x(floor)} FCFS: ${floor <= TARGET_RATIO ? `${TARGET_RATIO}× is reachable in principle` : `no order can reach ${TARGET_RATIO}×`}`,
      `  p95 token latency best ${x(tokRatio(bestTok))} FCFS (${bestTok.policy}) — ${verdict(tokRatio(bestTok) <= TARGET_RATIO)}; ${STACK} (default) ${x(tokRatio(get(STACK)))} FCFS, ${x(stackVsPlas)} PLAS — within ${PLAS_SLACK}×: ${verdict(stackVsPlas <= PLAS_SLACK)}`,
      `  idle-backend floor of p95 token latency ${fmt(fcfs.extras.p95IsolatedTokenLatencyMs, 1)} ms = ${x(tokFloor)} FCFS: ${tokFloor <= TARGET_RATIO ? `${TARGET_RATIO}× is reachable in principle` : `no order can reach ${TARGET_RATIO}×`}`,
    );
    const byLoad = [...new Set(rows.map((r) => r.load))].map((load) => {
      const here = rows.filter((r) => r.load === load);
      const f = here.find((r) => r.policy === "fcfs");
      if (!f) return `${load} -`;
      const b = bestOf(here, (r) => r.p95Ms);
      const bt = bestOf(here, (r) => r.p95TokenLatencyMs);
      return `${load}: ${fmt(b.p95Ms / f.p95Ms, 2)}/${fmt(bt.p95TokenLatencyMs / f.p95TokenLatencyMs, 2)}`;
    });
    lines.push(`  best/FCFS by load (p95 completion/p95 token latency): ${byLoad.join(", ")}`);
  }
  if (lines.length === 0) lines.push("S1 (mixed-*): not run");
  return lines;
}

const x2 = (v: number) => `${fmt(v, 2)}×`;
const pm = (r: RatioStat) => `${fmt(r.mean, 2)} ± ${fmt(r.ci95, 2)}×`;

/** The S1 scenarios' gate over several seeds, for one metric. */
function gateSummaries(results: SimResult[], metric: GateMetric): GateSummary[] {
  const out: GateSummary[] = [];
  for (const scenario of SCENARIOS.filter((sc) => sc.name.startsWith(S1_PREFIX))) {
    const at = results.filter((r) => r.scenario === scenario.name && r.load === TARGET_LOAD);
    const g = summariseGate(at, metric, TARGET_RATIO, STACK);
    if (g) out.push(g);
  }
  return out;
}

/** One row per seed and two summary rows: FCFS, the floor and the policies the gate names. */
function gateTable(g: GateSummary): string {
  const columns = [
    ...new Set([g.best, "plas", "atlas", "composite", g.defaultPolicy, "srpt-oracle"]),
  ].filter((l) => g.policies[l]);
  const headers = [
    "seed",
    `fcfs ${g.metric === "p95Ms" ? "p95 s" : "p95 tok-lat ms"}`,
    "floor",
    ...columns.map((l) => (l === g.best ? `${l} (best)` : l)),
    `${g.defaultPolicy}/plas`,
  ];
  const scale = g.metric === "p95Ms" ? 1 / 1_000 : 1;
  const rows = g.seeds.map((seed, i) => [
    String(seed),
    fmt((g.fcfsMs[i] as number) * scale, 1),
    fmt(g.floor.perSeed[i], 2),
    ...columns.map((l) => fmt(g.policies[l]?.perSeed[i], 2)),
    fmt(g.defaultVsPlas?.perSeed[i], 2),
  ]);
  const summary = (label: string, f: (r: RatioStat) => string) => [
    label,
    "",
    f(g.floor),
    ...columns.map((l) => f(g.policies[l] as RatioStat)),
    g.defaultVsPlas ? f(g.defaultVsPlas) : "-",
  ];
  rows.push(summary("mean±95%", (r) => `${fmt(r.mean, 2)}±${fmt(r.ci95, 2)}`));
  rows.push(summary("worst", (r) => `${fmt(r.worst, 2)} (s${r.worstSeed})`));
  return formatTable(headers, rows);
}

/** The S1 gate read across seeds: it holds only if it holds on every seed. */
function multiSeedTargets(results: SimResult[]): string[] {
  const lines: string[] = [];
  const verdict = (ok: boolean) => (ok ? "HOLDS" : "FAILS");
  for (const metric of ["p95TokenLatencyMs", "p95Ms"] as const) {
    const what =
      metric === "p95Ms" ? "p95 completion (issue 3)" : "p95 token latency (BENCH-SCHED §7)";
    for (const g of gateSummaries(results, metric)) {
      const best = g.policies[g.best] as RatioStat;
      const n = g.seeds.length;
      lines.push(
        `${g.scenario} @ ${g.load * 100}%, ${what}, ${n} seeds: best ${g.best} ${pm(best)} FCFS, worst ${x2(best.worst)} (seed ${best.worstSeed}), ≤ ${TARGET_RATIO}× on ${best.heldSeeds}/${n} seeds — ${verdict(best.heldSeeds === n)}; idle floor ${pm(g.floor)}, worst ${x2(g.floor.worst)}, ≤ ${TARGET_RATIO}× on ${g.floor.heldSeeds}/${n} seeds`,
      );
      if (metric === "p95TokenLatencyMs" && g.defaultVsPlas) {
        const c = g.defaultVsPlas;
        lines.push(
          `  ${g.defaultPolicy} (default stack) / PLAS ${pm(c)}, worst ${x2(c.worst)} (seed ${c.worstSeed}) — within ${PLAS_SLACK}× on every seed: ${verdict(c.heldSeeds === n)}; ${g.defaultPolicy} ${pm(g.policies[g.defaultPolicy] as RatioStat)} FCFS`,
        );
      }
    }
  }
  if (lines.length === 0) lines.push(`S1 (mixed-*) at ${TARGET_LOAD * 100}% load: not run`);
  return lines;
}

/**
 * S6, per load: what holding lanes through tool waits costs, for each policy run both ways:
 * the share of lane-time wasted, and p95 completion and token latency held against released
 * (mean over seeds of the per-seed ratio when there are several).
 */
function stallsFindings(results: SimResult[]): string[] {
  const lines: string[] = [];
  const rows = results.filter((r) => r.scenario === STALLS);
  for (const load of [...new Set(rows.map((r) => r.load))]) {
    const at = rows.filter((r) => r.load === load);
    const parts: string[] = [];
    for (const held of at.filter((r) => r.policy.endsWith(HOLD_SUFFIX))) {
      const label = held.policy.slice(0, -HOLD_SUFFIX.length);
      const released = at.find((r) => r.policy === label && r.seed === held.seed);
      if (!released || held.seed !== at[0]?.seed) continue;
      const pairs = at
        .filter((r) => r.policy === held.policy)
        .map((h) => [h, at.find((r) => r.policy === label && r.seed === h.seed) as SimResult]);
      const ratio = (metric: (r: SimResult) => number) =>
        pairs.reduce((a, [h, r]) => a + metric(h as SimResult) / metric(r as SimResult), 0) /
        pairs.length;
      parts.push(
        `${label}: p95 completion ${x2(ratio((r) => r.p95Ms))}, p95 token latency ${x2(ratio((r) => r.p95TokenLatencyMs))}, lane waste ${fmt((held.extras.lanes?.wasteShare ?? Number.NaN) * 100, 1)}%`,
      );
    }
    if (parts.length > 0)
      lines.push(
        `S6 stalls @ ${load * 100}% load, lanes held through tool waits vs released after each call: ${parts.join("; ")}`,
      );
  }
  return lines;
}

/**
 * S7 offline batch, per engine and batch size: each policy's makespan over FCFS's on the same
 * seed, as the mean (± 95% CI with several seeds) and the worst seed, for the best and worst
 * kernel policy, and the best p50 completion. BENCH-SCHED quotes Autellix's −10–40% makespan;
 * it is a comparison, not a gate.
 */
function batchFindings(results: SimResult[]): string[] {
  const lines: string[] = [];
  const batch = results.filter((r) => r.scenario.startsWith(BATCH_PREFIX));
  for (const key of new Set(batch.map((r) => `${r.scenario}|${r.load}`))) {
    const rows = batch.filter((r) => `${r.scenario}|${r.load}` === key);
    const fcfsBySeed = new Map(rows.filter((r) => r.policy === "fcfs").map((r) => [r.seed, r]));
    const ratios = (label: string, metric: (r: SimResult) => number) => {
      const perSeed = rows
        .filter((r) => r.policy === label && fcfsBySeed.has(r.seed))
        .map((r) => metric(r) / metric(fcfsBySeed.get(r.seed) as SimResult));
      return { ...meanCi95(perSeed), worst: Math.max(...perSeed), n: perSeed.length };
    };
    const span = (r: SimResult) => r.extras.makespanS;
    const labels = [...new Set(rows.map((r) => r.policy))].filter(
      (l) => l !== "fcfs" && l !== "srpt-oracle",
    );
    const spans = labels.map((l) => ({ label: l, ...ratios(l, span) }));
    const best = spans.reduce((a, b) => (b.mean < a.mean ? b : a));
    const worst = spans.reduce((a, b) => (b.mean > a.mean ? b : a));
    const p50 = labels
      .map((l) => ({ label: l, ...ratios(l, (r) => r.p50Ms) }))
      .reduce((a, b) => (b.mean < a.mean ? b : a));
    const show = (r: { mean: number; halfWidth: number; worst: number; n: number }) =>
      r.n > 1 ? `${fmt(r.mean, 2)} ± ${fmt(r.halfWidth, 2)}× (worst ${x2(r.worst)})` : x2(r.mean);
    const fcfsMean = [...fcfsBySeed.values()].reduce((a, r) => a + span(r), 0) / fcfsBySeed.size;
    const [scenario, n] = key.split("|");
    lines.push(
      `S7 offline batch, ${scenario} N=${n}${fcfsBySeed.size > 1 ? `, ${fcfsBySeed.size} seeds` : ""}: makespan FCFS ${fmt(fcfsMean, 0)} s${fcfsBySeed.size > 1 ? " (mean)" : ""}; best ${best.label} ${show(best)}, worst ${worst.label} ${show(worst)}; p50 completion best ${p50.label} ${show(p50)} FCFS`,
    );
  }
  return lines;
}

function targets(results: SimResult[], costs: Map<string, CostResult> | null): string[] {
  const seeds = new Set(results.map((r) => r.seed)).size;
  const lines: string[] = [
    `S1 @ ${TARGET_LOAD * 100}% load, per backend (issue 3: best policy's p95 completion ≤ ${TARGET_RATIO}× FCFS; BENCH-SCHED §7: p95 token latency ≤ ${TARGET_RATIO}× FCFS, default stack ${STACK} within ${PLAS_SLACK}× PLAS)${seeds > 1 ? `, over ${seeds} seeds` : ", one seed (use --seeds for the claim)"}:`,
    ...(seeds > 1 ? multiSeedTargets(results) : s1Targets(results)).map((l) => `    ${l}`),
  ];
  const noisy = results.filter((r) => r.scenario === "noisy");
  if (noisy.length > 0) {
    for (const label of ["vtc", "composite", STACK]) {
      const runs = noisy.filter((x) => x.policy === label);
      const r = runs.reduce<SimResult | null>(
        (a, b) => (a === null || b.jain < a.jain ? b : a),
        null,
      );
      if (!r) continue;
      const fcfs = noisy.find((x) => x.policy === "fcfs" && x.seed === r.seed);
      lines.push(
        `noisy neighbour: ${label} Jain ${fmt(r.jain, 3)} over ${r.extras.fairWindows} backlogged windows${runs.length > 1 ? ` (worst of ${runs.length} seeds: seed ${r.seed})` : ""}; target ≥ 0.95 — ${r.jain >= 0.95 ? "HOLDS" : "FAILS"} (fcfs ${fmt(fcfs?.jain, 3)})`,
      );
    }
  } else {
    lines.push("noisy neighbour: not run");
  }
  lines.push(...stallsFindings(results), ...batchFindings(results));
  const layered = results.filter((r) => BUDGET_LAYER_POLICIES.has(r.policy));
  if (layered.length > 0) {
    const worst = layered.reduce((a, b) => (b.overspendTokens > a.overspendTokens ? b : a));
    const others = results.filter((r) => !BUDGET_LAYER_POLICIES.has(r.policy));
    const othersMax = Math.max(0, ...others.map((r) => r.overspendTokens));
    lines.push(
      `overspend with the budget layer: max ${worst.overspendTokens} tokens (${worst.policy}, ${worst.scenario} ${worst.load}) vs one quantum ${QUANTUM_TOKENS}; target ≤ 1 quantum — ${worst.overspendTokens <= QUANTUM_TOKENS ? "HOLDS" : "FAILS"} (without it: up to ${othersMax})`,
    );
  }
  if (costs) {
    const kernel = [...costs].filter(([label]) => label !== "srpt-oracle");
    const worst = kernel.reduce((a, b) => (b[1].pickUs > a[1].pickUs ? b : a));
    const worstP99 = kernel.reduce((a, b) => (b[1].pickP99Us > a[1].pickP99Us ? b : a));
    lines.push(
      `decision cost @ ${QUEUED_FOR_COST} queued (Node, CPU time, median of ${worst[1].batches} batches of ${COST_BATCH_PICKS}): worst ${fmt(worst[1].pickUs, 2)} µs per pick (${worst[0]}; FCFS ${fmt(costs.get("fcfs")?.pickUs, 2)}); target ≤ 20 µs — ${worst[1].pickUs <= 20 ? "HOLDS" : "FAILS"}; worst single-pick p99 ${fmt(worstP99[1].pickP99Us, 2)} µs wall (${worstP99[0]}; BENCH-SCHED's 50 µs p99 is for workerd: bench/sched/workerd.ts)`,
    );
  }
  return lines;
}

function main(): void {
  const args = parse();
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const policies = benchPolicies(TENANT_WEIGHT_MAP);
  const rows: Row[] = [];
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const [firstSeed] = args.seeds as [number];
  const multi = args.seeds.length > 1;
  out(
    `bench/sched  seed${multi ? "s" : ""}=${args.seeds.join(",")}${args.loads ? `  loads=${args.loads.join(",")}` : ""}${args.quick ? "  (quick)" : ""}`,
  );

  const costs = args.scenarios.includes(DECISION_COST)
    ? measureCosts(policies, firstSeed, args.quick)
    : null;
  if (costs) {
    out(
      `\n== ${DECISION_COST}: µs per scheduling decision, ${QUEUED_FOR_COST} queued processes (load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}) ==`,
    );
    out(costTable(policies, costs));
    for (const p of policies) {
      const c = costs.get(p.label) as CostResult;
      rows.push({
        scenario: DECISION_COST,
        seed: firstSeed,
        policy: p.label,
        load: QUEUED_FOR_COST,
        p50Ms: null,
        p95Ms: null,
        p99Ms: null,
        tokenLatencyMs: null,
        throughput: null,
        jain: null,
        inversions: null,
        failureRate: null,
        overspendTokens: null,
        decisionUs: c.pickUs,
        eventLogHash: null,
        extras: {
          pickWallUs: c.pickWallUs,
          pickP99Us: c.pickP99Us,
          cycleUs: c.cycleUs,
          batches: c.batches,
          batchPicks: COST_BATCH_PICKS,
          loadAverage: loadavg(),
        },
      });
    }
  }

  const all: SimResult[] = [];
  let mismatches = 0;
  for (const scenario of SCENARIOS.filter((s) => args.scenarios.includes(s.name))) {
    const t0 = performance.now();
    const cases = scenario
      .cases(args.quick)
      .filter((c) => args.loads === null || args.loads.includes(c.load));
    if (cases.length === 0) continue;
    for (const seed of args.seeds) {
      const results: SimResult[] = [];
      for (const c of cases) {
        for (const run of runsOf(c, policies)) {
          const r = runCase(c, seed, run);
          if (args.verify) {
            const again = runCase(c, seed, run);
            if (JSON.stringify(again) !== JSON.stringify(r)) {
              mismatches++;
              process.stderr.write(
                `NOT DETERMINISTIC: ${scenario.name} seed ${seed} ${c.load} ${r.policy}\n`,
              );
            }
          }
          results.push(r);
          rows.push(toRow(r, costs?.get(run.policy.label)?.pickUs ?? null));
        }
      }
      all.push(...results);
      // With several seeds the per-run tables are in the JSON; the gate tables below sum them up.
      if (!multi) {
        out(`\n== ${scenario.name}: ${scenario.description} ==`);
        out(scenarioTable(scenario, results));
      }
    }
    process.stderr.write(`${scenario.name}: ${((performance.now() - t0) / 1_000).toFixed(1)} s\n`);
  }

  const gates = multi
    ? [...gateSummaries(all, "p95TokenLatencyMs"), ...gateSummaries(all, "p95Ms")]
    : [];
  for (const g of gates) {
    const what = g.metric === "p95Ms" ? "p95 program completion" : "p95 program token latency";
    out(
      `\n== ${g.scenario} @ ${g.load * 100}% load: ${what}, ratio to FCFS of the same seed (floor: idle backend) ==`,
    );
    out(gateTable(g));
  }

  out("\n== targets (read from this run; never a timed test) ==");
  for (const line of targets(all, costs)) out(line.startsWith(" ") ? line : `- ${line}`);
  if (args.verify)
    out(
      `- determinism: ${mismatches === 0 ? "every run repeated bit-identical" : `${mismatches} runs differed`}`,
    );

  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(rows, null, 2)}\n`);
  const cpu = process.cpuUsage(cpuStart);
  out(
    `\nwrote ${rows.length} rows to ${args.out} in ${((performance.now() - started) / 1_000).toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`,
  );
  if (gates.length > 0) {
    const gateOut = `${args.out.replace(/\.json$/, "")}-gate.json`;
    writeFileSync(gateOut, `${JSON.stringify(gates, null, 2)}\n`);
    out(`wrote the gate over ${args.seeds.length} seeds to ${gateOut}`);
  }
  if (mismatches > 0) process.exit(1);
}

main();
