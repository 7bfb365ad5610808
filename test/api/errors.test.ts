import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, newTenant, spawn, type TestTenant } from "../helpers";

let t: TestTenant;
beforeAll(async () => {
  t = await newTenant("errors");
});

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  requestId: string;
  errors?: Array<{ path: string; message: string; code: string }>;
}

function expectProblem(
  res: { status: number; headers: Headers; body: unknown },
  status: number,
  code: string,
) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  const body = res.body as ProblemBody;
  expect(body).toMatchObject({ status, code });
  expect(body.type).toContain(code);
  expect(body.title.length).toBeGreaterThan(0);
  expect(body.requestId).toBe(res.headers.get("x-request-id"));
  return body;
}

describe("spawn validation: one failure per field, naming the field", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["type missing", { type: undefined }, "type"],
    ["type malformed", { type: "Not A Type" }, "type"],
    ["type unknown", { type: "no-such-type" }, "type"],
    ["version malformed", { version: "1.0" }, "version"],
    ["version unknown", { version: "9.9.9" }, "version"],
    ["goal empty", { goal: "" }, "goal"],
    ["goal too long", { goal: "x".repeat(8001) }, "goal"],
    ["goal wrong type", { goal: 42 }, "goal"],
    ["priority out of range", { priority: 3 }, "priority"],
    ["priority fractional", { priority: 0.5 }, "priority"],
    ["labels bad key", { labels: { "Bad Key": "v" } }, "labels.Bad Key"],
    ["labels value too long", { labels: { k: "v".repeat(129) } }, "labels.k"],
    ["labels wrong type", { labels: ["a"] }, "labels"],
    ["parentId malformed", { parentId: "proc_123" }, "parentId"],
    ["parentId unknown", { parentId: "proc_0000000000007000800000000000dead" }, "parentId"],
    ["budget.maxTokens zero", { budget: { maxTokens: 0 } }, "budget.maxTokens"],
    ["budget.maxToolCalls negative", { budget: { maxToolCalls: -1 } }, "budget.maxToolCalls"],
    ["budget.wallClockMs too short", { budget: { wallClockMs: 10 } }, "budget.wallClockMs"],
    [
      "budget.maxCostMicroUsd string",
      { budget: { maxCostMicroUsd: "5" } },
      "budget.maxCostMicroUsd",
    ],
    ["budget unknown field", { budget: { maxSteps: 4 } }, "budget.maxSteps"],
    ["capabilities not granted by the type", { capabilities: ["proc.spawn"] }, "capabilities[0]"],
    ["capabilities malformed", { capabilities: ["Bad Cap"] }, "capabilities[0]"],
    ["unknown top-level field", { gaol: "typo" }, "gaol"],
  ];
  for (const [name, patch, path] of cases) {
    it(`${name} → 422 at ${path}`, async () => {
      const res = await spawn(t.operator, patch);
      const body = expectProblem(res, 422, "validation_failed");
      expect(body.errors?.map((e) => e.path)).toContain(path);
    });
  }

  it("creates nothing when validation fails", async () => {
    const fresh = await newTenant();
    await spawn(fresh.operator, { priority: 7 });
    await spawn(fresh.operator, { type: "no-such-type" });
    const list = await call<{ items: unknown[] }>("GET", "/v1/processes", { token: fresh.reader });
    expect(list.body.items).toEqual([]);
  });
});

