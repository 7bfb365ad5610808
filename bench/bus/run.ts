/**
 * bench/bus: the message bus end to end on a local `wrangler dev` (bench/bus/worker.mts: the real
 * Worker plus baseline routes), against a direct Durable Object RPC in the same run:
 *   1. direct DO RPC delivery (baseline): one envelope put straight into a mailbox
 *   2. queue delivery, client-observed: POST /v1/messages, then poll until it is in the mailbox
 *   3. queue delivery, server clocks: the envelope's sentAt to the mailbox's deliveredAt
 *   4. throughput: a burst of messages with C in flight, until the last is in the mailbox,
 *      through the queue and by direct RPC
 *   5. workspace file write and read latency, small (kept in the object) and large (R2)
 * Samples are interleaved so drift in the machine's load hits every series alike. Prints a table
 * and writes bench/out/bus.json. Usage: npm run bench:bus [-- --messages N --burst B]
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
const MESSAGES = arg("--messages", 200);
const BURST = Math.min(arg("--burst", 200), 250); // under the mailbox cap of 256 unread
const IN_FLIGHT = 16;
const WARMUP = 20;
const ADMIN_TOKEN = "bench-admin-token";
/** Workspace values: small stays in the process's object, large goes to R2 (threshold 64 KiB). */
const SMALL_BYTES = 1024;
const LARGE_BYTES = 512 * 1024;
const WS_SAMPLES = 60;

