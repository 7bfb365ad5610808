/**
 * bench/fleet: the fleet path on one local `wrangler dev` (the real Worker and wrangler.toml).
 *   1. N simulated host-agents (sim-node.ts; default 1,000, in this one Node process), each with
 *      its own enrolled credential and a real WebSocket, say hello and stay connected.
 *   2. Baseline: a revert to one node at a time (the command round trip with nothing else in
 *      flight), then a broadcast revert to all N (`POST /v1/fleet/commands`, selector `{}`),
 *      several rounds: per-node ack latency by the Fleet object's clock (sent → ack settled),
 *      when each node received the command, and the time to the last ack as the caller sees it.
 *   3. The Fleet object's memory: the workerd process's RSS with the server idle (enrolled, no
 *      socket open) and again with all N connected and idle, in the same run; the difference is
 *      what N connections cost (the object, its sockets and their attachments).
 *   0. Baseline for 2 and 3, first and on a server of its own: the same N simulated agents on
 *      EchoFleet (worker.mts), a Durable Object that accepts hibernatable WebSockets and counts
 *      acks and nothing else: its RSS per connection and its broadcast time to the last ack.
 *   4. One real `edgekernel-host run --dry-run` on this machine's /proc and /sys, telemetry every
 *      second, for a few minutes: its VmRSS over time, against a bare Node process's VmRSS.
 * Prints a table and writes bench/out/fleet.json; the targets are printed, never enforced.
 * Usage: npm run bench:fleet [-- --nodes N --rounds R --agent-minutes M]
 */

import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSigningKey } from "../../src/schedcp/signing.js";
import { percentile, startWranglerDev } from "../lib/wrangler-dev.js";
import { groupRssBytes, vmRssBytes } from "./rss.js";
import { SimNode } from "./sim-node.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const NODES = arg("--nodes", 1_000);
const ROUNDS = arg("--rounds", 5);
const AGENT_MINUTES = arg("--agent-minutes", 3);
const SINGLE_SAMPLES = 30;
/** Requests in flight while enrolling and connecting: enough to overlap, few enough to be kind. */
const CONCURRENCY = 16;
const ADMIN_TOKEN = "bench-admin-token";
/** The targets from the issue, printed beside the measurements. */
const TARGETS = { lastAckMs: 5_000, agentRssBytes: 60_000_000 };
/** Memory is shown in MB of 10^6 bytes, the unit the target is stated in. */
const MB = 1_000_000;

interface CommandReply {
  results: Array<{ nodeId: string; commandId: string; status: string; latencyMs: number | null }>;
  counts: Record<string, number>;
}

async function jsonOf<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, i: number) => Promise<R>,
) {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await task(items[i] as T, i);
      }
    }),
  );
  return out;
}

function stat(samples: readonly number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

/** The bare WebSocket Hibernation API on its own server: memory per connection, broadcast time. */
async function echoBaseline() {
  const dev = await startWranglerDev(join(here, "wrangler.toml"), "fleet-echo", { ADMIN_TOKEN });
  const nodes: SimNode[] = [];
  try {
    await sleep(3_000);
    const rssIdle = groupRssBytes(dev.pid, "workerd");
    const wsUrl = `${dev.base.replace(/^http/, "ws")}/bench/echo`;
    const connectStart = performance.now();
    await pool(
      Array.from({ length: NODES }, (_, i) => i),
      CONCURRENCY * 4,
      async (i) => {
        const node = new SimNode(`echo-${i}`, "none");
        nodes.push(node);
        await node.connect(wsUrl);
      },
    );
    const connectAllMs = performance.now() - connectStart;
    await sleep(5_000);
    const rssConnected = groupRssBytes(dev.pid, "workerd");
    const lastAckMs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await sleep(1_000);
      const start = performance.now();
      const reply = await jsonOf<{ acked: number; elapsedMs: number }>(
        `${dev.base}/bench/echo-broadcast`,
        { method: "POST" },
      );
      lastAckMs.push(performance.now() - start);
      if (reply.acked !== NODES)
        console.error(`echo round ${r + 1}: ${reply.acked} of ${NODES} acked`);
    }
    return { rssIdle, rssConnected, connectAllMs, lastAckMs: stat(lastAckMs) };
  } finally {
    for (const node of nodes) node.close();
    dev.stop();
  }
}

