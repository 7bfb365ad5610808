import { describe, expect, it } from "vitest";
import { createModelClient } from "../../src/llm/registry.js";
import { type ChatMessage, ModelCallError, type ModelRequest } from "../../src/llm/types.js";
import {
  loadScenario,
  newScenario,
  receivedRequests,
  type StandinRecordedRequest,
  type StandinReply,
  standinBaseUrl,
  standinOrigin,
} from "../standin/openai-client.js";

const FINISH_TOOL = {
  name: "finish",
  description: "Finish the goal with a result.",
  inputSchema: {
    type: "object",
    properties: { result: { type: "string" } },
    required: ["result"],
    additionalProperties: false,
  },
};

function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    system: "You are terse.",
    messages: [{ role: "user", content: "Say hi." }],
    tools: [FINISH_TOOL],
    maxOutputTokens: 128,
    ...overrides,
  };
}

/** A client for `openai:test-model` answered from a fresh stand-in scenario loaded with `replies`. */
async function clientFor(prefix: string, replies: StandinReply[]) {
  const scenario = newScenario(prefix);
  await loadScenario(scenario, replies);
  const client = createModelClient("openai:test-model", {
    OPENAI_BASE_URL: standinBaseUrl(scenario),
    OPENAI_API_KEY: "test-key",
  });
  return { scenario, client };
}

/** The JSON body of a request the stand-in received. */
function bodyOf(received: StandinRecordedRequest | undefined): Record<string, unknown> {
  if (received === undefined) throw new Error("the stand-in received no request");
  return received.body as Record<string, unknown>;
}

/** The rejection of `promise`, which must be a ModelCallError. */
async function callError(promise: Promise<unknown>): Promise<ModelCallError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelCallError);
  return error as ModelCallError;
}

