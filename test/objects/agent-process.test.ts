import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { newId } from "../../src/kernel/ids";
import { type ProcessSpawn, processStub } from "../../src/objects/agent-process";
import { openDb } from "../../src/store/db";
import { findIndexedProcess, upsertProcessIndex } from "../../src/store/process-index";

const testEnv = env as unknown as Env;

function init(overrides: Partial<ProcessSpawn> = {}): ProcessSpawn {
  return {
    id: newId("process"),
    tenantId: newId("tenant"),
    type: { name: "assistant", version: "1.0.0" },
    goal: "g",
    priority: 1,
    labels: { a: "b" },
    parentId: null,
    budget: { maxTokens: 10, maxToolCalls: 1, wallClockMs: 60_000, maxCostMicroUsd: 0 },
    capabilities: [],
    model: "scripted",
    pool: "scripted",
    systemPrompt: "",
    actor: "test",
    ...overrides,
  };
}

describe("AgentProcess object", () => {
  it("creates once: a second spawn with the same id returns the first record unchanged", async () => {
    // Spawned paused, so no lease and no alarm step can add events between the two spawns.
    const first = init({ paused: true });
    const stub = processStub(testEnv, first.id);
    const a = await stub.spawn(first);
    const afterFirst = (await stub.events(first.tenantId, 0, 10))?.events;
    expect(afterFirst?.map((e) => e.event)).toEqual(["spawn", "pause"]);
    const b = await stub.spawn({ ...first, goal: "something else", paused: false });
    if (!a.ok || !b.ok) throw new Error("spawn failed");
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.record).toEqual(a.record);
    expect((await stub.events(first.tenantId, 0, 10))?.events).toEqual(afterFirst);
  });

  it("refuses an id that another tenant's process already holds", async () => {
    const first = init();
    const stub = processStub(testEnv, first.id);
    await stub.spawn(first);
    expect(await stub.spawn({ ...first, tenantId: newId("tenant") })).toEqual({
      ok: false,
      code: "conflict",
    });
  });

  it("answers another tenant exactly as for a missing process", async () => {
    const first = init();
    const stub = processStub(testEnv, first.id);
    await stub.spawn(first);
    const other = newId("tenant");
    expect(await stub.get(other)).toBeNull();
    expect(await stub.events(other, 0, 10)).toBeNull();
    expect(await stub.signal(other, "terminate", null, "x")).toEqual({
      ok: false,
      code: "not_found",
    });
    expect((await stub.get(first.tenantId))?.status).not.toBe("terminated");
  });

  it("mirrors every version into the D1 index, which never goes backwards", async () => {
    const first = init();
    const stub = processStub(testEnv, first.id);
    const spawned = await stub.spawn(first);
    if (!spawned.ok) throw new Error("spawn failed");
    const v2 = spawned.record;
    const paused = await stub.signal(first.tenantId, "pause", "r", "test");
    if (!paused.ok) throw new Error("pause failed");
    const db = openDb(testEnv.DB);
    expect(await findIndexedProcess(db, first.tenantId, first.id)).toMatchObject({
      status: "paused",
      version: paused.record.version,
    });
    // A late, older write (e.g. a retried alarm) must not roll the index back.
    await upsertProcessIndex(db, v2);
    expect(await findIndexedProcess(db, first.tenantId, first.id)).toMatchObject({
      status: "paused",
    });
  });
});
