import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { AgentProcess } from "../../src/objects/agent-process";
import {
  call,
  defineType,
  finishTurn,
  newTenant,
  type ProcessBody,
  spawn,
  type TestTenant,
  until,
} from "../helpers";
import { connect, structured } from "../mcp/client";

type Full = ProcessBody & {
  result: unknown;
  waitingOn: { kind: string; approvalId?: string } | null;
};

const testEnv = env as unknown as {
  STANDIN_MCP_PORT: number;
  DB: D1Database;
  AGENT_PROCESS: DurableObjectNamespace<AgentProcess>;
};
const toolServer = () => `http://127.0.0.1:${testEnv.STANDIN_MCP_PORT}`;
const ended = (p: ProcessBody) =>
  ["exited", "terminated", "failed", "budget_exhausted"].includes(p.status);

async function toolCalls(): Promise<Array<{ tool: string; arguments: Record<string, unknown> }>> {
  return (
    (await (await fetch(`${toolServer()}/__calls`)).json()) as {
      calls: Array<{ tool: string; arguments: Record<string, unknown> }>;
    }
  ).calls;
}

async function syscalls(token: string, id: string): Promise<string[]> {
  const res = await call<{ items: Array<{ event: string; reason: string }> }>(
    "GET",
    `/v1/processes/${id}/events?limit=100`,
    { token },
  );
  return res.body.items.filter((e) => e.event === "syscall").map((e) => e.reason);
}

const echo = (text: string) => ({ toolCalls: [{ name: "ext__echo", arguments: { text } }] });
const deploy = (service: string) => ({
  toolCalls: [{ name: "ext__deploy", arguments: { service } }],
});

/** A tenant with the test tool server registered as namespace `ext` (deploy is high risk). */
async function tenantWithTools(entitle = true): Promise<TestTenant> {
  const t = await newTenant("gate");
  const reg = await call("POST", "/v1/capability-providers", {
    token: t.admin,
    body: { namespace: "ext", url: `${toolServer()}/mcp`, toolRisk: { deploy: "high" } },
  });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  if (entitle) {
    const ent = await call("POST", "/v1/entitlements", {
      token: t.admin,
      body: { capability: "ext.*" },
    });
    expect(ent.status).toBe(201);
  }
  return t;
}

describe("capability providers", () => {
  it("registers an external MCP server: its tools become namespaced capabilities with risk levels", async () => {
    const t = await tenantWithTools();
    const caps = await call<{ items: Array<{ name: string; risk: string; builtin: boolean }> }>(
      "GET",
      "/v1/capabilities",
      { token: t.reader },
    );
    const ext = caps.body.items.filter((c) => !c.builtin).map((c) => [c.name, c.risk]);
    expect(ext).toEqual([
      ["ext.deploy", "high"],
      ["ext.echo", "medium"],
    ]);
    expect(caps.body.items.filter((c) => c.builtin).map((c) => c.name)).toEqual([
      "artifact.read",
      "artifact.write",
      "bb.read",
      "bb.write",
      "fleet.observe",
      "memory.read",
      "memory.write",
      "msg.recv",
      "msg.send",
      "proc.finish",
      "proc.purge",
      "proc.signal",
      "proc.sleep",
      "proc.spawn",
      "proc.wait",
      "sched.deploy",
      "sched.read",
      "sched.record",
      "sched.rollback",
      "sched.submit",
      "sched.verify",
      "topic.publish",
      "topic.subscribe",
      "ws.read",
      "ws.share",
      "ws.write",
    ]);
  });

  it("refuses an unreachable server and a reserved namespace, storing nothing", async () => {
    const t = await newTenant();
    const down = await call<{ errors: Array<{ path: string }> }>(
      "POST",
      "/v1/capability-providers",
      {
        token: t.admin,
        body: { namespace: "gone", url: "http://127.0.0.1:9/mcp" },
      },
    );
    expect(down.status).toBe(422);
    expect(down.body.errors[0]?.path).toBe("url");
    const reserved = await call("POST", "/v1/capability-providers", {
      token: t.admin,
      body: { namespace: "proc", url: `${toolServer()}/mcp` },
    });
    expect(reserved.status).toBe(422);
    const list = await call<{ items: unknown[] }>("GET", "/v1/capability-providers", {
      token: t.reader,
    });
    expect(list.body.items).toEqual([]);
  });

  it("calls an external tool through the gate on a process's behalf", async () => {
    const t = await tenantWithTools();
    const type = await defineType(t, { capabilities: ["proc.finish", "ext.echo"] });
    const p = await spawn(t.operator, {
      type,
      script: [echo("hello from the kernel"), finishTurn("ok")],
    });
    expect((await until(t.reader, p.body.id, ended)).status).toBe("exited");
    expect(
      (await toolCalls()).some(
        (c) => c.tool === "echo" && c.arguments.text === "hello from the kernel",
      ),
    ).toBe(true);
    expect((await syscalls(t.reader, p.body.id))[0]).toMatch(
      /^ext__echo: allow \[default-permit-entitled\]$/,
    );
  });
});

