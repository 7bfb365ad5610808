import { describe, expect, it } from "vitest";
import {
  call,
  defineType,
  ended,
  eventsOf,
  type FullProcess,
  finishTurn,
  newPool,
  newTenant,
  poolStats,
  spawn,
  until,
} from "../helpers";

type Full = FullProcess;

describe("the agent loop", () => {
  it("runs a scripted agent to exited with its result, usage and scheduling stats", async () => {
    const t = await newTenant();
    const res = await spawn(t.operator, {
      script: [
        { text: "Looking at the incidents." },
        finishTurn({ summary: "3 incidents, all resolved" }),
      ],
    });
    expect(res.status).toBe(201);
    const p = (await until(t.reader, res.body.id, ended)) as Full;
    expect(p.status).toBe("exited");
    expect(p.result).toEqual({ summary: "3 incidents, all resolved" });
    expect(p.exitReason).toBe("finished");
    expect(p.stats.steps).toBe(2);
    expect(p.stats.modelCalls).toBe(2);
    expect(p.usage.tokensIn).toBeGreaterThan(0);
    expect(p.usage.tokensOut).toBeGreaterThan(0);
    const log = await eventsOf(t.reader, p.id);
    expect(log.filter((e) => e.event === "step").map((e) => e.reason?.split(":")[0])).toEqual([
      "step 1",
      "step 2",
    ]);
    expect(log.at(-1)).toMatchObject({ event: "exit", to: "exited" });
  });

  it("honours explicit usage from the script and prices it by the pool", async () => {
    const t = await newTenant();
    const pool = await newPool({
      pricing: { inputMicroUsdPerMTok: 1_000_000, outputMicroUsdPerMTok: 2_000_000 },
    });
    const type = await defineType(t, { pool });
    const res = await spawn(t.operator, {
      type,
      script: [{ ...finishTurn("ok"), usage: { inputTokens: 1000, outputTokens: 500 } }],
    });
    const p = (await until(t.reader, res.body.id, ended)) as Full;
    expect(p.usage).toMatchObject({ tokensIn: 1000, tokensOut: 500, costMicroUsd: 2000 });
  });

  it("stops a process whose token budget is spent, overshooting by at most one step", async () => {
    const t = await newTenant();
    const turn = { text: "working", usage: { inputTokens: 300, outputTokens: 100 } };
    const res = await spawn(t.operator, {
      budget: { maxTokens: 1000 },
      script: [turn, turn, turn, turn, turn, finishTurn("never")],
    });
    const p = (await until(t.reader, res.body.id, ended)) as Full;
    expect(p.status).toBe("budget_exhausted");
    expect(p.exitReason).toContain("token budget of 1000");
    const used = p.usage.tokensIn + p.usage.tokensOut;
    expect(used).toBeGreaterThanOrEqual(1000);
    expect(used).toBeLessThanOrEqual(1000 + 400);
    expect(p.stats.steps).toBe(3);
  });

  it("denies a tool the process has no capability for, and the agent carries on", async () => {
    const t = await newTenant();
    const res = await spawn(t.operator, {
      script: [
        { toolCalls: [{ name: "spawn", arguments: { type: "assistant", goal: "x" } }] },
        finishTurn("done anyway"),
      ],
    });
    const p = (await until(t.reader, res.body.id, ended)) as Full;
    expect(p.status).toBe("exited");
    const log = await eventsOf(t.reader, p.id);
    expect(log.find((e) => e.event === "syscall")?.reason).toMatch(
      /^spawn: deny \(proc\.spawn is not among this process's capabilities\)$/,
    );
    const children = await call<{ items: unknown[] }>("GET", "/v1/processes", { token: t.reader });
    expect(children.body.items).toHaveLength(1);
  });

  it("spawns a child, waits for it, and gets its result", async () => {
    const t = await newTenant();
    const parent = await spawn(t.operator, {
      type: "coordinator",
      script: [
        {
          toolCalls: [
            {
              name: "spawn",
              arguments: { type: "assistant", goal: "sub-task", script: [finishTurn(42)] },
            },
          ],
        },
        // A script cannot know the child's id, so it waits for whichever child ends next.
        { toolCalls: [{ name: "wait", arguments: {} }] },
        { toolCalls: [{ name: "wait", arguments: {} }] },
        finishTurn("combined"),
      ],
    });
    const p = (await until(t.reader, parent.body.id, ended)) as Full;
    expect(p.status).toBe("exited");
    const log = await eventsOf(t.reader, p.id);
    // The first wait returned the child's result; the second found no children left.
    expect(log.filter((e) => e.event === "syscall").map((e) => e.reason)).toEqual([
      "spawn: allow [default-permit-entitled]",
      "wait: allow [default-permit-entitled]",
      "wait: allow [default-permit-entitled]",
      "finish: allow [default-permit-entitled]",
    ]);
    const list = await call<{ items: Array<{ id: string; parentId: string | null }> }>(
      "GET",
      "/v1/processes",
      {
        token: t.reader,
      },
    );
    const child = list.body.items.find((i) => i.parentId === p.id);
    expect(child).toBeDefined();
    const c = (await until(t.reader, child!.id, ended)) as Full;
    expect(c).toMatchObject({ status: "exited", result: 42 });
  });

  it("fails a scripted process whose script runs out, saying why", async () => {
    const t = await newTenant();
    const res = await spawn(t.operator, { script: [{ text: "only one turn" }] });
    const p = (await until(t.reader, res.body.id, ended)) as Full;
    expect(p.status).toBe("failed");
    expect(p.exitReason).toMatch(/no turn/i);
  });
});

describe("admission control", () => {
  it("queues a spawn past the tenant's cap with the reason in its status, and admits it when a slot frees", async () => {
    const pool = await newPool({ admission: { maxLivePerTenant: 1 } });
    const t = await newTenant();
    const type = await defineType(t, {
      pool,
      script: [{ toolCalls: [{ name: "sleep", arguments: { ms: 3_600_000 } }] }],
    });
    const first = await spawn(t.operator, { type });
    const second = await spawn(t.operator, { type });
    expect(second.body.status).toBe("created");
    expect((second.body as Full).note).toMatch(
      /waiting for admission: the tenant has 1 live processes/,
    );
    // Another tenant is not held back by this one's cap.
    const other = await newTenant();
    const otherType = await defineType(other, { pool, script: [finishTurn("ok")] });
    expect((await spawn(other.operator, { type: otherType })).body.status).toBe("ready");

    await call("POST", `/v1/processes/${first.body.id}/terminate`, { token: t.operator });
    const admitted = await until(t.reader, second.body.id, (p) => p.status === "waiting");
    expect((admitted as Full).note).toBeNull();
  });

  it("refuses a spawn when the admission queue is full, failing it with the reason", async () => {
    const pool = await newPool({ admission: { maxLivePerTenant: 1, maxAdmissionQueue: 0 } });
    const t = await newTenant();
    const type = await defineType(t, {
      pool,
      script: [{ toolCalls: [{ name: "sleep", arguments: { ms: 3_600_000 } }] }],
    });
    await spawn(t.operator, { type });
    const refused = await spawn(t.operator, { type });
    expect(refused.body.status).toBe("failed");
    expect(refused.body.exitReason).toMatch(/admission refused/);
  });
});

describe("scheduler pools", () => {
  it("shows policy, capacity, queue and totals, and changes them at run time", async () => {
    const pool = await newPool({
      policy: { name: "fcfs" },
      capacity: { maxConcurrent: 2, requestsPerMin: 60, tokensPerMin: 100000 },
    });
    let stats = await poolStats(pool);
    expect(stats).toMatchObject({
      pool,
      policy: { name: "fcfs" },
      capacity: { maxConcurrent: 2 },
      queueLength: 0,
      inFlight: 0,
    });
    const res = await call("PUT", `/v1/scheduler/pools/${pool}`, {
      token: "test-admin-token",
      body: { policy: { name: "vtc", options: {} } },
    });
    expect(res.status).toBe(200);
    stats = await poolStats(pool);
    expect(stats.policy).toMatchObject({ name: "vtc" });
  });

  it("rejects an unknown policy, bad capacity and tenant callers", async () => {
    const pool = await newPool({});
    const bad = await call<{ errors: Array<{ path: string }> }>(
      "PUT",
      `/v1/scheduler/pools/${pool}`,
      {
        token: "test-admin-token",
        body: { policy: { name: "lottery" } },
      },
    );
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0]?.path).toContain("policy");
    const cap = await call<{ errors: Array<{ path: string }> }>(
      "PUT",
      `/v1/scheduler/pools/${pool}`,
      {
        token: "test-admin-token",
        body: { capacity: { maxConcurrent: 0, requestsPerMin: 1, tokensPerMin: 1 } },
      },
    );
    expect(cap.status).toBe(422);
    expect(cap.body.errors[0]?.path).toBe("capacity.maxConcurrent");
    const t = await newTenant();
    const denied = await call("PUT", `/v1/scheduler/pools/${pool}`, { token: t.admin, body: {} });
    expect(denied.status).toBe(403);
  });
});
