import { describe, expect, it } from "vitest";
import { BOARD_LIMITS } from "../../src/kernel/agent/tools/board";
import {
  call,
  defineType,
  ended,
  finishTurn,
  newTenant,
  spawn,
  spawnIdle,
  type TestTenant,
  until,
} from "../helpers";
import { connect, structured } from "../mcp/client";

type Entry = {
  key: string;
  version: number;
  value: unknown;
  sizeBytes: number;
  updatedBy: string;
  updatedAt: string;
};
type Problem = {
  code: string;
  currentVersion?: number;
  currentValue?: unknown;
  expectedVersion?: number;
  errors?: Array<{ path: string; code: string }>;
};

function put(t: TestTenant | string, key: string, body: unknown, headers = {}) {
  const token = typeof t === "string" ? t : t.operator;
  return call<Entry & Problem>("PUT", `/v1/blackboard/${key}`, { token, body, headers });
}

function get(t: TestTenant, key: string) {
  return call<Entry & Problem>("GET", `/v1/blackboard/${key}`, { token: t.reader });
}

describe("blackboard compare-and-set", () => {
  it("lets exactly one of two racing creators (ifVersion 0) win; the loser sees the winner's version and value", async () => {
    const t = await newTenant("bb");
    const [a, b] = await Promise.all([
      put(t, "race:create", { value: { by: "a" }, ifVersion: 0 }),
      put(t, "race:create", { value: { by: "b" }, ifVersion: 0 }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([201, 409]);
    const winner = a.status === 201 ? a : b;
    const loser = a.status === 201 ? b : a;
    expect(winner.body.version).toBe(1);
    expect(loser.body).toMatchObject({
      code: "version_conflict",
      currentVersion: 1,
      currentValue: winner.body.value,
      expectedVersion: 0,
    });
  });

  it("lets exactly one of two racing updaters with the same ifVersion win", async () => {
    const t = await newTenant("bb");
    expect((await put(t, "race:update", { value: 0 })).status).toBe(201);
    for (let round = 1; round <= 3; round++) {
      const [a, b] = await Promise.all([
        put(t, "race:update", { value: `a${round}`, ifVersion: round }),
        put(t, "race:update", { value: `b${round}`, ifVersion: round }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const winner = a.status === 200 ? a : b;
      const loser = a.status === 200 ? b : a;
      expect(winner.body.version).toBe(round + 1);
      expect(loser.body.currentVersion).toBe(round + 1);
      expect(loser.body.currentValue).toBe(winner.body.value);
    }
    const now = await get(t, "race:update");
    expect(now.body.version).toBe(4);
  });

  it("refuses a stale write, and a create of an existing key, with 409 and the current state", async () => {
    const t = await newTenant("bb");
    await put(t, "plan", { value: { step: 1 } });
    await put(t, "plan", { value: { step: 2 } });
    const stale = await put(t, "plan", { value: { step: 3 }, ifVersion: 1 });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ currentVersion: 2, currentValue: { step: 2 } });
    const exists = await put(t, "plan", { value: {}, ifVersion: 0 });
    expect(exists.status).toBe(409);
    const missing = await put(t, "nothing-here", { value: 1, ifVersion: 3 });
    expect(missing.status).toBe(409);
    expect(missing.body).toMatchObject({ currentVersion: 0, currentValue: null });
    expect((await get(t, "plan")).body.value).toEqual({ step: 2 });
  });

  it("accepts If-Match and If-None-Match: * as the version a write expects, and sends the ETag", async () => {
    const t = await newTenant("bb");
    const created = await put(t, "hdr", { value: "x" }, { "if-none-match": "*" });
    expect(created.status).toBe(201);
    expect(created.headers.get("etag")).toBe('"1"');
    const again = await put(t, "hdr", { value: "y" }, { "if-none-match": "*" });
    expect(again.status).toBe(409);
    const ok = await put(t, "hdr", { value: "y" }, { "if-match": '"1"' });
    expect(ok.status).toBe(200);
    expect(ok.body.version).toBe(2);
    const stale = await put(t, "hdr", { value: "z" }, { "if-match": '"1"' });
    expect(stale.status).toBe(409);
    const disagree = await put(t, "hdr", { value: "z", ifVersion: 2 }, { "if-match": '"1"' });
    expect(disagree.status).toBe(422);
    const junk = await put(t, "hdr", { value: "z" }, { "if-match": "nope" });
    expect(junk.status).toBe(422);
    expect(junk.body.errors?.[0]?.path).toBe("If-Match");
  });

  it("deletes with a compare-and-set too; versions continue after a delete so a stale CAS never matches a re-created key", async () => {
    const t = await newTenant("bb");
    await put(t, "k", { value: 1 });
    await put(t, "k", { value: 2 });
    const staleDelete = await call<Problem>("DELETE", "/v1/blackboard/k?ifVersion=1", {
      token: t.operator,
    });
    expect(staleDelete.status).toBe(409);
    expect(staleDelete.body.currentVersion).toBe(2);
    const deleted = await call<{ deleted: boolean; version: number }>(
      "DELETE",
      "/v1/blackboard/k",
      { token: t.operator, headers: { "if-match": '"2"' } },
    );
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ deleted: true, version: 3 });
    expect((await get(t, "k")).status).toBe(404);
    expect((await call("DELETE", "/v1/blackboard/k", { token: t.operator })).status).toBe(404);
    // Re-created: the version sequence continues, and a CAS on the old version 1 or 2 fails.
    const recreated = await put(t, "k", { value: "new" }, { "if-none-match": "*" });
    expect(recreated.status).toBe(201);
    expect(recreated.body.version).toBe(4);
    expect((await put(t, "k", { value: "stale", ifVersion: 2 })).status).toBe(409);
  });
});

describe("blackboard history and listing", () => {
  it("lists a key's versions newest first, deletes included, paginated", async () => {
    const t = await newTenant("bb");
    await put(t, "h", { value: "v1" });
    await put(t, "h", { value: "v2" });
    await call("DELETE", "/v1/blackboard/h", { token: t.operator });
    await put(t, "h", { value: "v4" });
    type VPage = {
      items: Array<{ version: number; op: string; value: unknown; writtenBy: string }>;
      nextCursor: string | null;
    };
    const all = await call<VPage>("GET", "/v1/blackboard/h/versions", { token: t.reader });
    expect(all.status).toBe(200);
    expect(all.body.items.map((v) => [v.version, v.op, v.value])).toEqual([
      [4, "put", "v4"],
      [3, "delete", null],
      [2, "put", "v2"],
      [1, "put", "v1"],
    ]);
    const first = await call<VPage>("GET", "/v1/blackboard/h/versions?limit=3", {
      token: t.reader,
    });
    expect(first.body.items.map((v) => v.version)).toEqual([4, 3, 2]);
    expect(first.body.nextCursor).not.toBeNull();
    const second = await call<VPage>(
      "GET",
      `/v1/blackboard/h/versions?limit=3&cursor=${first.body.nextCursor}`,
      { token: t.reader },
    );
    expect(second.body.items.map((v) => v.version)).toEqual([1]);
    expect(second.body.nextCursor).toBeNull();
    expect((await call("GET", "/v1/blackboard/never/versions", { token: t.reader })).status).toBe(
      404,
    );
  });

  it("keeps only the newest versions of a key", async () => {
    const t = await newTenant("bb");
    const writes = BOARD_LIMITS.blackboardHistoryVersions + 5;
    for (let i = 1; i <= writes; i++) await put(t, "many", { value: i });
    const page = await call<{ items: Array<{ version: number }> }>(
      "GET",
      "/v1/blackboard/many/versions?limit=100",
      { token: t.reader },
    );
    expect(page.body.items).toHaveLength(BOARD_LIMITS.blackboardHistoryVersions);
    expect(page.body.items[0]?.version).toBe(writes);
    expect(page.body.items.at(-1)?.version).toBe(
      writes - BOARD_LIMITS.blackboardHistoryVersions + 1,
    );
  });

  it("lists live keys by prefix in key order, paginated, without values", async () => {
    const t = await newTenant("bb");
    for (const key of ["task:3", "task:1", "task:2", "taskx", "other:1"]) {
      await put(t, key, { value: key });
    }
    await call("DELETE", "/v1/blackboard/task:2", { token: t.operator });
    type KPage = { items: Array<{ key: string; version: number }>; nextCursor: string | null };
    const p1 = await call<KPage>("GET", "/v1/blackboard?prefix=task:&limit=1", {
      token: t.reader,
    });
    expect(p1.status).toBe(200);
    expect(p1.body.items.map((i) => i.key)).toEqual(["task:1"]);
    expect(p1.body.items[0]).not.toHaveProperty("value");
    const p2 = await call<KPage>(
      "GET",
      `/v1/blackboard?prefix=task:&limit=1&cursor=${p1.body.nextCursor}`,
      { token: t.reader },
    );
    expect(p2.body.items.map((i) => i.key)).toEqual(["task:3"]);
    expect(p2.body.nextCursor).toBeNull();
    const every = await call<KPage>("GET", "/v1/blackboard", { token: t.reader });
    expect(every.body.items.map((i) => i.key)).toEqual(["other:1", "task:1", "task:3", "taskx"]);
    const badCursor = await call("GET", "/v1/blackboard?cursor=!!", { token: t.reader });
    expect(badCursor.status).toBe(422);
  });
  it("pages through keys of the longest length (their cursors stay valid)", async () => {
    const t = await newTenant("bb");
    const long = (c: string) => c.repeat(BOARD_LIMITS.blackboardKeyChars);
    for (const c of ["a", "b"]) expect((await put(t, long(c), { value: c })).status).toBe(201);
    const p1 = await call<{ items: Array<{ key: string }>; nextCursor: string }>(
      "GET",
      "/v1/blackboard?limit=1",
      { token: t.reader },
    );
    const p2 = await call<{ items: Array<{ key: string }> }>(
      "GET",
      `/v1/blackboard?limit=1&cursor=${p1.body.nextCursor}`,
      { token: t.reader },
    );
    expect(p2.status).toBe(200);
    expect(p2.body.items.map((i) => i.key)).toEqual([long("b")]);
  });
});

describe("blackboard edges", () => {
  it("keeps tenants apart: another tenant's key is a 404 and its writes never collide", async () => {
    const a = await newTenant("bb");
    const b = await newTenant("bb");
    await put(a, "shared-name", { value: "a's" });
    expect((await get(b, "shared-name")).status).toBe(404);
    const bWrite = await put(b, "shared-name", { value: "b's", ifVersion: 0 });
    expect(bWrite.status).toBe(201);
    expect((await get(a, "shared-name")).body.value).toBe("a's");
    const list = await call<{ items: unknown[] }>("GET", "/v1/blackboard", { token: b.reader });
    expect(list.body.items).toHaveLength(1);
  });

  it("refuses malformed JSON, wrong types, unknown fields, a missing value and bad keys", async () => {
    const t = await newTenant("bb");
    const malformed = await call<Problem>("PUT", "/v1/blackboard/x", {
      token: t.operator,
      raw: '{"value": ',
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe("malformed_json");
    const wrongType = await put(t, "x", { value: 1, ifVersion: "1" });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.errors?.[0]?.path).toBe("ifVersion");
    const negative = await put(t, "x", { value: 1, ifVersion: -1 });
    expect(negative.status).toBe(422);
    const unknown = await put(t, "x", { value: 1, colour: "red" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors?.[0]?.path).toBe("colour");
    const noValue = await put(t, "x", { ifVersion: 0 });
    expect(noValue.status).toBe(422);
    expect(noValue.body.errors?.[0]?.path).toBe("value");
    const badKey = await put(t, "has%20space", { value: 1 });
    expect(badKey.status).toBe(422);
    const longKey = await put(t, "k".repeat(BOARD_LIMITS.blackboardKeyChars + 1), { value: 1 });
    expect(longKey.status).toBe(422);
    const okKey = await put(t, "k".repeat(BOARD_LIMITS.blackboardKeyChars), { value: 1 });
    expect(okKey.status).toBe(201);
    expect((await get(t, "x")).status).toBe(404);
  });

  it("refuses a value over 64 KiB with 413 and takes one at the limit", async () => {
    const t = await newTenant("bb");
    // A JSON string of n characters is n + 2 bytes as JSON text.
    const atLimit = "a".repeat(BOARD_LIMITS.blackboardValueBytes - 2);
    const ok = await put(t, "big", { value: atLimit });
    expect(ok.status).toBe(201);
    expect(ok.body.sizeBytes).toBe(BOARD_LIMITS.blackboardValueBytes);
    const over = await put(t, "big", { value: `${atLimit}a` });
    expect(over.status).toBe(413);
    expect(over.body.code).toBe("payload_too_large");
    expect((await get(t, "big")).body.version).toBe(1);
  });

  it("lets readers read but not write, and records who wrote (an agent key writes as its process)", async () => {
    const t = await newTenant("bb");
    expect((await put(t.reader, "r", { value: 1 })).status).toBe(403);
    const agentKey = async (capabilities: string[]) => {
      const type = await defineType(t, { capabilities: ["proc.sleep", ...capabilities] });
      const p = await spawnIdle(t.operator, { type });
      const key = await call<{ secret: string }>("POST", "/v1/keys", {
        token: t.admin,
        body: { name: "agent", role: "operator", processId: p.id },
      });
      return { processId: p.id, secret: key.body.secret };
    };
    const writer = await agentKey(["bb.read", "bb.write"]);
    const byProcess = await put(writer.secret, "who", { value: "me" });
    expect(byProcess.status).toBe(201);
    expect(byProcess.body.updatedBy).toBe(writer.processId);
    const bystander = await agentKey([]);
    const refused = await put(bystander.secret, "who2", { value: 1 });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("capability_denied");
    const audit = await call<{ items: Array<{ action: string; target: string; actor: string }> }>(
      "GET",
      "/v1/audit?action=blackboard.put",
      { token: t.admin },
    );
    expect(audit.body.items.find((r) => r.target === "who")?.actor).toBe(writer.processId);
  });
});

describe("blackboard over MCP", () => {
  it("gets, puts with compare-and-set and lists through the same calls as the API", async () => {
    const t = await newTenant("bb");
    const client = await connect(t.operator);
    const created = structured<Entry & { created: boolean }>(
      await client.callTool({
        name: "blackboard_put",
        arguments: { key: "mcp:a", value: { n: 1 }, ifVersion: 0 },
      }),
    );
    expect(created).toMatchObject({ version: 1, created: true });
    const stale = await client.callTool({
      name: "blackboard_put",
      arguments: { key: "mcp:a", value: { n: 2 }, ifVersion: 0 },
    });
    expect(stale.isError).toBe(true);
    expect(JSON.stringify(stale.content)).toContain("version_conflict");
    const got = structured<Entry>(
      await client.callTool({ name: "blackboard_get", arguments: { key: "mcp:a" } }),
    );
    expect(got.value).toEqual({ n: 1 });
    const page = structured<{ items: Array<{ key: string }> }>(
      await client.callTool({ name: "blackboard_list", arguments: { prefix: "mcp:" } }),
    );
    expect(page.items.map((i) => i.key)).toEqual(["mcp:a"]);
    const viaApi = await get(t, "mcp:a");
    expect(viaApi.body.version).toBe(1);
    const bad = await client.callTool({
      name: "blackboard_put",
      arguments: { key: "bad key", value: 1 },
    });
    expect(bad.isError).toBe(true);
  });
});

describe("blackboard in the agent loop", () => {
  it("a scripted process writes, reads and lists keys, then its stale compare-and-set is refused", async () => {
    const t = await newTenant("bb");
    await put(t, "loop:taken", { value: "someone else" });
    const type = await defineType(t, {
      capabilities: ["proc.finish", "bb.read", "bb.write"],
    });
    const res = await spawn(t.operator, {
      type,
      script: [
        {
          toolCalls: [
            { name: "bb_put", arguments: { key: "loop:plan", value: { step: 1 }, ifVersion: 0 } },
          ],
        },
        {
          toolCalls: [
            { name: "bb_put", arguments: { key: "loop:taken", value: "mine", ifVersion: 0 } },
          ],
        },
        { toolCalls: [{ name: "bb_get", arguments: { key: "loop:plan" } }] },
        { toolCalls: [{ name: "bb_list", arguments: { prefix: "loop:" } }] },
        finishTurn("done"),
      ],
    });
    expect(res.status).toBe(201);
    const done = await until(t.operator, res.body.id, ended);
    expect(done.status).toBe("exited");
    const plan = await get(t, "loop:plan");
    expect(plan.body).toMatchObject({ version: 1, value: { step: 1 }, updatedBy: res.body.id });
    expect((await get(t, "loop:taken")).body.value).toBe("someone else");
  });
});