describe("other bodies and queries", () => {
  it("signal reason too long → 422 at reason", async () => {
    const p = (await spawn(t.operator, { paused: true })).body;
    const res = await call("POST", `/v1/processes/${p.id}/resume`, {
      token: t.operator,
      body: { reason: "r".repeat(501) },
    });
    expect(expectProblem(res, 422, "validation_failed").errors?.[0]?.path).toBe("reason");
    expect((await call("GET", `/v1/processes/${p.id}`, { token: t.reader })).body.status).toBe(
      "paused",
    );
  });

  it.each([
    ["name", { name: "Has Spaces" }],
    ["name", { name: 7 }],
  ])("tenant %s invalid → 422", async (path, body) => {
    const res = await call("POST", "/v1/tenants", { token: ADMIN_TOKEN, body });
    expect(expectProblem(res, 422, "validation_failed").errors?.[0]?.path).toBe(path);
  });

  it.each([
    ["name", { name: "", role: "reader" }],
    ["role", { name: "k", role: "root" }],
    ["expiresInSeconds", { name: "k", role: "reader", expiresInSeconds: 5 }],
    ["processId", { name: "k", role: "reader", processId: "nope" }],
    ["tenantId", { name: "k", role: "reader", tenantId: "nope" }],
  ])("key %s invalid → 422", async (path, body) => {
    const res = await call("POST", "/v1/keys", { token: t.admin, body });
    expect(expectProblem(res, 422, "validation_failed").errors?.map((e) => e.path)).toContain(path);
  });

  it.each([
    ["limit", "limit=101"],
    ["limit", "limit=0"],
    ["limit", "limit=ten"],
    ["status", "status=sleeping"],
    ["type", "type=Bad%20Type"],
    ["cursor", "cursor=%21%21"],
    ["label", "label=novalue"],
  ])("list query %s invalid → 422", async (path, qs) => {
    const res = await call("GET", `/v1/processes?${qs}`, { token: t.reader });
    expect(expectProblem(res, 422, "validation_failed").errors?.[0]?.path).toBe(path);
  });

  it.each([
    ["from", "from=yesterday"],
    ["to", "to=2026-13-01T00:00:00Z"],
    ["from", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"],
  ])("audit query %s invalid → 422", async (path, qs) => {
    const res = await call("GET", `/v1/audit?${qs}`, { token: t.admin });
    expect(expectProblem(res, 422, "validation_failed").errors?.[0]?.path).toBe(path);
  });
});

describe("malformed requests", () => {
  it("malformed JSON → 400 malformed_json", async () => {
    const res = await call("POST", "/v1/processes", {
      token: t.operator,
      raw: '{"type": "assistant", "goal": ',
      headers: { "content-type": "application/json" },
    });
    expectProblem(res, 400, "malformed_json");
  });

  it("empty body declared as JSON → 400 malformed_json", async () => {
    const res = await call("POST", "/v1/processes", {
      token: t.operator,
      raw: "",
      headers: { "content-type": "application/json" },
    });
    expectProblem(res, 400, "malformed_json");
  });

  it("a JSON array where an object belongs → 422 at the root", async () => {
    const res = await call("POST", "/v1/processes", { token: t.operator, body: [1, 2] });
    expectProblem(res, 422, "validation_failed");
  });

  it("wrong content type → 415", async () => {
    const res = await call("POST", "/v1/processes", {
      token: t.operator,
      raw: "type=assistant&goal=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expectProblem(res, 415, "unsupported_media_type");
  });

  it("a body without a content type → 415", async () => {
    const res = await call("POST", "/v1/processes", {
      token: t.operator,
      raw: new TextEncoder().encode('{"a":1}'),
    });
    expectProblem(res, 415, "unsupported_media_type");
  });

  it("a body over 1 MiB → 413, by Content-Length and when streamed without one", async () => {
    const big = JSON.stringify({ type: "assistant", goal: "x".repeat(1024 * 1024) });
    const declared = await call("POST", "/v1/processes", {
      token: t.operator,
      raw: big,
      headers: { "content-type": "application/json" },
    });
    expectProblem(declared, 413, "payload_too_large");

    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024)
          controller.enqueue(bytes.slice(i, i + 64 * 1024));
        controller.close();
      },
    });
    const streamed = await call("POST", "/v1/processes", {
      token: t.operator,
      raw: stream,
      headers: { "content-type": "application/json" },
    });
    expectProblem(streamed, 413, "payload_too_large");
  });

  it("a body of exactly 1 MiB is accepted by the size guard (and then validated)", async () => {
    const prefix = '{"type":"assistant","goal":"';
    const suffix = '"}';
    const goal = "x".repeat(1024 * 1024 - prefix.length - suffix.length);
    const res = await call("POST", "/v1/processes", {
      token: t.operator,
      raw: prefix + goal + suffix,
      headers: { "content-type": "application/json" },
    });
    // Not 413: the goal is simply too long for the schema.
    expectProblem(res, 422, "validation_failed");
  });
});

describe("unknown routes and ids", () => {
  it.each([
    ["GET", "/nope"],
    ["GET", "/v1/nope"],
    ["POST", "/v1/processes/x/explode"],
  ])("%s %s → 404 problem", async (method, path) => {
    const res = await call(method, path, { token: t.operator });
    expectProblem(res, 404, "not_found");
  });

  it.each([
    ["GET", "/v1/processes/proc_0000000000007000800000000000dead"],
    ["GET", "/v1/processes/not-an-id"],
    ["GET", "/v1/processes/proc_0000000000007000800000000000dead/events"],
    ["POST", "/v1/processes/proc_0000000000007000800000000000dead/pause"],
    ["POST", "/v1/processes/not-an-id/terminate"],
  ])("%s %s → 404 problem", async (method, path) => {
    const res = await call(method, path, { token: t.operator });
    expectProblem(res, 404, "not_found");
  });

  it("DELETE of an unknown key → 404", async () => {
    const res = await call("DELETE", "/v1/keys/key_0000000000007000800000000000dead", {
      token: t.admin,
    });
    expectProblem(res, 404, "not_found");
  });

  it("echoes a caller's request id and mints one otherwise", async () => {
    const mine = await call("GET", "/healthz", { headers: { "x-request-id": "client-123" } });
    expect(mine.headers.get("x-request-id")).toBe("client-123");
    const minted = await call("GET", "/healthz", {
      headers: { "x-request-id": "bad id with spaces" },
    });
    expect(minted.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
  });
});
