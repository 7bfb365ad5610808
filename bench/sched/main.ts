/**
 * bench/sched — the scheduling benchmark (issue 3, item 6; design in ../shared/BENCH-SCHED.md).
 *
 *   npx tsx bench/sched/main.ts [--seed N | --seeds A-B,C] [--scenario NAME]... [--load X]...
 *                               [--policy NAME]... [--api-hours H] [--quick] [--verify]
 *                               [--out FILE]
 *
 * Runs every policy of src/kernel/scheduler (through its registry, no copies) plus strict
 * priority and the clairvoyant SRPT oracle on each scenario, prints one aligned table per
 * scenario and a summary of the issue's targets, and writes the rows to bench/out/sched.json.
 * `--scenario mixed` selects every `mixed-*` variant (S1 on six backend shapes, and the KV-scarce
 * engine with HITL stalls).
 * `--api-hours` sets the arrival period of S1's hosted-API runs (default 12).
 * `--seeds` runs every case once per seed and reads the S1 gate across them (mean ± 95% CI and
 * the worst seed, written to `<out>-gate.json`); `--load` keeps only the cases at those loads;
 * `--policy` runs only the named policies, with FCFS (every ratio's baseline) and whatever a
 * scenario's client baselines name; it can also name the rejected experiments of
 * `experimentPolicies`, which no default run includes.
 * Same seed ⇒ same metrics and event-log hashes; only decisionUs (a real timer) varies.
 * `--verify` runs everything twice and fails if any metric or hash differs.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  COST_BATCH_PICKS,
  COST_BATCHES,
  type CostResult,
  measureDecisionCosts,
  QUEUED_PROCESSES,
} from "./cost.js";
import { type BenchPolicy, benchPolicies, experimentPolicies } from "./policies.js";
import { costTable, scenarioTable } from "./scenario-tables.js";
import {
  API_RUN_HOURS,
  type Case,
  type ClientBaseline,
  S1_PREFIX,
  SCENARIOS,
  type Scenario,
  TENANT_WEIGHT_MAP,
  TENANT_WEIGHTS,
} from "./scenarios.js";
import { runSim } from "./sim.js";
import type { SimResult } from "./sim-types.js";
import { gateSummaries, gateTable, targets } from "./targets.js";

const DECISION_COST = "decision-cost";
/** The baseline every ratio is read against; always run. */
const FCFS = "fcfs";
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
  /** Only these policies, plus FCFS and the ones client baselines name (null: all). */
  policies: string[] | null;
  scenarios: string[];
  quick: boolean;
  /** Arrival period of S1's hosted-API runs, hours. */
  apiHours: number;
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
      policy: { type: "string", multiple: true },
      scenario: { type: "string", multiple: true },
      quick: { type: "boolean", default: false },
      "api-hours": { type: "string" },
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
  const policies = values.policy?.flatMap((p) => p.split(",")) ?? null;
  const labels = everyPolicy().map((p) => p.label);
  for (const p of policies ?? []) {
    if (!labels.includes(p)) fail(`unknown policy "${p}"; known: ${labels.join(", ")}`);
  }
  return {
    seeds,
    loads,
    policies,
    scenarios: selected,
    quick: values.quick,
    apiHours: apiHoursOf(values["api-hours"], values.quick),
    verify: values.verify,
    out: values.out,
  };
}

/** Longest `--api-hours`: 1,000 h of arrivals is about 16 M events per run at 80% load. */
const MAX_API_HOURS = 1_000;

function apiHoursOf(text: string | undefined, quick: boolean): number {
  if (text === undefined) return API_RUN_HOURS;
  if (quick) fail("--api-hours does not combine with --quick");
  const hours = Number(text);
  if (!Number.isFinite(hours) || hours <= 0 || hours > MAX_API_HOURS)
    fail(`--api-hours must be a number of hours in (0, ${MAX_API_HOURS}], not "${text}"`);
  return hours;
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

/**
 * `wanted` (null: every standard policy), FCFS, and every policy a scenario's client baseline
 * runs with. Experiments run only when `wanted` names them.
 */
function selectPolicies(wanted: string[] | null): BenchPolicy[] {
  if (wanted === null) return benchPolicies(TENANT_WEIGHT_MAP);
  const keep = new Set([
    FCFS,
    ...wanted,
    ...SCENARIOS.flatMap((s) => (s.baselines ?? []).map((b) => b.policy)),
  ]);
  return everyPolicy().filter((p) => keep.has(p.label));
}

/** The standard policies, then the experiments: every label `--policy` accepts. */
function everyPolicy(): BenchPolicy[] {
  return [...benchPolicies(TENANT_WEIGHT_MAP), ...experimentPolicies()];
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

/** The policies, then each of the scenario's baselines with the policy it names. */
function runsOf(scenario: Scenario, policies: BenchPolicy[]): Run[] {
  const runs: Run[] = policies.map((policy) => ({ policy, baseline: null }));
  for (const baseline of scenario.baselines ?? []) {
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
      queued: QUEUED_PROCESSES,
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

function main(): void {
  const args = parse();
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const policies = selectPolicies(args.policies);
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
      `\n== ${DECISION_COST}: µs per scheduling decision, ${QUEUED_PROCESSES} queued processes (load average ${loadavg()
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
        load: QUEUED_PROCESSES,
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
      .cases({ quick: args.quick, apiHours: args.apiHours })
      .filter((c) => args.loads === null || args.loads.includes(c.load));
    if (cases.length === 0) continue;
    const runs = runsOf(scenario, policies);
    for (const seed of args.seeds) {
      const results: SimResult[] = [];
      for (const c of cases) {
        for (const run of runs) {
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
