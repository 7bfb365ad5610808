/**
 * bench/gate: what the system-call gate costs per call, measured against a bare Durable Object
 * RPC in the same run on the same local `wrangler dev` (bench/gate/worker.ts). Every route pays
 * the same HTTP round trip (measured alone as the floor), interleaved call by call:
 *   - a read-only system call: the bare RPC; with the gate's decision; with the decision and its
 *     durable record in the process's event log (for a read, that record is the only write, so
 *     it costs a commit of its own);
 *   - a system call with an effect: the bare RPC writing the effect; the same with the gate and
 *     its record in the effect's transaction (as the agent loop commits a step);
 *   - an API key's authentication (the D1 read every /v1 and /mcp call makes) and an audit row
 *     (the D1 write every state-changing /v1 and /mcp call makes).
 * Inside workerd, without the round trip: the gate's decision alone (N in one call), and Cedar
 * with 10 and 100 statements. Prints tables, writes bench/out/gate.json.
 * Usage: npm run bench:gate [-- --calls N]
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { percentile, startWranglerDev } from "../lib/wrangler-dev.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CALLS = arg("--calls", 400);
const WARMUP = 50;

async function time(url: string, init: RequestInit): Promise<number> {
  const start = performance.now();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return performance.now() - start;
}

/**
 * µs per operation inside workerd: one request doing `n` operations against one doing none
 * (workerd's clock does not advance while code runs, so the runner times from outside).
 */
async function usPerOperation(url: (n: number) => string, n: number): Promise<number> {
  const empty = await time(url(0), {});
  const full = await time(url(n), {});
  return ((full - empty) * 1000) / n;
}

