// End-to-end: the official @a2a-js/sdk client against `wrangler dev`, over real HTTP. It
// resolves an agent type's Agent Card, sends a message, and follows the task to completion —
// what any A2A agent elsewhere would do with an edgekernel API key. The scripted agent type
// needs no model provider.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GetTaskRequest, ListTasksRequest, SendMessageRequest, TaskState } from "@a2a-js/sdk";
import {
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
} from "@a2a-js/sdk/client";
import { startDevServer } from "./dev-server.mjs";

const RESULT = "the weekly report: 3 incidents, all resolved";

let server;
let key;
let type;

/** A JSON POST to the HTTPS API; asserts 201 and returns the body. */
async function post(path, token, body) {
  const res = await fetch(`${server.base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, `${path}: ${await res.clone().text()}`);
  return res.json();
}

/** The SDK client for the agent type, resolved from its card, authenticated with the key. */
async function clientFor(typeName) {
  const fetchImpl = (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${key}`);
    return fetch(input, { ...init, headers });
  };
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
    }),
  );
  return factory.createFromUrl(`${server.base}/a2a/${typeName}/`);
}

function textRequest(text, configuration) {
  return SendMessageRequest.fromJSON({
    message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] },
    ...(configuration ? { configuration } : {}),
  });
}

before(async () => {
  server = await startDevServer();
  const tenant = await post("/v1/tenants", server.token, { name: "a2a-e2e" });
  key = (
    await post("/v1/keys", server.token, { tenantId: tenant.id, name: "a2a", role: "operator" })
  ).secret;
  type = "weekly-reporter";
  await post("/v1/agent-types", key, {
    name: type,
    version: "1.0.0",
    description: "Writes the weekly incident report",
    model: "scripted",
    capabilities: ["proc.finish"],
    defaultBudget: {
      maxTokens: 10_000,
      maxToolCalls: 10,
      wallClockMs: 600_000,
      maxCostMicroUsd: 0,
    },
    script: [
      { text: "Reading the incident list." },
      { toolCalls: [{ name: "finish", arguments: { result: RESULT } }] },
    ],
  });
});
after(() => server?.stop());

describe("A2A over wrangler dev", () => {
  it("publishes the deployment's card without credentials", async () => {
    const res = await fetch(`${server.base}/.well-known/agent-card.json`);
    assert.equal(res.status, 200);
    const card = await res.json();
    assert.equal(card.supportedInterfaces[0].url, `${server.base}/a2a`);
    assert.equal(card.supportedInterfaces[0].protocolBinding, "JSONRPC");
    assert.ok(card.skills.some((s) => s.id === "assistant"));
  });

  it("the SDK client resolves the type's card, streams a message, and follows the task to completed", async () => {
    const client = await clientFor(type);
    let taskId;
    let finalState;
    let resultText;
    for await (const event of client.sendMessageStream(textRequest("Write this week's report"))) {
      const { payload } = event;
      if (!payload) continue;
      if (payload.$case === "task") taskId = payload.value.id;
      if (payload.$case === "artifactUpdate") {
        resultText = payload.value.artifact?.parts[0]?.content?.value;
      }
      if (payload.$case === "statusUpdate") finalState = payload.value.status?.state;
    }
    assert.match(taskId ?? "", /^proc_/);
    assert.equal(finalState, TaskState.TASK_STATE_COMPLETED);
    assert.equal(resultText, RESULT);

    // The task stays readable, with the result as its artifact, and is listed.
    const task = await client.getTask(GetTaskRequest.fromJSON({ id: taskId }));
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.deepEqual(task.artifacts[0]?.parts[0]?.content, { $case: "text", value: RESULT });
    const listed = await client.listTasks(ListTasksRequest.fromJSON({ pageSize: 10 }));
    assert.ok(listed.tasks.some((t) => t.id === taskId));
  });

  it("a polling client sends without waiting and follows the task with GetTask", async () => {
    const client = await clientFor(type);
    const sent = await client.sendMessage(textRequest("Again", { returnImmediately: true }));
    assert.ok("status" in sent, "a task, not a message");
    let task = sent;
    for (let i = 0; i < 100 && task.status?.state !== TaskState.TASK_STATE_COMPLETED; i++) {
      await new Promise((r) => setTimeout(r, 200));
      task = await client.getTask(GetTaskRequest.fromJSON({ id: sent.id }));
    }
    assert.equal(task.status?.state, TaskState.TASK_STATE_COMPLETED);
    assert.deepEqual(task.artifacts[0]?.parts[0]?.content, { $case: "text", value: RESULT });
  });
});
