import { describe, expect, it } from "vitest";
import { call, newTenant, type ProcessBody, SLEEP_SCRIPT, spawn, spawnIdle } from "../helpers";

describe("process lifecycle over HTTPS", () => {
  it("spawns admitted (ready) with the type's defaults and a Location header", async () => {
    const t = await newTenant();
    const res = await spawn(t.operator, {
      labels: { team: "ops" },
      priority: 0,
      script: SLEEP_SCRIPT,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v1/processes/${res.body.id}`);
    expect(res.body.id).toMatch(/^proc_[0-9a-f]{32}$/);
    expect(res.body).toMatchObject({
      tenantId: t.id,
      status: "ready",
      type: { name: "assistant", version: "1.1.0" },
      labels: { team: "ops" },
      capabilities: [
        "proc.finish",
        "proc.sleep",
        "ws.read",
        "ws.write",
        "ws.share",
        "bb.read",
        "bb.write",
        "artifact.read",
        "artifact.write",
        "memory.read",
        "memory.write",
        "msg.send",
        "msg.recv",
        "topic.publish",
        "topic.subscribe",
      ],
      exitReason: null,
    });
    expect(res.body.budget).toMatchObject({ maxTokens: 200000, maxToolCalls: 100 });
    expect(Date.parse(res.body.budget.deadlineAt as string)).toBeGreaterThan(Date.now());
  });

  it("merges budget overrides with the type's default budget", async () => {
    const t = await newTenant();
    const res = await spawn(t.operator, { budget: { maxTokens: 500 } });
    expect(res.status).toBe(201);
    expect(res.body.budget).toMatchObject({
      maxTokens: 500,
      maxToolCalls: 100,
      maxCostMicroUsd: 5000000,
    });
  });

  it("pauses, resumes to the state it left, and terminates, logging every transition", async () => {
    const t = await newTenant();
    const p = await spawnIdle(t.operator);
    const paused = await call<ProcessBody>("POST", `/v1/processes/${p.id}/pause`, {
      token: t.operator,
      body: { reason: "maintenance" },
    });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ status: "paused", pausedFrom: "waiting" });

    const resumed = await call<ProcessBody>("POST", `/v1/processes/${p.id}/resume`, {
      token: t.operator,
    });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ status: "waiting", pausedFrom: null });

    const term = await call<ProcessBody>("POST", `/v1/processes/${p.id}/terminate`, {
      token: t.operator,
      body: { reason: "no longer needed" },
    });
    expect(term.status).toBe(200);
    expect(term.body).toMatchObject({ status: "terminated", exitReason: "no longer needed" });

    const events = await call<{ items: Array<Record<string, unknown>>; nextCursor: string | null }>(
      "GET",
      `/v1/processes/${p.id}/events`,
      { token: t.reader },
    );
    expect(events.status).toBe(200);
    expect(events.body.items.map((e) => [e.event, e.from, e.to])).toEqual([
      ["spawn", null, "created"],
      ["admit", "created", "ready"],
      ["dispatch", "ready", "running"],
      ["step", "running", "running"],
      ["syscall", "running", "running"],
      ["block", "running", "waiting"],
      ["pause", "waiting", "paused"],
      ["resume", "paused", "waiting"],
      ["terminate", "waiting", "terminated"],
    ]);
    expect(events.body.items[4]).toMatchObject({
      reason: "sleep: allow [default-permit-entitled]",
    });
    expect(events.body.items[6]).toMatchObject({ reason: "maintenance" });
    expect(events.body.items.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(events.body.nextCursor).toBeNull();
  });

  it("pages through the event log with a cursor", async () => {
    const t = await newTenant();
    const { body: p } = await spawn(t.operator, { paused: true });
    await call("POST", `/v1/processes/${p.id}/terminate`, { token: t.operator });
    const first = await call<{ items: Array<{ seq: number }>; nextCursor: string }>(
      "GET",
      `/v1/processes/${p.id}/events?limit=2`,
      { token: t.reader },
    );
    expect(first.body.items.map((e) => e.seq)).toEqual([1, 2]);
    const second = await call<{
      items: Array<{ seq: number; event: string }>;
      nextCursor: string | null;
    }>("GET", `/v1/processes/${p.id}/events?limit=2&cursor=${first.body.nextCursor}`, {
      token: t.reader,
    });
    // spawn, pause (spawned paused), terminate.
    expect(second.body.items.map((e) => [e.seq, e.event])).toEqual([[3, "terminate"]]);
    expect(second.body.nextCursor).toBeNull();
  });

  it("answers 409 with the current state for an illegal transition and changes nothing", async () => {
    const t = await newTenant();
    const p = await spawnIdle(t.operator);
    const resume = await call("POST", `/v1/processes/${p.id}/resume`, { token: t.operator });
    expect(resume.status).toBe(409);
    expect(resume.headers.get("content-type")).toContain("application/problem+json");
    expect(resume.body).toMatchObject({
      code: "illegal_transition",
      state: "waiting",
      status: 409,
    });

    await call("POST", `/v1/processes/${p.id}/pause`, { token: t.operator });
    const pauseAgain = await call("POST", `/v1/processes/${p.id}/pause`, { token: t.operator });
    expect(pauseAgain.status).toBe(409);
    expect(pauseAgain.body).toMatchObject({ state: "paused" });

    await call("POST", `/v1/processes/${p.id}/terminate`, { token: t.operator });
    const pauseEnded = await call("POST", `/v1/processes/${p.id}/pause`, { token: t.operator });
    expect(pauseEnded.status).toBe(409);
    expect(pauseEnded.body).toMatchObject({ state: "terminated" });

    const events = await call<{ items: Array<{ event: string }> }>(
      "GET",
      `/v1/processes/${p.id}/events`,
      { token: t.reader },
    );
    // The refused calls left no trace: the log ends pause, terminate, and has no resume.
    expect(events.body.items.slice(-2).map((e) => e.event)).toEqual(["pause", "terminate"]);
    expect(events.body.items.filter((e) => e.event === "resume")).toEqual([]);
  });

  it("terminates idempotently: a second terminate returns the same record and logs nothing", async () => {
    const t = await newTenant();
    const { body: p } = await spawn(t.operator, { paused: true });
    const first = await call<ProcessBody>("POST", `/v1/processes/${p.id}/terminate`, {
      token: t.operator,
      body: { reason: "first" },
    });
    const second = await call<ProcessBody>("POST", `/v1/processes/${p.id}/terminate`, {
      token: t.operator,
      body: { reason: "second" },
    });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(second.body.exitReason).toBe("first");
    const events = await call<{ items: unknown[] }>("GET", `/v1/processes/${p.id}/events`, {
      token: t.reader,
    });
    expect(events.body.items).toHaveLength(3);
  });

  it("terminates a paused process", async () => {
    const t = await newTenant();
    const p = await spawnIdle(t.operator);
    await call("POST", `/v1/processes/${p.id}/pause`, { token: t.operator });
    const term = await call<ProcessBody>("POST", `/v1/processes/${p.id}/terminate`, {
      token: t.operator,
    });
    expect(term.body).toMatchObject({ status: "terminated", pausedFrom: null });
  });

  it("records a parent id only when the parent exists in the tenant", async () => {
    const t = await newTenant();
    const { body: parent } = await spawn(t.operator);
    const child = await spawn(t.operator, { parentId: parent.id });
    expect(child.status).toBe(201);
    expect(child.body).toMatchObject({ parentId: parent.id });
  });
});

describe("listing processes", () => {
  it("pages newest first with a cursor and never repeats or skips a process", async () => {
    const t = await newTenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await spawn(t.operator, { goal: `goal ${i}` })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor ? `&cursor=${cursor}` : "";
      const page = await call<{ items: Array<{ id: string }>; nextCursor: string | null }>(
        "GET",
        `/v1/processes?limit=2${qs}`,
        { token: t.reader },
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((p) => p.id));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it("filters by status, type and labels", async () => {
    const t = await newTenant();
    const a = await spawnIdle(t.operator, { labels: { team: "red", tier: "gold" } });
    const b = await spawnIdle(t.operator, { type: "coordinator", labels: { team: "blue" } });
    const c = await spawnIdle(t.operator, { labels: { team: "red" } });
    await call("POST", `/v1/processes/${c.id}/pause`, { token: t.operator });

    const list = async (qs: string) =>
      (
        await call<{ items: Array<{ id: string }> }>("GET", `/v1/processes?${qs}`, {
          token: t.reader,
        })
      ).body.items.map((p) => p.id);
    expect(await list("status=paused")).toEqual([c.id]);
    expect(await list("status=waiting")).toEqual([b.id, a.id]);
    expect(await list("type=coordinator")).toEqual([b.id]);
    expect(await list("label=team%3Dred")).toEqual([c.id, a.id]);
    expect(await list("label=team%3Dred&label=tier%3Dgold")).toEqual([a.id]);
    expect(await list("label=team%3Dgreen")).toEqual([]);
  });

  it("shows labels and type in each summary", async () => {
    const t = await newTenant();
    const a = (await spawn(t.operator, { labels: { env: "dev" }, paused: true })).body;
    const page = await call<{ items: Array<Record<string, unknown>> }>("GET", "/v1/processes", {
      token: t.reader,
    });
    expect(page.body.items[0]).toMatchObject({
      id: a.id,
      labels: { env: "dev" },
      type: { name: "assistant", version: "1.1.0" },
      status: "paused",
    });
  });
});

describe("idempotent spawn", () => {
  it("returns the same process for a replayed Idempotency-Key and creates no second one", async () => {
    const t = await newTenant();
    const headers = { "idempotency-key": "spawn-42" };
    const first = await spawn(t.operator, { goal: "once", paused: true }, headers);
    const replay = await spawn(t.operator, { goal: "once", paused: true }, headers);
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const list = await call<{ items: unknown[] }>("GET", "/v1/processes", { token: t.reader });
    expect(list.body.items).toHaveLength(1);
    const events = await call<{ items: unknown[] }>(
      "GET",
      `/v1/processes/${first.body.id}/events`,
      {
        token: t.reader,
      },
    );
    expect(events.body.items).toHaveLength(2);
  });

  it("handles concurrent replays: both get the one process", async () => {
    const t = await newTenant();
    const headers = { "idempotency-key": "race" };
    const [a, b] = await Promise.all([
      spawn(t.operator, {}, headers),
      spawn(t.operator, {}, headers),
    ]);
    expect(a.body.id).toBe(b.body.id);
    const list = await call<{ items: unknown[] }>("GET", "/v1/processes", { token: t.reader });
    expect(list.body.items).toHaveLength(1);
  });

  it("refuses the same key with a different body", async () => {
    const t = await newTenant();
    const headers = { "idempotency-key": "k1" };
    await spawn(t.operator, { goal: "one" }, headers);
    const other = await spawn(t.operator, { goal: "two" }, headers);
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ code: "idempotency_key_reused" });
  });

  it("scopes keys per tenant: the same key in two tenants makes two processes", async () => {
    const t1 = await newTenant();
    const t2 = await newTenant();
    const headers = { "idempotency-key": "shared" };
    const a = await spawn(t1.operator, {}, headers);
    const b = await spawn(t2.operator, {}, headers);
    expect(a.body.id).not.toBe(b.body.id);
    expect(b.body.tenantId).toBe(t2.id);
  });

  it("rejects a malformed Idempotency-Key naming the header", async () => {
    const t = await newTenant();
    const res = await spawn(t.operator, {}, { "idempotency-key": "x".repeat(256) });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ errors: [{ path: "Idempotency-Key" }] });
  });
});