async function main(): Promise<void> {
  console.error(`baseline: ${NODES} sockets on the bare hibernation API…`);
  const echo = await echoBaseline();
  const dev = await startWranglerDev(join(here, "wrangler.toml"), "fleet", {
    ADMIN_TOKEN,
    POLICY_SIGNING_KEY: await generateSigningKey(),
    FLEET_TELEMETRY_INTERVAL_MS: "1000",
  });
  const base = dev.base;
  const wsUrl = `${base.replace(/^http/, "ws")}/v1/fleet/connect`;
  const agentDir = mkdtempSync(join(tmpdir(), "edgekernel-bench-agent-"));
  const nodes: SimNode[] = [];
  let agent: ReturnType<typeof spawn> | null = null;
  let bare: ReturnType<typeof spawn> | null = null;
  try {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
    const tenant = await jsonOf<{ id: string }>(`${base}/v1/tenants`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: `bench-fleet-${Date.now()}` }),
    });
    const key = await jsonOf<{ secret: string }>(`${base}/v1/keys`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ tenantId: tenant.id, name: "bench", role: "operator" }),
    });
    const auth = { authorization: `Bearer ${key.secret}`, "content-type": "application/json" };
    const newToken = async (labels: Record<string, string>) =>
      (
        await jsonOf<{ token: string }>(`${base}/v1/fleet/enrollment-tokens`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ labels }),
        })
      ).token;

    // -- 4 (started first, it runs for minutes): one real host-agent, and a bare Node process.
    const agentToken = await newToken({ bench: "real" });
    const bin = join(root, "node_modules/.bin/edgekernel-host");
    const stateFile = join(agentDir, "state.json");
    const enrolled = spawnSync(
      bin,
      [
        "enroll",
        "--token",
        agentToken,
        "--control-plane-url",
        base,
        "--state-file",
        stateFile,
        "--node-id",
        "real-agent",
      ],
      { encoding: "utf8" },
    );
    if (enrolled.status !== 0) throw new Error(`enroll failed: ${enrolled.stderr}`);
    // Run as an installed bin is (its first line passes the V8 flags); the launcher imports the
    // bundle in-process and `env` execs node, so this pid is the agent itself.
    agent = spawn(
      bin,
      ["run", "--dry-run", "--state-file", stateFile, "--artifact-dir", join(agentDir, "art")],
      { stdio: "ignore" },
    );
    bare = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    const agentStartMs = performance.now();
    const agentRss: Array<{ atS: number; bytes: number }> = [];
    const sampleAgent = setInterval(() => {
      const bytes = agent?.pid ? vmRssBytes(agent.pid) : null;
      if (bytes !== null) agentRss.push({ atS: (performance.now() - agentStartMs) / 1000, bytes });
    }, 5_000);

    // -- 1. Enroll N simulated nodes.
    console.error(`enrolling ${NODES} simulated nodes…`);
    const enrollMs: number[] = [];
    const enrolledNodes = await pool(
      Array.from({ length: NODES }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const start = performance.now();
        const token = await newToken({ bench: "sim" });
        const reply = await jsonOf<{ nodeId: string; credential: string }>(
          `${base}/v1/fleet/enroll`,
          {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              token,
              nodeId: `sim-${String(i).padStart(5, "0")}`,
              role: "node",
              labels: {},
              facts: SimNode.facts(),
              agentVersion: "bench",
            }),
          },
        );
        enrollMs.push(performance.now() - start);
        return reply;
      },
    );

    // -- 3a. The server idle: everything enrolled, no simulated socket open.
    await sleep(3_000);
    const rssIdle = groupRssBytes(dev.pid, "workerd");

    console.error(`connecting ${NODES} WebSockets…`);
    const connectStart = performance.now();
    await pool(enrolledNodes, CONCURRENCY * 4, async (e) => {
      const node = new SimNode(e.nodeId, e.credential);
      nodes.push(node);
      await node.connect(wsUrl);
    });
    const connectAllMs = performance.now() - connectStart;
    await sleep(5_000);
    const rssConnected = groupRssBytes(dev.pid, "workerd");

    // -- 2. Baseline: one node at a time.
    const single = { clientMs: [] as number[], serverMs: [] as number[] };
    for (let i = 0; i < SINGLE_SAMPLES; i++) {
      const node = nodes[i % nodes.length] as SimNode;
      const start = performance.now();
      const reply = await jsonOf<CommandReply>(`${base}/v1/fleet/commands`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          target: { nodeIds: [node.nodeId] },
          command: { op: "revert", reason: "bench single" },
        }),
      });
      single.clientMs.push(performance.now() - start);
      if (reply.results[0]?.latencyMs != null) single.serverMs.push(reply.results[0].latencyMs);
    }

    // -- 2. Broadcast to all N, several rounds.
    const rounds: Array<{
      lastAckClientMs: number;
      serverLatencyMs: number[];
      deliveryMs: number[];
      counts: Record<string, number>;
    }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      await sleep(1_000);
      const start = performance.now();
      const reply = await jsonOf<CommandReply>(`${base}/v1/fleet/commands`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          target: { selector: { labels: { bench: "sim" } } },
          command: { op: "revert", reason: `bench broadcast ${r}` },
          timeoutMs: 30_000,
        }),
      });
      const lastAckClientMs = performance.now() - start;
      const byNode = new Map(nodes.map((n) => [n.nodeId, n]));
      const deliveryMs = reply.results
        .map((res) => byNode.get(res.nodeId)?.received.get(res.commandId))
        .filter((t): t is number => t !== undefined)
        .map((t) => t - start);
      rounds.push({
        lastAckClientMs,
        serverLatencyMs: reply.results.flatMap((res) =>
          res.latencyMs === null ? [] : [res.latencyMs],
        ),
        deliveryMs,
        counts: reply.counts,
      });
      console.error(
        `round ${r + 1}: ${JSON.stringify(reply.counts)}; last ack after ${fmt(lastAckClientMs, 0)} ms`,
      );
    }

    // -- 4. Let the real agent run its minutes.
    const remainingMs = AGENT_MINUTES * 60_000 - (performance.now() - agentStartMs);
    if (remainingMs > 0) {
      console.error(`waiting ${fmt(remainingMs / 1000, 0)} s more for the real agent's RSS…`);
      await sleep(remainingMs);
    }
    clearInterval(sampleAgent);
    const agentFinal = agent.pid ? vmRssBytes(agent.pid) : null;
    const bareRss = bare.pid ? vmRssBytes(bare.pid) : null;
    const agentTelemetry = await jsonOf<{ items: Array<{ seq: number }> }>(
      `${base}/v1/fleet/nodes/real-agent/telemetry?limit=1`,
      { headers: auth },
    );

    // -- Report.
    const allServer = stat(rounds.flatMap((r) => r.serverLatencyMs));
    const allDelivery = stat(rounds.flatMap((r) => r.deliveryMs));
    const lastAck = stat(rounds.map((r) => r.lastAckClientMs));
    const singleClient = stat(single.clientMs);
    const singleServer = stat(single.serverMs);
    const enrollStat = stat(enrollMs);
    const agentMax = Math.max(...agentRss.map((s) => s.bytes), agentFinal ?? 0);
    const perConnKb = (rssConnected - rssIdle) / NODES / 1000;
    const echoPerConnKb = (echo.rssConnected - echo.rssIdle) / NODES / 1000;
    const acked = rounds.map((r) => r.counts.acked ?? 0);

    const rows: Array<[string, string, string]> = [
      [
        "enroll one node (token + enroll), p50 / p99",
        `${fmt(enrollStat.p50)} / ${fmt(enrollStat.p99)} ms`,
        `${NODES} nodes, ${CONCURRENCY} in flight`,
      ],
      [
        "connect + hello → welcome, all nodes",
        `${fmt(connectAllMs / 1000, 2)} s`,
        `baseline (bare hibernation API) ${fmt(echo.connectAllMs / 1000, 2)} s; ${CONCURRENCY * 4} in flight`,
      ],
      [
        "baseline: revert to 1 node, round trip p50 / p99",
        `${fmt(singleClient.p50)} / ${fmt(singleClient.p99)} ms`,
        `object clock p50 ${fmt(singleServer.p50)} ms`,
      ],
      [
        `broadcast revert to ${NODES}: per-node ack p50 / p99`,
        `${fmt(allServer.p50)} / ${fmt(allServer.p99)} ms`,
        "object clock, sent → ack settled",
      ],
      [
        "broadcast: command received by node p50 / p99",
        `${fmt(allDelivery.p50)} / ${fmt(allDelivery.p99)} ms`,
        "from the request's start",
      ],
      [
        "broadcast: time to the last ack, median (max)",
        `${fmt(lastAck.p50, 0)} (${fmt(lastAck.max, 0)}) ms`,
        `target ≤ ${TARGETS.lastAckMs} ms; baseline (bare API) ${fmt(echo.lastAckMs.p50, 0)} (${fmt(echo.lastAckMs.max, 0)}) ms; acked ${acked.join(", ")} of ${NODES}`,
      ],
      [
        "workerd RSS: idle / with all nodes connected",
        `${fmt(rssIdle / MB)} / ${fmt(rssConnected / MB)} MB`,
        `+${fmt(perConnKb)} kB per connection; baseline (bare API) ${fmt(echo.rssIdle / MB)} / ${fmt(echo.rssConnected / MB)} MB, +${fmt(echoPerConnKb)} kB`,
      ],
      [
        `host-agent VmRSS after ${AGENT_MINUTES} min (max)`,
        `${fmt((agentFinal ?? Number.NaN) / MB)} (${fmt(agentMax / MB)}) MB`,
        `target ≤ ${TARGETS.agentRssBytes / MB} MB; baseline (bare node) ${fmt((bareRss ?? Number.NaN) / MB)} MB; ${agentTelemetry.items[0]?.seq ?? 0} reports sent`,
      ],
    ];
    const width = [
      Math.max(...rows.map((r) => r[0].length)),
      Math.max(...rows.map((r) => r[1].length)),
    ];
    console.log(
      `\nbench/fleet — ${NODES} simulated host-agents on one local wrangler dev, ${ROUNDS} broadcast rounds (MB = 10^6 bytes)`,
    );
    console.log(
      `${"metric".padEnd(width[0] ?? 0)}  ${"value".padEnd(width[1] ?? 0)}  baseline / target / note`,
    );
    for (const [name, value, note] of rows) {
      console.log(`${name.padEnd(width[0] ?? 0)}  ${value.padEnd(width[1] ?? 0)}  ${note}`);
    }

    mkdirSync(join(root, "bench/out"), { recursive: true });
    writeFileSync(
      join(root, "bench/out/fleet.json"),
      `${JSON.stringify(
        {
          nodes: NODES,
          rounds: ROUNDS,
          enrollMs: enrollStat,
          connectAllMs,
          baselineSingleNode: { clientMs: singleClient, objectMs: singleServer },
          broadcast: {
            perNodeAckMs: allServer,
            deliveryMs: allDelivery,
            lastAckClientMs: lastAck,
            rounds: rounds.map((r) => ({ lastAckClientMs: r.lastAckClientMs, counts: r.counts })),
          },
          workerdRssBytes: {
            idle: rssIdle,
            connected: rssConnected,
            perConnectionBytes: (rssConnected - rssIdle) / NODES,
          },
          hostAgent: {
            minutes: AGENT_MINUTES,
            vmRssBytes: { final: agentFinal, max: agentMax, samples: agentRss },
            bareNodeVmRssBytes: bareRss,
            telemetryReports: agentTelemetry.items[0]?.seq ?? 0,
          },
          targets: TARGETS,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    for (const node of nodes) node.close();
    agent?.kill("SIGTERM");
    bare?.kill("SIGTERM");
    rmSync(agentDir, { recursive: true, force: true });
    dev.stop();
  }
}

await main();
