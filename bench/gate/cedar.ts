/**
 * bench/gate/cedar — what a Cedar policy decision costs (issue 4, item 8: "Cedar evaluation
 * with 10 and 100 policies"; target ≤ 100 µs p50 at 100).
 *
 *   npx tsx bench/gate/cedar.ts [--samples N] [--out FILE]
 *
 * Runs the Worker's own engine (src/policy/engine.ts, the code the gate calls) on Cedar's
 * Node build, with policy sets of 10 and 100 statements parsed once, over a fixed mix of
 * requests. In the same run it measures the baselines: the same rules hand-written in
 * TypeScript, the bare pre-parsed Cedar call (no request building), the clock alone, and
 * Cedar without pre-parsing (the policy text parsed on every call). Prints a table and writes
 * bench/out/gate-cedar.json. Timing never fails the run; a decision that differs between Cedar
 * and the TypeScript baseline does (exit 1), since then the comparison would be meaningless.
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
import { toCedarRequest } from "../../src/policy/request.js";
import { CEDAR_SCHEMA } from "../../src/policy/schema.js";
import { validatePolicies } from "../../src/policy/validate.js";
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

  run("baseline: hand-written TypeScript", count, (i) => baseline(at(i)));
  run("cedar engine.decide (the gate's call)", count, (i) => engine.decide(at(i)));
  const allowOnly = requests.filter((r) => engine.decide(r).effect === "allow");
  run("cedar engine.decide, allowed calls only", count, (i) =>
    engine.decide(allowOnly[i % allowOnly.length]!),
  );

  // The bare WASM call on a pre-built request: the floor under engine.decide.
  const slot = `bench-raw-${count}`;
  const staticPolicies = Object.fromEntries([
    ...DEFAULT_POLICIES.map((p) => [p.id, p.text]),
    ...sources.map((s) => [s.id, s.text]),
  ]);
  cedar.preparsePolicySet(slot, { staticPolicies });
  const built = requests.map((r) => {
    const b = toCedarRequest(r);
    if (!b.ok) throw new Error(b.error);
    return { ...b.request, preparsedPolicySetId: slot };
  });
  run("cedar statefulIsAuthorized (bare call)", count, (i) =>
    cedar.statefulIsAuthorized(built[i % REQUESTS]!),
  );
  // What checking each request and its entities against the schema costs (the engine does).
  const unchecked = built.map(({ preparsedSchemaName: _, ...rest }) => ({
    ...rest,
    validateRequest: false,
  }));
  run("cedar bare call, no schema check", count, (i) =>
    cedar.statefulIsAuthorized(unchecked[i % REQUESTS]!),
  );

  // Without pre-parsing: policies and schema parsed on every call. Fewer samples: it is slow.
  const unparsed = built.map(({ preparsedPolicySetId: _, preparsedSchemaName: __, ...rest }) => ({
    ...rest,
    schema: CEDAR_SCHEMA,
    policies: { staticPolicies },
  }));
  run(
    "cedar isAuthorized, parsing each call",
    count,
    (i) => nodeCedar.isAuthorized(unparsed[i % REQUESTS]!),
    500,
  );
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
  `\nengine build (parse + pre-parse, a cache miss), median of 20: ${POLICY_COUNTS.map((n) => `${n} policies ${fmt(buildMs[n], 2)} ms`).join(", ")}`,
);

const decideAt = rows.find(
  (r) => r.policies === TARGET_AT && r.what.startsWith("cedar engine.decide ("),
)!;
const met = decideAt.stats.p50Us <= TARGET_P50_US;
console.log(
  `target: Cedar ≤ ${TARGET_P50_US} µs p50 at ${TARGET_AT} policies — measured ${fmt(decideAt.stats.p50Us, 1)} µs (engine.decide): ${met ? "met" : "NOT met"}`,
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
      target: {
        p50Us: TARGET_P50_US,
        policies: TARGET_AT,
        measuredP50Us: decideAt.stats.p50Us,
        met,
      },
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${outFile}`);