describe("OpenAI-compatible provider against the stand-in", () => {
  it("returns the reply text with the provider's usage and finish reason", async () => {
    const { client } = await clientFor("text", [
      { type: "text", text: "hi", usage: { promptTokens: 21, completionTokens: 2 } },
    ]);
    const reply = await client.generate(request());
    expect(reply).toEqual({
      text: "hi",
      toolCalls: [],
      usage: { inputTokens: 21, outputTokens: 2 },
      finishReason: "stop",
    });
    expect(client.id).toBe("openai:test-model");
  });

  it("returns tool calls with their ids and parsed arguments", async () => {
    const { client } = await clientFor("tools", [
      {
        type: "tool-calls",
        toolCalls: [
          { id: "call_a", name: "finish", arguments: { result: "42" } },
          { id: "call_b", name: "finish", arguments: '{"result":"43"}' },
        ],
        usage: { promptTokens: 50, completionTokens: 9 },
      },
    ]);
    const reply = await client.generate(request());
    expect(reply.toolCalls).toEqual([
      { id: "call_a", name: "finish", arguments: { result: "42" } },
      { id: "call_b", name: "finish", arguments: { result: "43" } },
    ]);
    expect(reply.finishReason).toBe("tool-calls");
    expect(reply.usage).toEqual({ inputTokens: 50, outputTokens: 9 });
  });

  it("sends the model, max_tokens, system prompt, history and tools, with the key", async () => {
    const { client, scenario } = await clientFor("body", [{ type: "text", text: "ok" }]);
    const history: ChatMessage[] = [
      { role: "user", content: "Say hi." },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "call_0_0", name: "finish", arguments: { result: "hi" } }],
      },
      {
        role: "tool",
        toolCallId: "call_0_0",
        toolName: "finish",
        content: '{"error":"not yet"}',
        isError: true,
      },
    ];
    await client.generate(request({ messages: history, maxOutputTokens: 77 }));
    const [received] = await receivedRequests(scenario, 1);
    expect(received?.headers.authorization).toBe("Bearer test-key");
    const body = bodyOf(received);
    expect(body.model).toBe("test-model");
    expect(body.max_tokens).toBe(77);
    expect(body.tools).toEqual([
      {
        type: "function",
        function: {
          name: "finish",
          description: FINISH_TOOL.description,
          parameters: FINISH_TOOL.inputSchema,
        },
      },
    ]);
    expect(body.messages).toEqual([
      { role: "system", content: "You are terse." },
      { role: "user", content: "Say hi." },
      {
        role: "assistant",
        content: null, // tool calls only: the SDK sends null, as OpenAI's own clients do
        tool_calls: [
          {
            id: "call_0_0",
            type: "function",
            function: { name: "finish", arguments: '{"result":"hi"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_0_0", content: '{"error":"not yet"}' },
    ]);
  });

  it("omits tools when the request offers none", async () => {
    const { client, scenario } = await clientFor("no-tools", [{ type: "text", text: "ok" }]);
    await client.generate(request({ tools: [] }));
    const [received] = await receivedRequests(scenario, 1);
    expect(bodyOf(received).tools).toBeUndefined();
  });

  it("makes exactly one call per generate: a 429 is reported, not retried", async () => {
    const { client, scenario } = await clientFor("429", [
      { type: "error", status: 429, headers: { "retry-after": "7" } },
      { type: "text", text: "must not be reached" },
    ]);
    const error = await callError(client.generate(request()));
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(7000);
    expect(error.aborted).toBe(false);
    expect(await receivedRequests(scenario)).toHaveLength(1);
  });

  it("prefers retry-after-ms to retry-after", async () => {
    const { client } = await clientFor("429-ms", [
      { type: "error", status: 429, headers: { "retry-after": "7", "retry-after-ms": "1500" } },
    ]);
    expect((await callError(client.generate(request()))).retryAfterMs).toBe(1500);
  });

  it("reports a 503 with its status and no retry-after", async () => {
    const { client } = await clientFor("503", [{ type: "error", status: 503 }]);
    const error = await callError(client.generate(request()));
    expect(error.status).toBe(503);
    expect(error.retryAfterMs).toBeNull();
    expect(error.message).toContain("openai:test-model");
  });

  it("aborts a call in flight when the signal fires", async () => {
    const { client, scenario } = await clientFor("hang", [{ type: "hang" }]);
    const controller = new AbortController();
    const pending = client.generate(request({ signal: controller.signal }));
    await receivedRequests(scenario, 1); // the call has reached the provider
    controller.abort();
    const error = await callError(pending);
    expect(error.aborted).toBe(true);
    expect(error.status).toBeNull();
  });

  it("does not call the provider when the signal has already fired", async () => {
    const { client, scenario } = await clientFor("pre-aborted", [{ type: "text", text: "x" }]);
    const controller = new AbortController();
    controller.abort();
    const error = await callError(client.generate(request({ signal: controller.signal })));
    expect(error.aborted).toBe(true);
    expect(await receivedRequests(scenario)).toHaveLength(0);
  });

  it("reports a dropped connection as status null (no response)", async () => {
    const { client } = await clientFor("disconnect", [{ type: "disconnect" }]);
    const error = await callError(client.generate(request()));
    expect(error.status).toBeNull();
    expect(error.aborted).toBe(false);
  });

  it("reports tool arguments that are not JSON as a bad reply (status null)", async () => {
    const { client } = await clientFor("bad-args", [
      { type: "tool-calls", toolCalls: [{ name: "finish", arguments: "{not json" }] },
    ]);
    const error = await callError(client.generate(request()));
    expect(error.status).toBeNull();
    expect(error.message).toContain("not a JSON object");
  });

  it("routes by model name under one fixed base URL, repeating whenEmpty", async () => {
    // How a Worker-wide OPENAI_BASE_URL serves many tests: the scenario is the model name.
    const scenario = newScenario("by-model");
    await loadScenario(scenario, [{ type: "text", text: "first" }], {
      type: "text",
      text: "again",
    });
    const client = createModelClient(`openai:${scenario}`, {
      OPENAI_BASE_URL: `${standinOrigin()}/v1`,
      OPENAI_API_KEY: "test-key",
    });
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) texts.push((await client.generate(request())).text);
    expect(texts).toEqual(["first", "again", "again"]);
    expect(await receivedRequests(scenario)).toHaveLength(3);
  });

  it("fails fatally (400) when the stand-in's scenario runs out of replies", async () => {
    const { client } = await clientFor("exhausted", []);
    const error = await callError(client.generate(request()));
    expect(error.status).toBe(400);
    expect(error.message).toContain("has no reply queued");
  });
});
