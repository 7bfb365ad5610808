import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AgentProcess } from "../../src/objects/agent-process";
import { call, ended, finishTurn, newTenant, type ProcessBody, spawn, until } from "../helpers";
import { agentKey, filePath, raw, wsProcess, wsType } from "./ws";

const testEnv = env as unknown as { AGENT_PROCESS: DurableObjectNamespace<AgentProcess> };

/** The tool results in a process's conversation, parsed. */
async function toolResults(
  id: string,
): Promise<Array<{ name: string; value: Record<string, unknown>; isError: boolean }>> {
  const stub = testEnv.AGENT_PROCESS.get(testEnv.AGENT_PROCESS.idFromName(id));
  return runInDurableObject(stub, (instance: AgentProcess) =>
    instance.store
      .messages()
      .filter((m) => m.role === "tool")
      .map((m) => {
        const t = m as { toolName: string; content: string; isError?: boolean };
        return { name: t.toolName, value: JSON.parse(t.content), isError: t.isError ?? false };
      }),
  );
}

const turn = (name: string, args: Record<string, unknown>) => ({
  toolCalls: [{ name, arguments: args }],
});

describe("the agent loop's workspace tools", () => {
  it("writes, lists, reads and deletes its own files through the scripted model", async () => {
    const t = await newTenant("wsloop");
    const type = await wsType(t);
    const res = await spawn(t.operator, {
      type,
      paused: true,
      script: [
        turn("ws_write", { path: "plan.md", content: "step one" }),
        turn("ws_write", { path: "bin", content: btoa("\u0000\u00ff"), encoding: "base64" }),
        turn("ws_list", { prefix: "" }),
        turn("ws_read", { path: "plan.md" }),
        turn("ws_read", { path: "big.txt", offset: 70 * 1024 - 3 }),
        turn("ws_read", { path: "bin" }),
        turn("ws_delete", { path: "bin" }),
        turn("ws_read", { path: "../x" }),
        finishTurn("done"),
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    // A file above the in-object threshold (kept in R2), put there before the process runs.
    const big = await raw(
      "PUT",
      filePath(res.body.id, "big.txt"),
      t.operator,
      "x".repeat(70 * 1024),
    );
    expect(await big.json()).toMatchObject({ storedIn: "r2" });
    await call("POST", `/v1/processes/${res.body.id}/resume`, { token: t.operator });
    const done = await until(t.reader, res.body.id, ended);
    expect(done.status).toBe("exited");
    const results = await toolResults(res.body.id);
    expect(results[0]).toMatchObject({
      name: "ws_write",
      value: { path: "plan.md", created: true },
    });
    expect(results.map((r) => r.name)).toEqual([
      "ws_write",
      "ws_write",
      "ws_list",
      "ws_read",
      "ws_read",
      "ws_read",
      "ws_delete",
      "ws_read",
      "finish",
    ]);
    expect(results[1]?.value).toMatchObject({ storedIn: "object", sizeBytes: 2 });
    expect(results[2]?.value.items).toMatchObject([
      { path: "big.txt" },
      { path: "bin" },
      { path: "plan.md" },
    ]);
    expect(results[3]?.value).toMatchObject({ content: "step one", encoding: "text", more: false });
    expect(results[4]?.value).toMatchObject({ content: "xxx", length: 3, sizeBytes: 70 * 1024 });
    expect(results[5]?.value).toMatchObject({ content: btoa("\u0000\u00ff"), encoding: "base64" });
    expect(results[6]?.value).toEqual({ deleted: "bin" });
    expect(results[7]).toMatchObject({ isError: true, value: { code: "validation_failed" } });

    // The files are the same ones the HTTPS API serves.
    const plan = await raw("GET", filePath(res.body.id, "plan.md"), t.reader);
    expect(await plan.text()).toBe("step one");
    expect((await raw("GET", filePath(res.body.id, "bin"), t.reader)).status).toBe(404);
  });

  it("shares a path with another process, which reads it by naming the owner", async () => {
    const t = await newTenant("wsloop");
    const type = await wsType(t);
    const reader = await wsProcess(t, type);
    const owner = await spawn(t.operator, {
      type,
      script: [
        turn("ws_write", {
          path: "out/result.json",
          content: '{"n":42}',
          contentType: "application/json",
        }),
        turn("ws_share", { path: "out/", recipients: [reader], mode: "read" }),
        turn("sleep", { ms: 3_600_000 }),
      ],
    });
    const ownerId = owner.body.id;
    await until(t.reader, ownerId, (p: ProcessBody) => p.status === "waiting");
    // The share the owner's tool call granted lets the reader's agent key in.
    const readerKey = await agentKey(t, reader);
    const viaKey = await raw("GET", filePath(ownerId, "out/result.json"), readerKey);
    expect(viaKey.status).toBe(200);

    // A second recipient, started paused so it can be shared with before it runs.
    const second = await spawn(t.operator, {
      type,
      paused: true,
      script: [
        turn("ws_read", { path: "out/result.json", owner: ownerId }),
        turn("ws_write", { path: "out/result.json", owner: ownerId, content: "tampered" }),
        turn("ws_list", { owner: ownerId }),
        finishTurn("ok"),
      ],
    });
    const share = await call("POST", `/v1/processes/${ownerId}/workspace/shares`, {
      token: t.operator,
      body: { path: "out/", recipients: [second.body.id], mode: "read" },
    });
    expect(share.status).toBe(200);
    await call("POST", `/v1/processes/${second.body.id}/resume`, { token: t.operator });
    await until(t.reader, second.body.id, ended);
    const results = await toolResults(second.body.id);
    expect(results[0]?.value).toMatchObject({
      content: '{"n":42}',
      contentType: "application/json",
    });
    expect(results[1]).toMatchObject({ isError: true, value: { code: "not_found" } });
    expect(results[2]?.value).toMatchObject({ items: [{ path: "out/result.json" }] });
    const file = await raw("GET", filePath(ownerId, "out/result.json"), t.reader);
    expect(await file.text()).toBe('{"n":42}');
    const shares = await call<{ items: unknown[] }>(
      "GET",
      `/v1/processes/${ownerId}/workspace/shares`,
      {
        token: t.reader,
      },
    );
    expect(shares.body.items).toMatchObject([
      { path: "out/", recipient: reader, mode: "read", grantedBy: ownerId },
      { path: "out/", recipient: second.body.id, mode: "read" },
    ]);
  });
});
