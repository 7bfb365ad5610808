/**
 * A Worker for bench/gate: the same modules the kernel uses, behind two routes that differ only
 * by the gate, so the runner can measure the gate's cost against a bare Durable Object RPC in
 * the same run, on the same server.
 *
 *   POST /setup            a tenant, an operator key, a process (returns their ids and the key)
 *   GET  /noop             nothing: the HTTP round trip alone (the floor under every row)
 *   GET  /bare/:id         one Durable Object RPC (read the process)
 *   GET  /gated/:id        the same RPC, running a system call's gate inside the process
 *   GET  /write/:id        a system call with an effect (a row in the process's log), bare or
 *                          (?gated=1) with the gate and its record in the same transaction
 *   GET  /decide/:id?n=N   N gate decisions inside the process, in one call
 *   GET  /auth             an API key's authentication (one D1 read), as /v1 and /mcp do it
 *   POST /audit            one D1 audit row, as every state-changing /v1 and /mcp call writes
 *   GET  /cedar?statements=S&n=N[&settle=0]   N policy decisions with S pre-parsed statements,
 *                          in workerd (settle=0: the engine asks Cedar for every evaluation)
 */

import type { Env } from "../../src/env.js";
import { newId } from "../../src/kernel/ids.js";
import type { PendingEvent } from "../../src/kernel/process/lifecycle.js";
import type { ProcessRecord } from "../../src/kernel/process/record.js";
import { matchEntitlement } from "../../src/kernel/syscall/entitlement.js";
import { gate } from "../../src/kernel/syscall/gate.js";
import { AgentProcess, processStub } from "../../src/objects/agent-process.js";
import { gateContextFor, grantsFor } from "../../src/objects/gate-context.js";
import { createCedarEngine } from "../../src/policy/index.js";
import { createApiKey, findKeyBySecret } from "../../src/store/api-keys.js";
import { writeAudit } from "../../src/store/audit.js";
import { openDb } from "../../src/store/db.js";
import { createTenant } from "../../src/store/tenants.js";
import { requestMix, tenantRules } from "./cedar-workload.js";

export { Scheduler } from "../../src/objects/scheduler.js";
export { BenchProcess as AgentProcess };

async function setup(env: Env): Promise<Response> {
  const db = openDb(env.DB);
  const nowMs = Date.now();
  const tenant = await createTenant(db, `bench-${nowMs}`, nowMs);
  if (!tenant) return new Response("tenant exists", { status: 500 });
  const { secret } = await createApiKey(
    db,
    {
      tenantId: tenant.id,
      name: "bench",
      role: "operator",
      processId: null,
      createdBy: "bench",
      expiresAtMs: null,
    },
    nowMs,
  );
  const id = newId("process", nowMs);
  const spawned = await processStub(env, id).spawn({
    id,
    tenantId: tenant.id,
    type: { name: "assistant", version: "1.0.0" },
    goal: "bench",
    priority: 1,
    labels: {},
    parentId: null,
    budget: {
      maxTokens: 1_000_000,
      maxToolCalls: 1_000_000,
      wallClockMs: 3_600_000,
      maxCostMicroUsd: 0,
    },
    capabilities: ["proc.sleep"],
    model: "scripted",
    pool: "bench",
    systemPrompt: "",
    actor: "bench",
    paused: true,
  });
  if (!spawned.ok) return new Response("spawn failed", { status: 500 });
  return Response.json({ tenantId: tenant.id, processId: id, key: secret });
}

/**
 * The process object with one extra RPC for the bench: a system call's gate exactly as the
 * agent loop runs it inside the process (isolate-cached capabilities, entitlements and Cedar
 * engine; the decision appended to the process's own event log), then the same read as /bare.
 */
export class BenchProcess extends AgentProcess {
  /** The gate's decision for a `proc.sleep` call by this process, as the agent loop takes it. */
  private async decide(record: ProcessRecord, tenantId: string) {
    const ctx = await gateContextFor(openDb(this.env.DB), tenantId);
    const cap = ctx.capabilities.get("proc.sleep");
    return gate({
      record,
      name: "proc.sleep",
      capability: cap ? { risk: cap.risk } : undefined,
      counted: true,
      callsThisStep: 0,
      entitlement: matchEntitlement(
        "proc.sleep",
        cap?.risk ?? "critical",
        cap?.provider === "builtin",
        grantsFor(ctx.grants, record.type.name),
      ),
      callsLastMinute: 0,
      policy: ctx.policy,
      approved: false,
      resource: { type: "Tenant", id: tenantId },
      dataLabels: [],
      nowMs: Date.now(),
    });
  }

  /**
   * A read-only system call: the same read as /bare, after the gate; with `logDecision`, the
   * decision's durable record, which is then the call's only write (it costs a commit).
   */
  async gatedGet(
    tenantId: string,
    logDecision = true,
  ): Promise<{ allow: boolean; status: string | null }> {
    const record = this.store.load();
    if (!record || record.tenantId !== tenantId) return { allow: false, status: null };
    const decision = await this.decide(record, tenantId);
    if (logDecision) this.store.appendEvents([syscallEvent(record, decision.allow)]);
    return { allow: decision.allow, status: record.status };
  }

