import { describe, expect, it } from "vitest";
import {
  call,
  defineType,
  eventsOf,
  newTenant,
  type ProcessBody,
  spawnIdle,
  type TestTenant,
  until,
} from "../helpers";
import { connect, structured, text } from "../mcp/client";

type Full = ProcessBody & { usage: { toolCalls: number } };

/** An agent key for `processId`, and the process as it stands. */
async function agentKeyFor(
  t: TestTenant,
  processId: string,
): Promise<{ id: string; secret: string }> {
  const key = await call<{ id: string; secret: string }>("POST", "/v1/keys", {
    token: t.admin,
    body: { name: "agent", role: "operator", processId },
  });
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  return key.body;
}

async function recordOf(t: TestTenant, id: string): Promise<Full> {
  return (await call<Full>("GET", `/v1/processes/${id}`, { token: t.reader })).body;
}

const childBody = { type: "assistant", goal: "a part of the work", paused: true };

describe("a client with an agent key acts as its process", () => {
  it("spawns a child of that process, counted against its budget, logged and audited under its id", async () => {
    const t = await newTenant("act");
    const parent = await spawnIdle(t.operator, { type: "coordinator" });
    const before = await recordOf(t, parent.id);
    const key = await agentKeyFor(t, parent.id);

    const child = await call<ProcessBody & { parentId: string }>("POST", "/v1/processes", {
      token: key.secret,
      body: childBody,
    });
    expect(child.status, JSON.stringify(child.body)).toBe(201);
    expect(child.body.parentId).toBe(parent.id);

    const after = await recordOf(t, parent.id);
    expect(after.usage.toolCalls).toBe(before.usage.toolCalls + 1);
    const log = (await eventsOf(t.reader, parent.id)).filter((e) => e.event === "syscall");
    expect(log.at(-1)?.reason).toMatch(new RegExp(`^proc\\.spawn via agent key ${key.id}: allow`));

    const rows = await call<{ items: Array<Record<string, unknown>> }>(
      "GET",
      `/v1/audit?actor=${parent.id}`,
      { token: t.admin },
    );
    expect(rows.body.items[0]).toMatchObject({
      action: "process.spawn",
      decision: "allow",
      actorRole: "process",
      detail: { keyId: key.id },
    });
    // The child is the process's own: it may signal it only with proc.signal, which it lacks.
    const signal = await call("POST", `/v1/processes/${child.body.id}/terminate`, {
      token: key.secret,
    });
    expect(signal.status).toBe(404);
  });

  it("refuses a capability the process does not hold, and records the refusal", async () => {
    const t = await newTenant("act");
    const p = await spawnIdle(t.operator); // assistant: proc.finish and proc.sleep only
    const key = await agentKeyFor(t, p.id);
    const res = await call("POST", "/v1/processes", { token: key.secret, body: childBody });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "capability_denied", capability: "proc.spawn" });
    const list = await call<{ items: Array<{ parentId: string | null }> }>("GET", "/v1/processes", {
      token: t.reader,
    });
    expect(list.body.items.filter((x) => x.parentId === p.id)).toEqual([]);
    const log = (await eventsOf(t.reader, p.id)).filter((e) => e.event === "syscall");
    expect(log.at(-1)?.reason).toMatch(
      /^proc\.spawn via agent key .*: deny \(proc\.spawn is not among/,
    );
    // Its own process, self-terminate: proc.signal is not among its capabilities either.
    const stop = await call("POST", `/v1/processes/${p.id}/terminate`, { token: key.secret });
    expect(stop.status).toBe(403);
    expect(stop.body.code).toBe("capability_denied");
    expect((await recordOf(t, p.id)).status).toBe("waiting");
  });

  it("stops at the process's tool-call budget", async () => {
    const t = await newTenant("act");
    // The sleep of its first step is one call; one more fits, the third does not.
    const p = await spawnIdle(t.operator, { type: "coordinator", budget: { maxToolCalls: 2 } });
    const key = await agentKeyFor(t, p.id);
    expect(
      (await call("POST", "/v1/processes", { token: key.secret, body: childBody })).status,
    ).toBe(201);
    const over = await call("POST", "/v1/processes", { token: key.secret, body: childBody });
    expect(over.status).toBe(403);
    expect(over.body.code).toBe("budget_exhausted");
    expect((await recordOf(t, p.id)).usage.toolCalls).toBe(2);
  });

  it("meets the entitlement's rate limit and the tenant's policies with the process as principal", async () => {
    const t = await newTenant("act");
    const ent = await call("POST", "/v1/entitlements", {
      token: t.admin,
      body: { capability: "proc.spawn", callsPerMin: 1 },
    });
    expect(ent.status, JSON.stringify(ent.body)).toBe(201);
    const p = await spawnIdle(t.operator, { type: "coordinator" });
    const key = await agentKeyFor(t, p.id);
    expect(
      (await call("POST", "/v1/processes", { token: key.secret, body: childBody })).status,
    ).toBe(201);
    const limited = await call("POST", "/v1/processes", { token: key.secret, body: childBody });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe("rate_limited");

    const q = await spawnIdle(t.operator, { type: "coordinator" });
    const put = await call("PUT", "/v1/access-policies/processes-spawn-nothing", {
      token: t.admin,
      body: {
        cedar:
          'forbid(principal is Process, action, resource) when { context.capability == "proc.spawn" };',
      },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const qKey = await agentKeyFor(t, q.id);
    const denied = await call("POST", "/v1/processes", { token: qKey.secret, body: childBody });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({
      code: "policy_denied",
      policyIds: ["processes-spawn-nothing"],
    });
    // The same policy does not bind a tenant key (principal is Key): the key gate lets it through.
    expect(
      (await call("POST", "/v1/processes", { token: t.operator, body: childBody })).status,
    ).toBe(201);
  });

  it("makes no system calls once its process has ended", async () => {
    const t = await newTenant("act");
    const p = await spawnIdle(t.operator, { type: "coordinator" });
    const key = await agentKeyFor(t, p.id);
    await call("POST", `/v1/processes/${p.id}/terminate`, { token: t.operator });
    await until(t.reader, p.id, (x) => x.status === "terminated");
    const res = await call("POST", "/v1/processes", { token: key.secret, body: childBody });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("process_ended");
  });

  it("does the same over MCP: spawn_process as the process, signals gated by its capabilities", async () => {
    const t = await newTenant("act");
    const type = await defineType(t, {
      capabilities: ["proc.finish", "proc.sleep", "proc.spawn", "proc.wait", "proc.signal"],
    });
    const p = await spawnIdle(t.operator, { type });
    const key = await agentKeyFor(t, p.id);
    const client = await connect(key.secret);
    const made = await client.callTool({ name: "spawn_process", arguments: childBody });
    expect(made.isError, text(made)).toBeFalsy();
    expect(structured<{ parentId: string }>(made).parentId).toBe(p.id);
    const stop = await client.callTool({ name: "terminate_process", arguments: { id: p.id } });
    expect(stop.isError, text(stop)).toBeFalsy();
    expect((await recordOf(t, p.id)).status).toBe("terminated");
    await client.close();
    const rows = await call<{ items: Array<{ action: string; actor: string }> }>(
      "GET",
      `/v1/audit?actor=${p.id}`,
      { token: t.admin },
    );
    expect(rows.body.items.map((r) => r.action)).toEqual(["process.terminate", "process.spawn"]);
  });
});
