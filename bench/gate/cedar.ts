/**
 * bench/gate/cedar — what a Cedar policy decision costs (issue 4, item 8: "Cedar evaluation
 * with 10 and 100 policies"; target ≤ 100 µs p50 at 100).
 *
 *   npx tsx bench/gate/cedar.ts [--samples N] [--out FILE]
 *
 * Runs the Worker's own engine (src/policy/engine.ts, the code the gate calls) on Cedar's
 * Node build, with policy sets of 10 and 100 statements parsed once, over a fixed mix of
 * requests. In the same run it measures the baselines: the same rules hand-written in
 * TypeScript, the clock alone, the engine's relevance check alone, and Cedar given the WHOLE
 * set per call: pre-parsed with the schema checked (how the engine called it before it
 * evaluated only the statements that can matter), pre-parsed without the schema, and not
 * pre-parsed at all. Prints a table and writes bench/out/gate-cedar.json. Timing never fails
 * the run; a decision that differs between Cedar and the TypeScript baseline does (exit 1),
 * since then the comparison would be meaningless.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as nodeCedar from "@cedar-policy/cedar-wasm/nodejs";
import type { Cedar } from "../../src/policy/cedar.js";
import { DEFAULT_POLICIES } from "../../src/policy/defaults.js";
import { buildCedarEngine } from "../../src/policy/engine.js";
import { capabilityIndex, guardOf } from "../../src/policy/guard.js";
import { compileStatement, requestEnv } from "../../src/policy/relevance.js";
import { toCedarRequest } from "../../src/policy/request.js";
import { CEDAR_SCHEMA } from "../../src/policy/schema.js";
import { splitStatements, validatePolicies } from "../../src/policy/validate.js";
import { fmt, formatTable } from "../sched/table.js";
import { baselineDecide, requestMix, tenantRules } from "./cedar-workload.js";
import { measure, type Stats } from "./stats.js";

const POLICY_COUNTS = [10, 100] as const;
const TARGET_P50_US = 100;
const TARGET_AT = 100;
const REQUESTS = 256;

const { values: args } = parseArgs({
  options: {
    samples: { type: "string", default: "20000" },
    out: { type: "string" },
  },
});
const SAMPLES = Number(args.samples);
const WARMUP = Math.min(5_000, SAMPLES);
const here = dirname(fileURLToPath(import.meta.url));
const outFile = resolve(args.out ?? resolve(here, "../out/gate-cedar.json"));

const cedar: Cedar = nodeCedar;
const BENCH_SCHEMA = "bench-schema";
nodeCedar.preparseSchema(BENCH_SCHEMA, CEDAR_SCHEMA);

interface Row {
  what: string;
  policies: number | null;
  stats: Stats;
}

const loadAtStart = loadavg()[0]!;
const rows: Row[] = [];
const run = (
  what: string,
  policies: number | null,
  fn: (i: number) => unknown,
  samples = SAMPLES,
) =>
  rows.push({ what, policies, stats: measure(fn, { warmup: Math.min(WARMUP, samples), samples }) });

const requests = requestMix(REQUESTS);
const at = (i: number) => requests[i % REQUESTS]!;

run("clock only (timer floor)", null, () => 1);
// A machine-speed yardstick: serialising one request, as the WASM binding does on every call.
run("JSON.stringify(one request) (yardstick)", null, (i) => JSON.stringify(at(i)));

const buildMs: Record<number, number> = {};
const evaluatedPerDecision: Record<number, { mean: number; slices: number }> = {};
/** Share of the mix the engine decides without calling Cedar (relevance check settles it). */
const settledShare: Record<number, number> = {};
for (const count of POLICY_COUNTS) {
  const rules = tenantRules(count);
  const sources = rules.map((r) => r.source);
  for (const s of sources) {
    const checked = validatePolicies(cedar, s.text, s.id);
    if (!checked.ok)
      throw new Error(`bench policy ${s.id} is invalid: ${checked.diagnostics[0]?.message}`);
  }

  // Parse cost: the price of a cache miss (engines are built once per tenant and set version).
  const builds: number[] = [];
  for (let k = 0; k < 20; k++) {
    const start = process.hrtime.bigint();
    buildCedarEngine(cedar, sources).release();
    builds.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  buildMs[count] = [...builds].sort((a, b) => a - b)[10]!;

  const engine = buildCedarEngine(cedar, sources);
  const baseline = baselineDecide(rules);
  const mismatches = requests.filter((r) => engine.decide(r).effect !== baseline(r));
  if (mismatches.length > 0) {
    console.error(
      `Cedar and the baseline disagree on ${mismatches.length} requests, e.g.`,
      mismatches[0],
    );
    process.exit(1);
  }
  const effects = new Map<string, number>();
  for (const r of requests) {
    const e = engine.decide(r).effect;
    effects.set(e, (effects.get(e) ?? 0) + 1);
  }
  if (count === POLICY_COUNTS[0]) {
    console.log(
      `request mix (${REQUESTS} requests): ${[...effects].map(([e, n]) => `${e} ${n}`).join(", ")}`,
    );
  }

  // Which requests of the mix the engine settles without calling Cedar, and which reach it.
  const reaching: typeof requests = [];
  for (const r of requests) {
    const before = { ...engine.counts };
    engine.decide(r);
    const evaluations = engine.counts.evaluations - before.evaluations;
    if (engine.counts.settled - before.settled < evaluations) reaching.push(r);
  }
  settledShare[count] = 1 - reaching.length / REQUESTS;

  run("baseline: hand-written TypeScript", count, (i) => baseline(at(i)));
  run("cedar engine.decide (the gate's call)", count, (i) => engine.decide(at(i)));
  if (reaching.length > 0) {
    run("engine.decide, calls that reach Cedar", count, (i) =>
      engine.decide(reaching[i % reaching.length]!),
    );
  }
  const allowOnly = requests.filter((r) => engine.decide(r).effect === "allow");
  run("cedar engine.decide, allowed calls only", count, (i) =>
    engine.decide(allowOnly[i % allowOnly.length]!),
  );

  // The relevance check alone (TypeScript, inside decide): which statements Cedar is given.
  const statements = [...DEFAULT_POLICIES, ...sources].flatMap((p) => {
    const split = splitStatements(cedar, p.text, p.id);
    if (!split.ok) throw new Error(`bench policy ${p.id} does not parse`);
    return split.statements;
  });
  const checks = statements.map((st) => compileStatement(st.json));
  const candidatesFor = capabilityIndex(statements.map((st) => guardOf(st.json)));
  const built = requests.map((r) => {
    const b = toCedarRequest(r);
    if (!b.ok) throw new Error(b.error);
    return b.request;
  });
  const kept = built.map((b, i) => {
    const env = requestEnv(b);
    return candidatesFor(at(i).capability).filter((k) => checks[k]!(env));
  });
  evaluatedPerDecision[count] = {
    mean: kept.reduce((n, k) => n + k.length, 0) / REQUESTS,
    slices: new Set(kept.filter((k) => k.length > 0).map((k) => k.join(","))).size,
  };
  run("relevance check over the set (TS, in decide)", count, (i) => {
    const env = requestEnv(built[i % REQUESTS]!);
    let n = 0;
    for (const k of candidatesFor(at(i).capability)) if (checks[k]!(env)) n++;
    return n + 1;
  });

  // Cedar given the whole set on each call, as the engine called it before relevance slicing.
  const slot = `bench-raw-${count}`;
  const staticPolicies = Object.fromEntries(statements.map((st) => [st.id, st.text]));
  cedar.preparsePolicySet(slot, { staticPolicies });
  const whole = built.map((b) => ({ ...b, preparsedPolicySetId: slot }));
  const schemaChecked = whole.map((w) => ({
    ...w,
    preparsedSchemaName: BENCH_SCHEMA,
    validateRequest: true,
  }));
  run("cedar whole set, schema-checked (the old call)", count, (i) =>
    cedar.statefulIsAuthorized(schemaChecked[i % REQUESTS]!),
  );
  const unchecked = whole.map((w) => ({ ...w, validateRequest: false }));
  run("cedar whole set, no schema check", count, (i) =>
    cedar.statefulIsAuthorized(unchecked[i % REQUESTS]!),
  );

  // Without pre-parsing: policies and schema parsed on every call. Fewer samples: it is slow.
  const unparsed = built.map((b) => ({
    ...b,
    schema: CEDAR_SCHEMA,
    validateRequest: true,
    policies: { staticPolicies },
  }));
  run(
    "cedar isAuthorized, parsing each call",
    count,
    (i) => nodeCedar.isAuthorized(unparsed[i % REQUESTS]!),
    500,
  );
  // The engine as it was before it settled calls itself: every evaluation goes to Cedar.
  const unsettled = buildCedarEngine(cedar, sources, { settle: false });
  run("engine.decide, Cedar asked every time", count, (i) => unsettled.decide(at(i)));
  unsettled.release();
  engine.release();
}

const baselineFor = (count: number) =>
  rows.find((r) => r.policies === count && r.what.startsWith("baseline"))!.stats.p50Us;
const table = formatTable(
  ["measurement", "policies", "samples", "p50 µs", "p99 µs", "mean µs", "p50 vs baseline"],
  rows.map((r) => [
    r.what,
    r.policies === null ? "-" : String(r.policies),
    String(r.stats.samples),
    fmt(r.stats.p50Us, 2),
    fmt(r.stats.p99Us, 2),
    fmt(r.stats.meanUs, 2),
    r.policies === null ? "-" : `${fmt(r.stats.p50Us / baselineFor(r.policies), 1)}x`,
  ]),
);
const loadAtEnd = loadavg()[0]!;
console.log(
  `\nCedar ${nodeCedar.getCedarVersion()} (cedar-wasm, Node build), Node ${process.version}, ${availableParallelism()} CPUs, 1-min load ${fmt(loadAtStart, 1)} → ${fmt(loadAtEnd, 1)} (timings inflate when load exceeds the CPUs)\n`,
);
console.log(table);
console.log(
  `\nengine build (parse, compile the relevance checks; slices parse on first use), median of 20: ${POLICY_COUNTS.map((n) => `${n} policies ${fmt(buildMs[n], 2)} ms`).join(", ")}`,
);

console.log(
  `statements Cedar evaluates per decision (the relevance check's slice), mean over the mix: ${POLICY_COUNTS.map((n) => `${fmt(evaluatedPerDecision[n]!.mean, 2)} of ${n} (${evaluatedPerDecision[n]!.slices} distinct slices)`).join(", ")}`,
);

console.log(
  `decisions of the mix settled by the relevance check without calling Cedar: ${POLICY_COUNTS.map((n) => `${fmt(100 * settledShare[n]!, 1)}% at ${n}`).join(", ")}`,
);
const decideAt = rows.find(
  (r) => r.policies === TARGET_AT && r.what.startsWith("cedar engine.decide ("),
)!;
const reachingAt = rows.find(
  (r) => r.policies === TARGET_AT && r.what === "engine.decide, calls that reach Cedar",
);
const met = decideAt.stats.p50Us <= TARGET_P50_US;
console.log(
  `target: Cedar ≤ ${TARGET_P50_US} µs p50 at ${TARGET_AT} policies — measured ${fmt(decideAt.stats.p50Us, 1)} µs (engine.decide over the mix): ${met ? "met" : "NOT met"}; the calls that reach Cedar: ${reachingAt ? `${fmt(reachingAt.stats.p50Us, 1)} µs p50` : "none in the mix"}`,
);

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  `${JSON.stringify(
    {
      bench: "gate-cedar",
      generatedAt: new Date().toISOString(),
      node: process.version,
      cedar: nodeCedar.getCedarVersion(),
      cpus: availableParallelism(),
      loadAverage1m: { start: loadAtStart, end: loadAtEnd },
      requests: REQUESTS,
      rows: rows.map((r) => ({ what: r.what, policies: r.policies, ...r.stats })),
      engineBuildMs: buildMs,
      evaluatedPerDecision,
      settledShare,
      target: {
        p50Us: TARGET_P50_US,
        policies: TARGET_AT,
        measuredP50Us: decideAt.stats.p50Us,
        reachingCedarP50Us: reachingAt?.stats.p50Us ?? null,
        met,
      },
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${outFile}`);