async function main(): Promise<void> {
  const dev = await startWranglerDev(join(here, "wrangler.toml"), "gate");
  const base = dev.base;
  try {
    const setup = (await (await fetch(`${base}/setup`, { method: "POST" })).json()) as {
      tenantId: string;
      processId: string;
      key: string;
    };
    const q = `?tenant=${setup.tenantId}`;
    const urls = {
      noop: `${base}/noop`,
      readBare: `${base}/bare/${setup.processId}${q}`,
      readDecide: `${base}/gated/${setup.processId}${q}&log=0`,
      readGated: `${base}/gated/${setup.processId}${q}`,
      writeBare: `${base}/write/${setup.processId}${q}`,
      writeGated: `${base}/write/${setup.processId}${q}&gated=1`,
      auth: `${base}/auth`,
      audit: `${base}/audit`,
    } as const;
    type Series = keyof typeof urls;
    const init = (name: Series): RequestInit =>
      name === "auth"
        ? { headers: { authorization: `Bearer ${setup.key}` } }
        : name === "audit"
          ? { method: "POST" }
          : {};
    const names = Object.keys(urls) as Series[];
    for (let i = 0; i < WARMUP; i++) for (const n of names) await time(urls[n], init(n));
    const series = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<
      Series,
      number[]
    >;
    // Interleaved, so drift in the machine's load hits every series alike.
    for (let i = 0; i < CALLS; i++)
      for (const n of names) series[n].push(await time(urls[n], init(n)));
    const stat = (name: Series) => {
      const sorted = [...series[name]].sort((x, y) => x - y);
      return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
    };
    const rows = [
      { path: "HTTP round trip only", ...stat("noop") },
      { path: "read: bare DO RPC", ...stat("readBare") },
      { path: "read: + gate decision", ...stat("readDecide") },
      { path: "read: + gate + its record", ...stat("readGated") },
      { path: "write: bare DO RPC", ...stat("writeBare") },
      { path: "write: + gate + its record", ...stat("writeGated") },
      { path: "API-key auth (D1 read)", ...stat("auth") },
      { path: "audit row (D1 write)", ...stat("audit") },
    ];
    const diff = (a: Series, b: Series) => ({
      p50Ms: stat(a).p50Ms - stat(b).p50Ms,
      p99Ms: stat(a).p99Ms - stat(b).p99Ms,
    });
    const overhead = {
      read: diff("readGated", "readBare"),
      write: diff("writeGated", "writeBare"),
    };
    console.log(
      `bench/gate  ${CALLS} calls of each, interleaved, one local wrangler dev (round trip included)\n`,
    );
    const line = (label: string, p50: number, p99: number) =>
      console.log(
        `${label.padEnd(34)}  ${p50.toFixed(3).padStart(7)}  ${p99.toFixed(3).padStart(7)}`,
      );
    console.log(`${"path".padEnd(34)}  p50 ms   p99 ms`);
    console.log(`${"-".repeat(34)}  -------  -------`);
    for (const r of rows) line(r.path, r.p50Ms, r.p99Ms);
    line("gate overhead, write system call", overhead.write.p50Ms, overhead.write.p99Ms);
    line("gate overhead, read system call", overhead.read.p50Ms, overhead.read.p99Ms);

    // The decision alone inside the process: N decisions in one RPC against none.
    const DECIDE_N = 1_000;
    const decideUrl = (n: number) => `${base}/decide/${setup.processId}${q}&n=${n}`;
    await time(decideUrl(DECIDE_N), {});
    const perDecision: number[] = [];
    for (let i = 0; i < 15; i++) perDecision.push(await usPerOperation(decideUrl, DECIDE_N));
    perDecision.sort((x, y) => x - y);
    const decisionUs = percentile(perDecision, 50);
    console.log(
      `\ngate decision inside the process (capability, entitlement, budget, Cedar; ${DECIDE_N} per call, 15 calls): ${decisionUs.toFixed(1)} µs p50`,
    );
    for (const [kind, o] of Object.entries(overhead)) {
      console.log(
        `target: the gate adds ≤ 1 ms p50 locally, ${kind} system call — ${o.p50Ms <= 1 ? "HOLDS" : "FAILS"} (${o.p50Ms.toFixed(3)} ms)`,
      );
    }
    console.log(
      "(calls made with an API key over HTTPS and MCP also pay the key lookup and, when they change state, the audit row: the last two rows, each a D1 round trip here)",
    );
    // Cedar inside workerd: time N decisions in one request against none, per set size, for
    // the engine as the gate runs it and for the same engine asking Cedar every time (the
    // baseline), interleaved.
    const DECISIONS = 2_000;
    type CedarRow = {
      statements: number;
      usPerDecisionP50: number;
      usPerDecisionWorst: number;
      /** Share of the evaluations the engine settled without calling Cedar. */
      settledShare: number;
      /** The same engine asking Cedar for every evaluation. */
      cedarEveryTimeUsP50: number;
    };
    const cedar: CedarRow[] = [];
    const cedarUrl = (statements: number, n: number, settle: boolean) =>
      `${base}/cedar?statements=${statements}&n=${n}${settle ? "" : "&settle=0"}`;
    const cedarPerDecision = (statements: number, settle: boolean) =>
      usPerOperation((n) => cedarUrl(statements, n, settle), DECISIONS);
    for (const statements of [10, 100]) {
      for (const settle of [true, false]) await time(cedarUrl(statements, DECISIONS, settle), {}); // build + warm
      const counted = (await (await fetch(cedarUrl(statements, 256, true))).json()) as {
        evaluations: number;
        settled: number;
      };
      const per: number[] = [];
      const everyTime: number[] = [];
      for (let i = 0; i < 15; i++) {
        per.push(await cedarPerDecision(statements, true));
        everyTime.push(await cedarPerDecision(statements, false));
      }
      per.sort((a, b) => a - b);
      everyTime.sort((a, b) => a - b);
      cedar.push({
        statements,
        usPerDecisionP50: percentile(per, 50),
        usPerDecisionWorst: per[per.length - 1] ?? Number.NaN,
        settledShare: counted.settled / counted.evaluations,
        cedarEveryTimeUsP50: percentile(everyTime, 50),
      });
    }
    console.log(
      `\nPolicy decisions inside workerd (${DECISIONS} per request over the request mix, 15 requests, pre-parsed set):`,
    );
    console.log(
      "statements  µs/decision p50  µs/decision worst  settled without Cedar  Cedar asked every time, µs p50",
    );
    for (const c of cedar) {
      console.log(
        `${String(c.statements).padStart(10)}  ${c.usPerDecisionP50.toFixed(1).padStart(15)}  ${c.usPerDecisionWorst.toFixed(1).padStart(17)}  ${`${(100 * c.settledShare).toFixed(1)}%`.padStart(21)}  ${c.cedarEveryTimeUsP50.toFixed(1).padStart(30)}`,
      );
    }
    const at100 = cedar.find((c) => c.statements === 100)!;
    console.log(
      `target: Cedar ≤ 100 µs p50 at 100 policies — ${at100.usPerDecisionP50 <= 100 ? "HOLDS" : "FAILS"} for the engine's decision (${at100.usPerDecisionP50.toFixed(1)} µs, ${(100 * at100.settledShare).toFixed(1)}% of evaluations settled without the WebAssembly call); asking Cedar every time: ${at100.cedarEveryTimeUsP50.toFixed(1)} µs`,
    );
    mkdirSync(join(root, "bench/out"), { recursive: true });
    writeFileSync(
      join(root, "bench/out/gate.json"),
      `${JSON.stringify({ calls: CALLS, rows, overhead, decisionUs, cedar }, null, 2)}\n`,
    );
  } finally {
    dev.stop();
  }
}

await main();