function stat(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { samples: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
}

async function request(url: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

async function jsonOf<T>(url: string, init: RequestInit = {}): Promise<T> {
  return (await (await request(url, init)).json()) as T;
}

async function main(): Promise<void> {
  const dev = await startWranglerDev(join(here, "wrangler.toml"), "bus", { ADMIN_TOKEN });
  const base = dev.base;
  try {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
    const tenant = await jsonOf<{ id: string }>(`${base}/v1/tenants`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: `bench-${Date.now()}` }),
    });
    const key = await jsonOf<{ secret: string }>(`${base}/v1/keys`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ tenantId: tenant.id, name: "bench", role: "operator" }),
    });
    const auth = { authorization: `Bearer ${key.secret}`, "content-type": "application/json" };
    // A paused process: it holds a mailbox and a workspace and runs no model.
    const proc = await jsonOf<{ id: string }>(`${base}/v1/processes`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ type: "assistant", goal: "bench", paused: true }),
    });
    const q = `tenant=${tenant.id}&to=${proc.id}`;

    const rpcOnce = async () => {
      const start = performance.now();
      await request(`${base}/bench/rpc?${q}`, { method: "POST" });
      return performance.now() - start;
    };
    const sendQueued = async (): Promise<string> => {
      const sent = await jsonOf<{ messageId: string }>(`${base}/v1/messages`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ to: proc.id, body: { bench: true } }),
      });
      return sent.messageId;
    };
    const waitDelivered = async (id: string) => {
      for (;;) {
        const has = await jsonOf<{ found: boolean; sentAtMs?: number; deliveredAtMs?: number }>(
          `${base}/bench/has?${q}&id=${id}`,
        );
        if (has.found) return has as { sentAtMs: number; deliveredAtMs: number };
      }
    };
    const queueOnce = async () => {
      const start = performance.now();
      const id = await sendQueued();
      const has = await waitDelivered(id);
      return { clientMs: performance.now() - start, serverMs: has.deliveredAtMs - has.sentAtMs };
    };
    const drain = () => request(`${base}/bench/drain?${q}`, { method: "POST" });

    for (let i = 0; i < WARMUP; i++) {
      await rpcOnce();
      await queueOnce();
    }
    await drain();
    const rpc: number[] = [];
    const queueClient: number[] = [];
    const queueServer: number[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      rpc.push(await rpcOnce());
      const qd = await queueOnce();
      queueClient.push(qd.clientMs);
      queueServer.push(qd.serverMs);
      if (i % 50 === 49) await drain(); // keep the mailbox small and the `has` probe cheap
    }
    await drain();

    // Throughput: BURST messages with IN_FLIGHT outstanding, until every one is delivered.
    const burst = async (one: () => Promise<unknown>) => {
      const start = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < BURST) {
            next++;
            await one();
          }
        }),
      );
      return performance.now() - start;
    };
    const countMailbox = async () => {
      let n = 0;
      let cursor: string | null = null;
      do {
        const page: { items: unknown[]; nextCursor: string | null } = await jsonOf(
          `${base}/v1/messages?processId=${proc.id}&limit=20${cursor ? `&cursor=${cursor}` : ""}`,
          { headers: auth },
        );
        n += page.items.length;
        cursor = page.nextCursor;
      } while (cursor);
      return n;
    };
    const rpcBurstMs = await burst(() => request(`${base}/bench/rpc?${q}`, { method: "POST" }));
    await drain();
    const queueStart = performance.now();
    await burst(sendQueued);
    const enqueuedMs = performance.now() - queueStart;
    // The mailbox holds at most 256 unread messages; BURST stays under it (default 200 + slack).
    while ((await countMailbox()) < BURST) await new Promise((r) => setTimeout(r, 5));
    const queueBurstMs = performance.now() - queueStart;
    await drain();

    // Workspace files, small (in the object) and large (R2), if the routes answer.
    const small = new Uint8Array(SMALL_BYTES).fill(97);
    const large = new Uint8Array(LARGE_BYTES).fill(98);
    const ws: Record<string, number[]> = { smallPut: [], smallGet: [], largePut: [], largeGet: [] };
    let workspace = true;
    const fileUrl = (name: string) =>
      `${base}/v1/processes/${proc.id}/workspace/files/bench/${name}`;
    const timeFile = async (method: "PUT" | "GET", name: string, bytes?: Uint8Array) => {
      const start = performance.now();
      const res = await fetch(fileUrl(name), {
        method,
        headers: { authorization: auth.authorization, "content-type": "application/octet-stream" },
        ...(bytes ? { body: bytes } : {}),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${method} workspace file: ${res.status}`);
      return performance.now() - start;
    };
    try {
      for (let i = 0; i < WS_SAMPLES; i++) {
        // Each write differs (a counter in the first bytes), so no write is a no-op by hash.
        small[0] = 48 + (i % 10);
        large[0] = 48 + (i % 10);
        ws.smallPut!.push(await timeFile("PUT", "small.txt", small));
        ws.smallGet!.push(await timeFile("GET", "small.txt"));
        ws.largePut!.push(await timeFile("PUT", "large.bin", large));
        ws.largeGet!.push(await timeFile("GET", "large.bin"));
      }
    } catch (error) {
      workspace = false;
      console.error(`workspace rows skipped: ${(error as Error).message}`);
    }

    const rows = [
      { path: "direct DO RPC delivery (baseline)", ...stat(rpc) },
      { path: "queue delivery, client-observed", ...stat(queueClient) },
      { path: "queue delivery, sentAt→deliveredAt", ...stat(queueServer) },
      ...(workspace
        ? [
            { path: `workspace PUT ${SMALL_BYTES} B (DO)`, ...stat(ws.smallPut!) },
            { path: `workspace GET ${SMALL_BYTES} B (DO)`, ...stat(ws.smallGet!) },
            { path: `workspace PUT ${LARGE_BYTES / 1024} KiB (R2)`, ...stat(ws.largePut!) },
            { path: `workspace GET ${LARGE_BYTES / 1024} KiB (R2)`, ...stat(ws.largeGet!) },
          ]
        : []),
    ];
    const throughput = {
      burst: BURST,
      inFlight: IN_FLIGHT,
      rpcMsgsPerSec: (BURST * 1000) / rpcBurstMs,
      queueEnqueueMsgsPerSec: (BURST * 1000) / enqueuedMs,
      queueDeliveredMsgsPerSec: (BURST * 1000) / queueBurstMs,
    };
    console.log(
      `bench/bus  ${MESSAGES} messages each way, interleaved, one local wrangler dev (round trip included)\n`,
    );
    console.log("path                                  p50 ms   p99 ms");
    console.log("------------------------------------  -------  -------");
    for (const r of rows)
      console.log(
        `${r.path.padEnd(36)}  ${r.p50Ms.toFixed(2).padStart(7)}  ${r.p99Ms.toFixed(2).padStart(7)}`,
      );
    console.log(`\nthroughput: ${BURST} messages, ${IN_FLIGHT} in flight`);
    console.log("path                                  msgs/s");
    console.log("------------------------------------  -------");
    console.log(
      `${"direct DO RPC delivery (baseline)".padEnd(36)}  ${throughput.rpcMsgsPerSec.toFixed(0).padStart(7)}`,
    );
    console.log(
      `${"queue: accepted by POST /v1/messages".padEnd(36)}  ${throughput.queueEnqueueMsgsPerSec.toFixed(0).padStart(7)}`,
    );
    console.log(
      `${"queue: delivered into the mailbox".padEnd(36)}  ${throughput.queueDeliveredMsgsPerSec.toFixed(0).padStart(7)}`,
    );
    console.log(
      "\n(the queue path also pays the API key's lookup, the gate and the audit row per send; max_batch_timeout = 0)",
    );
    mkdirSync(join(root, "bench/out"), { recursive: true });
    writeFileSync(
      join(root, "bench/out/bus.json"),
      `${JSON.stringify({ messages: MESSAGES, rows, throughput, workspace }, null, 2)}\n`,
    );
  } finally {
    dev.stop();
  }
}

await main();
