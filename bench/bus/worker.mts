/**
 * A Worker for bench/bus: the real edgekernel Worker (API, queue consumers, Durable Objects)
 * plus two routes for the baseline, so the runner measures queue delivery against a direct
 * Durable Object RPC in the same run, on the same server.
 *
 *   POST /bench/rpc?tenant=T&to=P        one envelope put straight into P's mailbox by RPC
 *   GET  /bench/has?tenant=T&to=P&id=M   whether message M is in P's mailbox (one RPC)
 *   POST /bench/drain?tenant=T&to=P      acknowledges everything in P's mailbox
 */

import type { Envelope } from "../../src/bus/envelope.js";
import type { Env } from "../../src/env.js";
import worker from "../../src/index.js";
import { newId } from "../../src/kernel/ids.js";
import { processStub } from "../../src/objects/agent-process.js";

export { AgentProcess, Scheduler } from "../../src/index.js";

async function bench(url: URL, env: Env): Promise<Response> {
  const tenant = url.searchParams.get("tenant") ?? "";
  const to = url.searchParams.get("to") ?? "";
  const stub = processStub(env, to);
  if (url.pathname === "/bench/rpc") {
    const json = JSON.stringify({ bench: true, at: Date.now() });
    const envelope: Envelope = {
      v: 1,
      id: newId("message"),
      tenantId: tenant,
      from: "bench",
      to,
      topic: null,
      correlationId: null,
      sentAtMs: Date.now(),
      sizeBytes: json.length,
      payload: { kind: "inline", json },
    };
    const result = await stub.busDeliver(tenant, envelope);
    return Response.json({ messageId: envelope.id, result }, { status: result.ok ? 200 : 500 });
  }
  if (url.pathname === "/bench/has") {
    const id = url.searchParams.get("id");
    const page = await stub.busMailbox(tenant, 0, 100);
    const found = page?.messages.find((m) => m.messageId === id);
    return Response.json(
      found
        ? { found: true, sentAtMs: found.sentAtMs, deliveredAtMs: found.deliveredAtMs }
        : { found: false },
    );
  }
  if (url.pathname === "/bench/drain") {
    let drained = 0;
    for (;;) {
      const page = await stub.busMailbox(tenant, 0, 100);
      if (!page || page.messages.length === 0) break;
      for (const m of page.messages) {
        await stub.busAck(tenant, m.messageId);
        drained++;
      }
    }
    return Response.json({ drained });
  }
  return new Response("not found", { status: 404 });
}

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/bench/")) return bench(url, env);
    return worker.fetch(request, env, ctx);
  },
  queue: (batch, env, ctx) => worker.queue(batch, env, ctx),
} satisfies ExportedHandler<Env>;
