import { beforeAll, describe, expect, it } from "vitest";
import { call, newTenant, type TestTenant } from "../helpers";
import { rawRpc, rpc, userMessage } from "./rpc";

describe("JSON-RPC errors", () => {
  let t: TestTenant;
  let other: TestTenant;
  beforeAll(async () => {
    t = await newTenant("a2a-err");
    other = await newTenant("a2a-err-other");
  });

  it("answers malformed JSON with a parse error", async () => {
    const res = await rawRpc("/a2a", t.reader, '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700 } });
  });

  it("answers a request that is not JSON-RPC 2.0 with invalid request, keeping its id", async () => {
    const noVersion = await rawRpc("/a2a", t.reader, JSON.stringify({ id: 7, method: "GetTask" }));
    expect(noVersion.body).toMatchObject({ id: 7, error: { code: -32600 } });
    const noId = await rawRpc(
      "/a2a",
      t.reader,
      JSON.stringify({ jsonrpc: "2.0", method: "GetTask", params: { id: "x" } }),
    );
    expect(noId.body.error?.code).toBe(-32600);
    const batch = await rawRpc(
      "/a2a",
      t.reader,
      JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "GetTask" }]),
    );
    expect(batch.body.error?.code).toBe(-32600);
    const wrongType = await rawRpc(
      "/a2a",
      t.reader,
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: 5 }),
    );
    expect(wrongType.body).toMatchObject({ id: 1, error: { code: -32600 } });
  });

  it("answers a client that names another protocol version with version not supported", async () => {
    const res = await rawRpc(
      "/a2a",
      t.reader,
      JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ListTasks", params: {} }),
      { "a2a-version": "0.3" },
    );
    expect(res.body).toMatchObject({ id: 3, error: { code: -32009 } });
    const ours = await rawRpc(
      "/a2a",
      t.reader,
      JSON.stringify({ jsonrpc: "2.0", id: 4, method: "ListTasks", params: {} }),
      { "a2a-version": "1.0" },
    );
    expect(ours.body.error).toBeUndefined();
  });

  it("answers an unknown method with method not found, and push notifications as unsupported", async () => {
    const res = await rpc("/a2a", t.reader, "message/send", {});
    expect(res.body.error?.code).toBe(-32601);
    const push = await rpc("/a2a", t.reader, "CreateTaskPushNotificationConfig", {});
    expect(push.body.error?.code).toBe(-32003);
  });

  it("answers invalid params naming the field at fault", async () => {
    const noParts = await rpc("/a2a/assistant", t.operator, "SendMessage", {
      message: { messageId: "m1", role: "ROLE_USER", parts: [] },
    });
    expect(noParts.body.error?.code).toBe(-32602);
    expect(noParts.body.error?.message).toMatch(/message\.parts/);
    const violations = noParts.body.error?.data?.find((d) => "fieldViolations" in d) as {
      fieldViolations: Array<{ path: string }>;
    };
    expect(violations.fieldViolations[0]?.path).toBe("message.parts");

    const wrongType = await rpc("/a2a/assistant", t.reader, "GetTask", { id: 42 });
    expect(wrongType.body.error?.code).toBe(-32602);
    expect(wrongType.body.error?.message).toMatch(/\bid\b/);

    const noType = await rpc("/a2a", t.operator, "SendMessage", { message: userMessage("hi") });
    expect(noType.body.error?.code).toBe(-32602);
    expect(noType.body.error?.message).toMatch(/metadata\.agentType/);

    const unknownType = await rpc("/a2a", t.operator, "SendMessage", {
      message: userMessage("hi"),
      metadata: { agentType: "no-such-type" },
    });
    expect(unknownType.body.error?.code).toBe(-32602);
    expect(unknownType.body.error?.message).toMatch(/metadata\.agentType/);

    const tooLong = await rpc("/a2a/assistant", t.operator, "SendMessage", {
      message: userMessage("x".repeat(8_001)),
    });
    expect(tooLong.body.error?.code).toBe(-32602);

    const twoContents = await rpc("/a2a/assistant", t.operator, "SendMessage", {
      message: { messageId: "m2", role: "ROLE_USER", parts: [{ text: "a", url: "https://x" }] },
    });
    expect(twoContents.body.error?.message).toMatch(/message\.parts\[0\]/);

    const file = await rpc("/a2a/assistant", t.operator, "SendMessage", {
      message: {
        messageId: "m3",
        role: "ROLE_USER",
        parts: [{ url: "https://example.com/a.pdf" }],
      },
    });
    expect(file.body.error?.code).toBe(-32005);
  });

  it("answers task not found for unknown, malformed and other tenants' ids alike", async () => {
    const unknown = await rpc("/a2a", t.reader, "GetTask", {
      id: "proc_00000000000070008000000000000000",
    });
    expect(unknown.body.error?.code).toBe(-32001);
    const malformed = await rpc("/a2a", t.reader, "GetTask", { id: "not-a-task" });
    expect(malformed.body.error?.code).toBe(-32001);
    const own = await rpc("/a2a/assistant", t.operator, "SendMessage", {
      message: userMessage("mine"),
      configuration: { returnImmediately: true },
    });
    const id = own.body.result!.task!.id;
    const foreign = await rpc("/a2a", other.reader, "GetTask", { id });
    expect(foreign.body.error).toMatchObject({ code: -32001, message: `no task ${id}` });
    expect(foreign.body.error?.data?.[0]).toMatchObject({ reason: "TASK_NOT_FOUND" });
    await rpc("/a2a", t.operator, "CancelTask", { id });
  });

  it("refuses a reader's message through the gate, and starts nothing", async () => {
    const res = await rpc("/a2a/assistant", t.reader, "SendMessage", {
      message: userMessage("not allowed"),
    });
    expect(res.body.error?.code).toBe(-32000);
    expect(res.body.error?.data?.[0]).toMatchObject({ reason: "FORBIDDEN", domain: "edgekernel" });
    const list = await call<{ items: unknown[] }>("GET", "/v1/processes?type=assistant", {
      token: t.reader,
    });
    expect(list.body.items.every((p) => (p as { goal?: string }).goal !== "not allowed")).toBe(
      true,
    );
  });

  it("needs a bearer key: 401 without one or with an unknown one", async () => {
    const none = await rpc("/a2a", undefined, "ListTasks", {});
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toMatch(/problem\+json/);
    const bad = await rpc("/a2a/assistant", "ek_unknown", "ListTasks", {});
    expect(bad.status).toBe(401);
  });

  it("answers 404 for an endpoint of an unknown type, and 413 for an oversize body", async () => {
    const res = await rpc("/a2a/no-such-type", t.reader, "ListTasks", {});
    expect(res.status).toBe(404);
    const big = await rawRpc(
      "/a2a/assistant",
      t.operator,
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendMessage",
        params: { message: userMessage("x".repeat(1_100_000)) },
      }),
    );
    expect(big.status).toBe(413);
  });
});