  /**
   * A system call with an effect (one row in the process's log stands for it). Gated, the
   * decision's record is written in the same transaction as the effect, as the agent loop
   * commits a step's system calls with the step.
   */
  async writeCall(tenantId: string, gated: boolean): Promise<{ allow: boolean }> {
    const record = this.store.load();
    if (!record || record.tenantId !== tenantId) return { allow: false };
    const effect: PendingEvent = {
      atMs: Date.now(),
      event: "step",
      from: record.status,
      to: record.status,
      actor: record.id,
      reason: "bench effect",
    };
    if (!gated) {
      this.store.appendEvents([effect]);
      return { allow: true };
    }
    const decision = await this.decide(record, tenantId);
    this.store.appendEvents(
      decision.allow ? [syscallEvent(record, true), effect] : [syscallEvent(record, false)],
    );
    return { allow: decision.allow };
  }

  /** `n` gate decisions in one call (the runner subtracts n = 0): the decision's own cost. */
  async decideLoop(tenantId: string, n: number): Promise<{ allowed: number }> {
    const record = this.store.load();
    if (!record || record.tenantId !== tenantId) return { allowed: 0 };
    let allowed = 0;
    for (let i = 0; i < n; i++) if ((await this.decide(record, tenantId)).allow) allowed++;
    return { allowed };
  }
}

function syscallEvent(record: ProcessRecord, allow: boolean): PendingEvent {
  return {
    atMs: Date.now(),
    event: "syscall",
    from: record.status,
    to: record.status,
    actor: record.id,
    reason: `sleep: ${allow ? "allow" : "deny"}`,
  };
}

const engines = new Map<string, ReturnType<typeof createCedarEngine>>();

/**
 * `n` Cedar decisions over the request mix with a pre-parsed set of `statements` statements,
 * inside workerd; with `settle` false the engine asks Cedar for every evaluation (the baseline).
 * The runner times this from outside (n and 0) because workerd's clock does not advance while
 * code runs. Also answers what share of the mix the engine settled without calling Cedar.
 */
function decideLoop(statements: number, n: number, settle: boolean): Response {
  const key = `${statements}:${settle}`;
  let engine = engines.get(key);
  if (!engine) {
    engine = createCedarEngine(
      tenantRules(statements).map((r) => r.source),
      { settle },
    );
    engines.set(key, engine);
  }
  const requests = requestMix(256);
  const before = { ...engine.counts };
  let allowed = 0;
  for (let i = 0; i < n; i++) {
    if (engine.decide(requests[i % requests.length]!).effect === "allow") allowed++;
  }
  const evaluations = engine.counts.evaluations - before.evaluations;
  const settled = engine.counts.settled - before.settled;
  return Response.json({ n, allowed, evaluations, settled });
}

function benchStub(env: Env, id: string): BenchProcess {
  return env.AGENT_PROCESS.get(env.AGENT_PROCESS.idFromName(id)) as unknown as BenchProcess;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/setup" && request.method === "POST") return setup(env);
    if (url.pathname === "/noop") return Response.json({ ok: true });
    const bare = /^\/bare\/([^/]+)$/.exec(url.pathname);
    if (bare) {
      const tenantId = url.searchParams.get("tenant") ?? "";
      const record = await processStub(env, bare[1]!).get(tenantId);
      return Response.json({ status: record?.status ?? null });
    }
    const w = /^\/write\/([^/]+)$/.exec(url.pathname);
    if (w) {
      const tenantId = url.searchParams.get("tenant") ?? "";
      return Response.json(
        await benchStub(env, w[1]!).writeCall(tenantId, url.searchParams.get("gated") === "1"),
      );
    }
    const d = /^\/decide\/([^/]+)$/.exec(url.pathname);
    if (d) {
      const tenantId = url.searchParams.get("tenant") ?? "";
      return Response.json(
        await benchStub(env, d[1]!).decideLoop(tenantId, Number(url.searchParams.get("n") ?? 0)),
      );
    }
    const g = /^\/gated\/([^/]+)$/.exec(url.pathname);
    if (g) {
      const tenantId = url.searchParams.get("tenant") ?? "";
      return Response.json(
        await benchStub(env, g[1]!).gatedGet(tenantId, url.searchParams.get("log") !== "0"),
      );
    }
    if (url.pathname === "/cedar") {
      return decideLoop(
        Number(url.searchParams.get("statements") ?? 10),
        Number(url.searchParams.get("n") ?? 0),
        url.searchParams.get("settle") !== "0",
      );
    }
    if (url.pathname === "/auth") {
      const secret = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1] ?? "";
      const key = await findKeyBySecret(openDb(env.DB), secret);
      return Response.json({ ok: Boolean(key && key.revokedAtMs === null) });
    }
    if (url.pathname === "/audit" && request.method === "POST") {
      const nowMs = Date.now();
      await writeAudit(
        openDb(env.DB),
        {
          tenantId: null,
          actor: "bench",
          actorRole: "system",
          action: "bench.call",
          target: null,
          decision: "allow",
          status: 200,
          requestId: newId("request", nowMs),
        },
        nowMs,
      );
      return Response.json({ ok: true });
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
