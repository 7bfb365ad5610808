import { abortAllDurableObjects } from "cloudflare:test";
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
  type ProcessBody,
  poolStats,
  spawn,
  until,
} from "../helpers";
import { loadScenario, newScenario, receivedRequests } from "../standin/openai-client";

type Full = FullProcess;

/** Four-step scripts for the interleaving runs: each call takes a little while. */
const STEPS = [
  { text: "1", delayMs: 40 },
  { text: "2", delayMs: 40 },
  { text: "3", delayMs: 40 },
  { ...finishTurn("done"), delayMs: 40 },
];

/** Where tenant `tenantId`'s grants fall in the pool's grant order (0-based). */
function positions(grants: Array<{ tenantId: string }>, tenantId: string): number[] {
  return grants.flatMap((g, i) => (g.tenantId === tenantId ? [i] : []));
}

async function runTwoTenants(policy: Record<string, unknown>) {
  const pool = await newPool({
    policy,
    capacity: { maxConcurrent: 1, requestsPerMin: 100_000, tokensPerMin: 100_000_000 },
  });
  const busy = await newTenant("busy");
  const quiet = await newTenant("quiet");
  const busyType = await defineType(busy, { pool, script: STEPS });
  const quietType = await defineType(quiet, { pool, script: STEPS });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await spawn(busy.operator, { type: busyType })).body.id);
  const quietId = (await spawn(quiet.operator, { type: quietType })).body.id;
  for (const id of ids) await until(busy.reader, id, ended);
  await until(quiet.reader, quietId, ended);
  const stats = await poolStats(pool);
  return { grants: stats.recentGrants, busy: busy.id, quiet: quiet.id };
}

describe("scheduling between tenants", () => {
  it("interleaves two tenants' processes as the pool's policy says: VTC shares, FCFS queues", async () => {
    const vtc = await runTwoTenants({ name: "vtc" });
    expect(vtc.grants).toHaveLength(16);
    const v = positions(vtc.grants, vtc.quiet);
    expect(v).toHaveLength(4);
    // Fair share: while both tenants are backlogged they alternate, so the quiet tenant's four
    // steps are served within its first eight grants after arriving.
    expect(v[3]! - v[0]!).toBeLessThanOrEqual(7);

    const fcfs = await runTwoTenants({ name: "fcfs" });
    const f = positions(fcfs.grants, fcfs.quiet);
    expect(f).toHaveLength(4);
    // First come, first served: the quiet tenant's one process waits behind the busy tenant's
    // three at every step, so its steps are spread over the busy tenant's.
    expect(f[3]! - f[0]!).toBeGreaterThan(v[3]! - v[0]!);
  });
});

describe("step boundaries", () => {
  it("pauses a running process at the end of its current step, and resumes it", async () => {
    const t = await newTenant();
    const res = await spawn(t.operator, {
      script: [{ text: "long thought", delayMs: 400 }, { text: "next" }, finishTurn("ok")],
    });
    await until(t.reader, res.body.id, (p) => p.status === "running");
    const pause = await call<Full>("POST", `/v1/processes/${res.body.id}/pause`, {
      token: t.operator,
    });
    expect(pause.status).toBe(200);
    expect(pause.body.status).toBe("running");
    expect(pause.body.pendingPause).toBeTruthy();
    const paused = (await until(t.reader, res.body.id, (p) => p.status === "paused")) as Full;
    expect(paused.stats.steps).toBe(1);
    expect(paused.pausedFrom).toBe("ready");
    await call("POST", `/v1/processes/${res.body.id}/resume`, { token: t.operator });
    const done = (await until(t.reader, res.body.id, ended)) as Full;
    expect(done).toMatchObject({ status: "exited", result: "ok" });
    expect(done.stats.steps).toBe(3);
  });

  it("terminates a running process at once, aborting its model call", async () => {
    const t = await newTenant();
    const res = await spawn(t.operator, {
      script: [{ text: "very long", delayMs: 30_000 }, finishTurn("never")],
    });
    await until(t.reader, res.body.id, (p) => p.status === "running");
    const term = await call<Full>("POST", `/v1/processes/${res.body.id}/terminate`, {
      token: t.operator,
    });
    expect(term.body.status).toBe("terminated");
    const after = (await until(t.reader, res.body.id, ended)) as Full;
    expect(after.stats.steps).toBe(0);
  });

  it("resumes an object aborted mid-step without repeating a completed step", async () => {
    const pool = await newPool({ leaseTtlMs: 1_000 });
    const t = await newTenant();
    const type = await defineType(t, {
      pool,
      script: [
        { text: "first step" },
        { text: "second step", delayMs: 1_500 },
        finishTurn("survived"),
      ],
    });
    const res = await spawn(t.operator, { type });
    await until(
      t.reader,
      res.body.id,
      (p) => p.status === "running" && (p as Full).stats.steps === 1,
    );
    await abortAllDurableObjects();
    const done = (await until(t.reader, res.body.id, ended, 600)) as Full;
    expect(done).toMatchObject({ status: "exited", result: "survived" });
    expect(done.stats.steps).toBe(3);
    const log = await eventsOf(t.reader, res.body.id);
    const steps = log.filter((e) => e.event === "step").map((e) => e.reason?.split(":")[0]);
    expect(steps).toEqual(["step 1", "step 2", "step 3"]);
    expect(
      log.some((e) => e.event === "yield" && /step 2 was interrupted/.test(e.reason ?? "")),
    ).toBe(true);
  });
});

