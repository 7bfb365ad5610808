import { describe, expect, it } from "vitest";
import { call, newTenant, spawn } from "../helpers";

const budget = { maxTokens: 1000, maxToolCalls: 10, wallClockMs: 60_000, maxCostMicroUsd: 1000 };

function typeBody(name: string, version: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    version,
    model: "scripted",
    defaultBudget: budget,
    capabilities: ["proc.finish"],
    ...extra,
  };
}

describe("agent type registry", () => {
  it("lists the built-in types seeded by migration, every version", async () => {
    const t = await newTenant();
    const res = await call<{ items: Array<{ name: string; version: string; builtin: boolean }> }>(
      "GET",
      "/v1/agent-types",
      { token: t.reader },
    );
    expect(res.status).toBe(200);
    const builtins = res.body.items.filter((i) => i.builtin).map((i) => `${i.name}@${i.version}`);
    expect(builtins.sort()).toEqual([
      "assistant@1.0.0",
      "assistant@1.1.0",
      "coordinator@1.0.0",
      "coordinator@1.1.0",
      "sched-agent@1.0.0",
    ]);
  });

  it("spawns the newest active version unless one is pinned", async () => {
    const t = await newTenant();
    const name = `writer-${crypto.randomUUID().slice(0, 6)}`;
    for (const [version, status] of [
      ["1.2.0", "active"],
      ["1.10.0", "active"],
      ["2.0.0", "deprecated"],
      ["2.1.0-beta.1", "deprecated"],
    ]) {
      const res = await call("POST", "/v1/agent-types", {
        token: t.operator,
        body: typeBody(name, version!, { status }),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const newest = await spawn(t.operator, { type: name });
    expect(newest.body.type).toEqual({ name, version: "1.10.0" });
    const pinned = await spawn(t.operator, { type: name, version: "1.2.0" });
    expect(pinned.body.type).toEqual({ name, version: "1.2.0" });
    expect(pinned.body.budget).toMatchObject({ maxTokens: 1000 });
  });

  it("treats versions as immutable: the same version twice is 409", async () => {
    const t = await newTenant();
    const name = `imm-${crypto.randomUUID().slice(0, 6)}`;
    expect(
      (await call("POST", "/v1/agent-types", { token: t.operator, body: typeBody(name, "1.0.0") }))
        .status,
    ).toBe(201);
    const again = await call("POST", "/v1/agent-types", {
      token: t.operator,
      body: typeBody(name, "1.0.0"),
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("conflict");
  });

  it("keeps a tenant's types to itself and does not let a tenant shadow a built-in", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const name = `priv-${crypto.randomUUID().slice(0, 6)}`;
    await call("POST", "/v1/agent-types", { token: a.operator, body: typeBody(name, "1.0.0") });
    const seenByB = await call<{ items: Array<{ name: string }> }>("GET", "/v1/agent-types", {
      token: b.reader,
    });
    expect(seenByB.body.items.map((i) => i.name)).not.toContain(name);
    expect((await spawn(b.operator, { type: name })).status).toBe(422);
    const shadow = await call("POST", "/v1/agent-types", {
      token: a.operator,
      body: typeBody("assistant", "9.0.0"),
    });
    expect(shadow.status).toBe(409);
    const taken = await call("POST", "/v1/agent-types", {
      token: b.operator,
      body: typeBody(name, "2.0.0"),
    });
    expect(taken.status).toBe(409);
  });

  it.each([
    ["name", { name: "Bad_Name" }],
    ["version", { version: "v1" }],
    ["model", { model: "" }],
    ["defaultBudget.maxTokens", { defaultBudget: { ...budget, maxTokens: -5 } }],
    [
      "defaultBudget.wallClockMs",
      { defaultBudget: { maxTokens: 1, maxToolCalls: 1, maxCostMicroUsd: 1 } },
    ],
    ["capabilities[1]", { capabilities: ["ok", "NOT OK"] }],
    ["status", { status: "retired" }],
  ])("rejects an invalid %s with 422", async (path, patch) => {
    const t = await newTenant();
    const res = await call<{ errors: Array<{ path: string }> }>("POST", "/v1/agent-types", {
      token: t.operator,
      body: { ...typeBody("valid-name", "1.0.0"), ...patch },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e) => e.path)).toContain(path);
  });

  it("requires a writer role to register", async () => {
    const t = await newTenant();
    const res = await call("POST", "/v1/agent-types", {
      token: t.reader,
      body: typeBody("x-type", "1.0.0"),
    });
    expect(res.status).toBe(403);
  });
});
