/**
 * bench/gate: what the system-call gate costs per call, measured against a bare Durable Object
 * RPC in the same run on the same local `wrangler dev` (bench/gate/worker.ts). Every route pays
 * the same HTTP round trip, interleaved call by call:
 *   1. the bare RPC (baseline)
 *   2. the RPC plus a process's gate decision (capability, entitlement, Cedar; cached context)
 *   3. the same plus the decision's durable record in the process's event log
 *   4. an API key's authentication (the D1 read every /v1 and /mcp call makes)
 *   5. an audit row (the D1 write every state-changing /v1 and /mcp call makes)
 * Prints a table and writes bench/out/gate.json. Usage: npm run bench:gate [-- --calls N]
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

async function main(): Promise<void> {
  const dev = await startWranglerDev(join(here, "wrangler.toml"), "gate");
  const base = dev.base;
  try {
    const setup = (await (await fetch(`${base}/setup`, { method: "POST" })).json()) as {
      tenantId: string;
      processId: string;
      key: string;
    };
    const bareUrl = `${base}/bare/${setup.processId}?tenant=${setup.tenantId}`;
    const gatedUrl = `${base}/gated/${setup.processId}?tenant=${setup.tenantId}`;
    const auth = { headers: { authorization: `Bearer ${setup.key}` } };
    for (let i = 0; i < WARMUP; i++) {
      await time(bareUrl, {});
      await time(gatedUrl, {});
    }
    const series: Record<string, number[]> = {
      bare: [],
      decide: [],
      gated: [],
      auth: [],
      audit: [],
    };
    // Interleaved, so drift in the machine's load hits every series alike.
    for (let i = 0; i < CALLS; i++) {
      series.bare!.push(await time(bareUrl, {}));
      series.decide!.push(await time(`${gatedUrl}&log=0`, {}));
      series.gated!.push(await time(gatedUrl, {}));
      series.auth!.push(await time(`${base}/auth`, auth));
      series.audit!.push(await time(`${base}/audit`, { method: "POST" }));
    }
    const stat = (name: string) => {
      const sorted = [...series[name]!].sort((a, b) => a - b);
      return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
    };
    const bare = stat("bare");
    const gated = stat("gated");
    const rows = [
      { path: "bare DO RPC (baseline)", ...bare },
      { path: "same RPC + gate decision only", ...stat("decide") },
      { path: "same RPC + gate + event log", ...gated },
      { path: "API-key auth (D1 read)", ...stat("auth") },
      { path: "audit row (D1 write)", ...stat("audit") },
    ];
    const overhead = { p50Ms: gated.p50Ms - bare.p50Ms, p99Ms: gated.p99Ms - bare.p99Ms };
    console.log(
      `bench/gate  ${CALLS} calls of each, interleaved, one local wrangler dev (round trip included)\n`,
    );
    console.log("path                          p50 ms   p99 ms");
    console.log("----------------------------  -------  -------");
    for (const r of rows)
      console.log(
        `${r.path.padEnd(28)}  ${r.p50Ms.toFixed(3).padStart(7)}  ${r.p99Ms.toFixed(3).padStart(7)}`,
      );
    console.log(
      `${"gate overhead (row 3 − 1)".padEnd(28)}  ${overhead.p50Ms.toFixed(3).padStart(7)}  ${overhead.p99Ms.toFixed(3).padStart(7)}`,
    );
    console.log(
      `\ntarget: the gate adds ≤ 1 ms p50 locally — ${overhead.p50Ms <= 1 ? "HOLDS" : "FAILS"} (${overhead.p50Ms.toFixed(3)} ms for a process's system call;`,
    );
    console.log(
      "the HTTPS and MCP paths also pay the key lookup and the audit write, rows 4 and 5, each a whole round trip here)",
    );
    // Cedar inside workerd: time N decisions in one request against none, per set size.
    const DECISIONS = 2_000;
    const cedar: Array<{
      statements: number;
      usPerDecisionP50: number;
      usPerDecisionWorst: number;
    }> = [];
    for (const statements of [10, 100]) {
      await time(`${base}/cedar?statements=${statements}&n=${DECISIONS}`, {}); // build + warm
      const per: number[] = [];
      for (let i = 0; i < 15; i++) {
        const empty = await time(`${base}/cedar?statements=${statements}&n=0`, {});
        const full = await time(`${base}/cedar?statements=${statements}&n=${DECISIONS}`, {});
        per.push(((full - empty) * 1000) / DECISIONS);
      }
      per.sort((a, b) => a - b);
      cedar.push({
        statements,
        usPerDecisionP50: percentile(per, 50),
        usPerDecisionWorst: per[per.length - 1] ?? Number.NaN,
      });
    }
    console.log(
      `\nCedar inside workerd (${DECISIONS} decisions per request, 15 requests, pre-parsed set):`,
    );
    console.log("statements  µs/decision p50  µs/decision worst");
    for (const c of cedar) {
      console.log(
        `${String(c.statements).padStart(10)}  ${c.usPerDecisionP50.toFixed(1).padStart(15)}  ${c.usPerDecisionWorst.toFixed(1).padStart(17)}`,
      );
    }
    const at100 = cedar.find((c) => c.statements === 100)!;
    console.log(
      `target: Cedar ≤ 100 µs p50 at 100 policies — ${at100.usPerDecisionP50 <= 100 ? "HOLDS" : "FAILS"} (${at100.usPerDecisionP50.toFixed(1)} µs)`,
    );
    mkdirSync(join(root, "bench/out"), { recursive: true });
    writeFileSync(
      join(root, "bench/out/gate.json"),
      `${JSON.stringify({ calls: CALLS, rows, overhead, cedar }, null, 2)}\n`,
    );
  } finally {
    dev.stop();
  }
}

await main();