describe("capacity", () => {
  it("reclaims an expired lease so a stuck call cannot hold the pool's capacity", async () => {
    const pool = await newPool({
      leaseTtlMs: 1_000,
      capacity: { maxConcurrent: 1, requestsPerMin: 1000, tokensPerMin: 10_000_000 },
    });
    const t = await newTenant();
    const slow = await defineType(t, {
      pool,
      script: [{ text: "stuck", delayMs: 20_000 }, finishTurn("late")],
    });
    const quick = await defineType(t, { pool, script: [finishTurn("quick")] });
    const a = await spawn(t.operator, { type: slow });
    await until(t.reader, a.body.id, (p) => p.status === "running");
    const b = await spawn(t.operator, { type: quick });
    const bDone = await until(t.reader, b.body.id, ended, 400);
    expect(bDone.status).toBe("exited");
    // The slow call is still in flight: the pool freed its slot by reclaiming the lease.
    expect(
      (await call<ProcessBody>("GET", `/v1/processes/${a.body.id}`, { token: t.reader })).body
        .status,
    ).toBe("running");
    expect((await poolStats(pool)).totals.reclaimed).toBeGreaterThanOrEqual(1);
    await call("POST", `/v1/processes/${a.body.id}/terminate`, { token: t.operator });
  });

  it("backs off the whole pool on a provider's 429 with Retry-After, then carries on", async () => {
    const scenario = newScenario("loop-429");
    await loadScenario(scenario, [
      { type: "error", status: 429, headers: { "retry-after": "2" } },
      {
        type: "tool-calls",
        toolCalls: [{ name: "finish", arguments: { result: "after backoff" } }],
      },
    ]);
    const t = await newTenant();
    const type = await defineType(t, { model: `openai:${scenario}` });
    const a = await spawn(t.operator, { type });
    const retrying = (await until(
      t.reader,
      a.body.id,
      (p) => (p as Full).stats.retries === 1,
    )) as Full;
    expect(retrying.note).toMatch(/retrying after HTTP 429 in 2000 ms/);
    const pool = `openai:${scenario}`;
    const stats = await poolStats(pool);
    expect(stats.totals.rateLimited).toBe(1);
    expect(stats.backoffUntil).not.toBeNull();

    // Another process of the pool is held back by the same backoff, and says so.
    const other = newScenario("loop-429-b");
    const otherType = await defineType(t, { model: `openai:${other}`, pool });
    await loadScenario(other, [
      { type: "tool-calls", toolCalls: [{ name: "finish", arguments: { result: "b" } }] },
    ]);
    const b = await spawn(t.operator, { type: otherType });
    const held = (await until(t.reader, b.body.id, (p) =>
      /backing off after a 429/.test((p as Full).note ?? ""),
    )) as Full;
    expect(held.status).toBe("ready");

    expect(await until(t.reader, a.body.id, ended, 400)).toMatchObject({
      status: "exited",
      result: "after backoff",
    });
    expect(await until(t.reader, b.body.id, ended, 400)).toMatchObject({ status: "exited" });
    expect(await receivedRequests(scenario, 2)).toHaveLength(2);
  });

  it("retries transient 5xx with backoff and fails after the bounded number of attempts", async () => {
    const good = newScenario("loop-503");
    await loadScenario(good, [
      { type: "error", status: 503 },
      { type: "error", status: 502 },
      { type: "tool-calls", toolCalls: [{ name: "finish", arguments: { result: "third time" } }] },
    ]);
    const bad = newScenario("loop-503-bad");
    await loadScenario(bad, [], { type: "error", status: 503 });
    await call("PUT", `/v1/scheduler/pools/${encodeURIComponent(`openai:${good}`)}`, {
      token: "test-admin-token",
      body: { retry: { baseMs: 10, capMs: 50, maxAttempts: 3 } },
    });
    await call("PUT", `/v1/scheduler/pools/${encodeURIComponent(`openai:${bad}`)}`, {
      token: "test-admin-token",
      body: { retry: { baseMs: 10, capMs: 50, maxAttempts: 3 } },
    });
    const t = await newTenant();
    const ok = await spawn(t.operator, { type: await defineType(t, { model: `openai:${good}` }) });
    const ko = await spawn(t.operator, { type: await defineType(t, { model: `openai:${bad}` }) });
    expect(await until(t.reader, ok.body.id, ended, 400)).toMatchObject({
      status: "exited",
      result: "third time",
    });
    const failed = (await until(t.reader, ko.body.id, ended, 400)) as Full;
    expect(failed.status).toBe("failed");
    expect(failed.exitReason).toMatch(/after 3 attempts: HTTP 503/);
    expect(await receivedRequests(bad, 3)).toHaveLength(3);
  });

  it("fails a spawn whose agent type names a provider without credentials, never falling back", async () => {
    const t = await newTenant();
    const type = await defineType(t, { model: "anthropic:claude-sonnet-4-5" });
    const res = await spawn(t.operator, { type });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: "validation_failed" });
    expect(JSON.stringify(res.body)).toMatch(/ANTHROPIC_API_KEY/);
  });
});
