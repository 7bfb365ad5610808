/**
 * bench/sched's Worker: the decision-cost pool of cost.ts inside workerd, so the scheduler's
 * cost is read in the runtime the Scheduler Durable Object runs in (run by workerd.ts).
 *
 *   GET /cycles?policy=LABEL&n=N   N scheduling cycles (pick, charge, enqueue of the replacement)
 *                                  on LABEL's pool of 10,000 queued processes, built on first
 *                                  use and kept in the isolate; answers the elapsed ms as
 *                                  workerd's own clock reads it, and the queue size.
 *
 * Local workerd's clock advances during a request in whole milliseconds, so the runner asks for
 * enough cycles to last tens of milliseconds and also times each request from outside against
 * one with n=0.
 */

import { QUEUED_PROCESSES, QueuedPool } from "./cost.js";
import { benchPolicies } from "./policies.js";
import { TENANT_WEIGHT_MAP, TENANT_WEIGHTS } from "./scenarios.js";

/** Most cycles one request may run: a limit on how long a request can hold the isolate. */
const MAX_CYCLES = 1_000_000;

const makers = new Map(benchPolicies(TENANT_WEIGHT_MAP).map((p) => [p.label, p.make]));
const pools = new Map<string, QueuedPool>();

function poolFor(label: string): QueuedPool | null {
  let pool = pools.get(label);
  if (pool) return pool;
  const make = makers.get(label);
  if (!make) return null;
  pool = new QueuedPool(make, {
    queued: QUEUED_PROCESSES,
    seed: 1,
    tenantWeights: TENANT_WEIGHTS,
    priorityShares: [0.2, 0.6, 0.2],
  });
  pools.set(label, pool);
  return pool;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/cycles") return new Response("not found", { status: 404 });
    const n = Number(url.searchParams.get("n") ?? "0");
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_CYCLES)
      return new Response(`n must be an integer in 0..${MAX_CYCLES}`, { status: 400 });
    const pool = poolFor(url.searchParams.get("policy") ?? "");
    if (!pool) return new Response(`policies: ${[...makers.keys()].join(", ")}`, { status: 404 });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) pool.cycle();
    const elapsedMs = performance.now() - t0;
    return Response.json({ n, elapsedMs, queued: pool.policy.size() });
  },
};