describe("the gate refuses", () => {
  it("a capability the process does not hold, and the tool is never called", async () => {
    const t = await tenantWithTools();
    const type = await defineType(t, { capabilities: ["proc.finish"] });
    const p = await spawn(t.operator, {
      type,
      script: [echo("should not arrive"), finishTurn("ok")],
    });
    await until(t.reader, p.body.id, ended);
    expect((await syscalls(t.reader, p.body.id))[0]).toMatch(
      /^ext__echo: deny \(ext\.echo is not among this process's capabilities\)/,
    );
    expect((await toolCalls()).some((c) => c.arguments.text === "should not arrive")).toBe(false);
  });

  it("a capability the tenant is not entitled to (no policy permits it)", async () => {
    const t = await tenantWithTools(false);
    const type = await defineType(t, { capabilities: ["proc.finish", "ext.echo"] });
    const p = await spawn(t.operator, { type, script: [echo("unentitled"), finishTurn("ok")] });
    await until(t.reader, p.body.id, ended);
    expect((await syscalls(t.reader, p.body.id))[0]).toMatch(/^ext__echo: deny \(denied by policy/);
  });

  it("a call a tenant's Cedar policy forbids, naming the policy", async () => {
    const t = await tenantWithTools();
    const put = await call("PUT", "/v1/access-policies/no-echo", {
      token: t.admin,
      body: {
        cedar:
          '@id("no-echo") forbid(principal, action, resource) when { context.capability == "ext.echo" };',
      },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const type = await defineType(t, { capabilities: ["proc.finish", "ext.echo"] });
    const p = await spawn(t.operator, { type, script: [echo("forbidden"), finishTurn("ok")] });
    await until(t.reader, p.body.id, ended);
    expect((await syscalls(t.reader, p.body.id))[0]).toMatch(
      /^ext__echo: deny \(denied by policy .*no-echo/,
    );
  });

  it("calls over the entitlement's rate limit, and lets them through again once the minute has passed", async () => {
    const t = await newTenant("rate");
    await call("POST", "/v1/capability-providers", {
      token: t.admin,
      body: { namespace: "ext", url: `${toolServer()}/mcp` },
    });
    await call("POST", "/v1/entitlements", {
      token: t.admin,
      body: { capability: "ext.echo", callsPerMin: 1 },
    });
    const type = await defineType(t, { capabilities: ["proc.finish", "proc.sleep", "ext.echo"] });
    const p = await spawn(t.operator, {
      type,
      script: [
        echo("one"),
        echo("two"),
        { toolCalls: [{ name: "sleep", arguments: { ms: 1500 } }] },
        echo("three"),
        finishTurn("ok"),
      ],
    });
    await until(t.reader, p.body.id, (x) => x.status === "waiting");
    // Age the call log as if the minute had passed while the process slept.
    const stub = testEnv.AGENT_PROCESS.get(testEnv.AGENT_PROCESS.idFromName(p.body.id));
    await runInDurableObject(stub, (instance: AgentProcess) => {
      instance.store.putKv("calls:ext.echo", [Date.now() - 61_000]);
    });
    await until(t.reader, p.body.id, ended);
    const log = await syscalls(t.reader, p.body.id);
    expect(log[0]).toMatch(/^ext__echo: allow/);
    expect(log[1]).toMatch(/^ext__echo: deny \(rate limit of 1 calls\/min for ext\.echo reached\)/);
    expect(log[3]).toMatch(/^ext__echo: allow/);
  });
});

describe("the gate for calls made with an API key", () => {
  it("applies the tenant's Cedar policies to spawn and signals, over HTTPS and MCP alike", async () => {
    const t = await newTenant("keygate");
    const p = await spawn(t.operator, { paused: true });
    expect(p.status).toBe(201);
    const put = await call("PUT", "/v1/access-policies/operators-cannot-terminate", {
      token: t.admin,
      body: {
        cedar:
          '@id("no-operator-signals") forbid(principal is Key, action, resource) when { context.capability == "proc.signal" && principal.role == "operator" };',
      },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const refused = await call("POST", `/v1/processes/${p.body.id}/terminate`, {
      token: t.operator,
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: "policy_denied",
      policyIds: ["operators-cannot-terminate"],
    });
    const client = await connect(t.operator);
    const viaMcp = await client.callTool({
      name: "terminate_process",
      arguments: { id: p.body.id },
    });
    expect(viaMcp.isError).toBe(true);
    await client.close();
    // The admin role is not caught by the policy; the process was untouched until now.
    expect(
      (await call<ProcessBody>("GET", `/v1/processes/${p.body.id}`, { token: t.reader })).body
        .status,
    ).toBe("paused");
    const allowed = await call<ProcessBody>("POST", `/v1/processes/${p.body.id}/terminate`, {
      token: t.admin,
    });
    expect(allowed.body.status).toBe("terminated");
    const audit = await call<{ items: Array<{ decision: string; status: number; actor: string }> }>(
      "GET",
      "/v1/audit?action=process.terminate",
      { token: t.admin },
    );
    expect(audit.body.items.filter((a) => a.decision === "deny" && a.status === 403).length).toBe(
      2,
    );
  });

  it("refuses a key's call that policy would park for approval, saying why", async () => {
    const t = await newTenant("keygate");
    await call("PUT", "/v1/access-policies/spawn-approval", {
      token: t.admin,
      body: {
        cedar:
          '@id("spawn-needs-approval") @approval("required") forbid(principal is Key, action, resource) when { context.capability == "proc.spawn" } unless { context.approved };',
      },
    });
    const res = await spawn(t.operator, { paused: true });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "approval_required" });
    const list = await call<{ items: unknown[] }>("GET", "/v1/processes", { token: t.reader });
    expect(list.body.items).toEqual([]);
  });
});

describe("the human gate", () => {
  let t: TestTenant;
  let type: string;
  beforeAll(async () => {
    t = await tenantWithTools();
    type = await defineType(t, { capabilities: ["proc.finish", "ext.deploy"] });
  });

  async function parked(service: string): Promise<{ id: string; approvalId: string }> {
    const p = await spawn(t.operator, {
      type,
      script: [deploy(service), finishTurn("after the gate")],
    });
    const waiting = (await until(t.reader, p.body.id, (x) => x.status === "waiting")) as Full;
    expect(waiting.waitingOn?.kind).toBe("approval");
    return { id: p.body.id, approvalId: waiting.waitingOn!.approvalId! };
  }

  it("parks a high-risk call: the process waits, the request shows, approval runs it exactly once", async () => {
    const service = `svc-${crypto.randomUUID().slice(0, 8)}`;
    const { id, approvalId } = await parked(service);
    const pending = await call<{
      items: Array<{ id: string; capability: string; policyIds: string[]; processId: string }>;
    }>("GET", "/v1/approvals?status=pending", { token: t.reader });
    expect(pending.body.items.find((a) => a.id === approvalId)).toMatchObject({
      capability: "ext.deploy",
      processId: id,
      policyIds: ["high-risk-needs-approval"],
    });
    expect((await toolCalls()).filter((c) => c.arguments.service === service)).toEqual([]);

    const approve = await call("POST", `/v1/approvals/${approvalId}/approve`, {
      token: t.operator,
      body: { reason: "change window" },
    });
    expect(approve.status).toBe(200);
    const again = await call("POST", `/v1/approvals/${approvalId}/approve`, { token: t.operator });
    expect(again.status).toBe(409);
    const done = (await until(t.reader, id, ended)) as Full;
    expect(done).toMatchObject({ status: "exited", result: "after the gate" });
    expect(
      (await toolCalls()).filter((c) => c.tool === "deploy" && c.arguments.service === service),
    ).toHaveLength(1);
    const audit = await call<{ items: Array<{ action: string; target: string }> }>(
      "GET",
      "/v1/audit?action=approval.approve",
      { token: t.admin },
    );
    expect(audit.body.items.map((a) => a.target)).toContain(approvalId);
  });

  it("fails a denied call with the reason and never runs it", async () => {
    const service = `svc-${crypto.randomUUID().slice(0, 8)}`;
    const { id, approvalId } = await parked(service);
    const deny = await call("POST", `/v1/approvals/${approvalId}/deny`, {
      token: t.admin,
      body: { reason: "not today" },
    });
    expect(deny.status).toBe(200);
    const done = await until(t.reader, id, ended);
    expect(done.status).toBe("exited"); // the script finishes after the failed call
    expect((await toolCalls()).filter((c) => c.arguments.service === service)).toEqual([]);
    const approval = await call<{ status: string; reason: string }>(
      "GET",
      `/v1/approvals/${approvalId}`,
      { token: t.reader },
    );
    expect(approval.body).toMatchObject({ status: "denied", reason: "not today" });
  });

  it("expires an unanswered request at its deadline, failing the call, and audits it", async () => {
    const service = `svc-${crypto.randomUUID().slice(0, 8)}`;
    const { id, approvalId } = await parked(service);
    await testEnv.DB.prepare("UPDATE approvals SET expires_at_ms = ? WHERE id = ?")
      .bind(Date.now() - 1, approvalId)
      .run();
    await runDurableObjectAlarm(testEnv.AGENT_PROCESS.get(testEnv.AGENT_PROCESS.idFromName(id)));
    await until(t.reader, id, ended);
    const approval = await call<{ status: string }>("GET", `/v1/approvals/${approvalId}`, {
      token: t.reader,
    });
    expect(approval.body.status).toBe("expired");
    const late = await call("POST", `/v1/approvals/${approvalId}/approve`, { token: t.operator });
    expect(late.status).toBe(409);
    expect((await toolCalls()).filter((c) => c.arguments.service === service)).toEqual([]);
    const audit = await call<{ items: Array<{ target: string }> }>(
      "GET",
      "/v1/audit?action=approval.expire",
      { token: t.admin },
    );
    expect(audit.body.items.map((a) => a.target)).toContain(approvalId);
  });

  it("lists and approves a parked call over MCP too, with the same audit row", async () => {
    const service = `svc-${crypto.randomUUID().slice(0, 8)}`;
    const { id, approvalId } = await parked(service);
    const client = await connect(t.operator);
    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    expect(tools).toEqual(expect.arrayContaining(["list_approvals", "approve_call", "deny_call"]));
    const page = structured<{ items: Array<{ id: string }> }>(
      await client.callTool({ name: "list_approvals", arguments: { status: "pending" } }),
    );
    expect(page.items.map((a) => a.id)).toContain(approvalId);
    const approved = structured<{ status: string }>(
      await client.callTool({
        name: "approve_call",
        arguments: { id: approvalId, reason: "via MCP" },
      }),
    );
    expect(approved.status).toBe("approved");
    const twice = await client.callTool({ name: "approve_call", arguments: { id: approvalId } });
    expect(twice.isError).toBe(true);
    await client.close();
    expect((await until(t.reader, id, ended)).status).toBe("exited");
    expect((await toolCalls()).filter((c) => c.arguments.service === service)).toHaveLength(1);
    const audit = await call<{ items: Array<{ target: string; detail: { via?: string } }> }>(
      "GET",
      "/v1/audit?action=approval.approve",
      { token: t.admin },
    );
    expect(audit.body.items.find((a) => a.target === approvalId)?.detail.via).toBe("mcp");
  });

  it("keeps approvals to their tenant and to deciding roles", async () => {
    const { approvalId } = await parked(`svc-${crypto.randomUUID().slice(0, 8)}`);
    const other = await newTenant();
    expect(
      (await call("POST", `/v1/approvals/${approvalId}/approve`, { token: other.operator })).status,
    ).toBe(404);
    expect(
      (await call("POST", `/v1/approvals/${approvalId}/approve`, { token: t.reader })).status,
    ).toBe(403);
    expect((await call("GET", `/v1/approvals/${approvalId}`, { token: other.reader })).status).toBe(
      404,
    );
  });
});
