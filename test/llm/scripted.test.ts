import { describe, expect, it } from "vitest";
import { estimateInputTokens, estimateTokens } from "../../src/llm/estimate.js";
import {
  createScriptedModel,
  MAX_SCRIPT_CHARS,
  MAX_SCRIPTED_TOOL_CALLS_PER_TURN,
  MAX_SCRIPTED_TURNS,
  type ScriptedTurn,
  ScriptedTurnSchema,
  ScriptSchema,
} from "../../src/llm/scripted.js";
import {
  type ChatMessage,
  ModelCallError,
  type ModelRequest,
  type ModelResponse,
} from "../../src/llm/types.js";

const SCRIPT: ScriptedTurn[] = [
  { text: "Let me look.", toolCalls: [{ name: "sleep", arguments: { ms: 10 } }] },
  { text: "Done.", toolCalls: [{ name: "finish", arguments: { result: "42" } }] },
];

function request(messages: ChatMessage[], overrides: Partial<ModelRequest> = {}): ModelRequest {
  return { system: "sys", messages, tools: [], maxOutputTokens: 1_000, ...overrides };
}

/** The conversation after the model's `reply` and the results of its tool calls. */
function after(messages: ChatMessage[], reply: ModelResponse): ChatMessage[] {
  return [
    ...messages,
    { role: "assistant", content: reply.text, toolCalls: reply.toolCalls },
    ...reply.toolCalls.map(
      (call): ChatMessage => ({
        role: "tool",
        toolCallId: call.id,
        toolName: call.name,
        content: "{}",
        isError: false,
      }),
    ),
  ];
}

async function callError(promise: Promise<unknown>): Promise<ModelCallError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelCallError);
  return error as ModelCallError;
}

describe("scripted model", () => {
  it("replays the turns in order with deterministic tool call ids", async () => {
    const model = createScriptedModel(SCRIPT);
    const first = await model.generate(request([{ role: "user", content: "go" }]));
    expect(first.text).toBe("Let me look.");
    expect(first.toolCalls).toEqual([{ id: "call_0_0", name: "sleep", arguments: { ms: 10 } }]);
    expect(first.finishReason).toBe("tool-calls");
    const second = await model.generate(request(after([{ role: "user", content: "go" }], first)));
    expect(second.text).toBe("Done.");
    expect(second.toolCalls).toEqual([
      { id: "call_1_0", name: "finish", arguments: { result: "42" } },
    ]);
    expect(model.id).toBe("scripted");
  });

  it("resumes from a conversation prefix: a fresh model answers exactly as the first did", async () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "go" },
      { role: "assistant", content: "Let me look.", toolCalls: [] },
    ];
    const original = await createScriptedModel(SCRIPT).generate(request(messages));
    const resumed = await createScriptedModel(SCRIPT).generate(request(messages));
    expect(resumed).toEqual(original);
    expect(resumed.toolCalls[0]?.id).toBe("call_1_0");
  });

  it("reports a turn without tool calls as a stop", async () => {
    const reply = await createScriptedModel([{ text: "hello" }]).generate(request([]));
    expect(reply).toMatchObject({ text: "hello", toolCalls: [], finishReason: "stop" });
  });

  it("fails with a non-retryable error when the script is exhausted", async () => {
    const messages: ChatMessage[] = [
      { role: "assistant", content: "a", toolCalls: [] },
      { role: "assistant", content: "b", toolCalls: [] },
    ];
    const error = await callError(createScriptedModel(SCRIPT).generate(request(messages)));
    expect(error.status).toBe(400);
    expect(error.aborted).toBe(false);
    expect(error.message).toContain("scripted model has no turn 2");
  });

  it("fails at turn 0 with an empty script", async () => {
    const error = await callError(createScriptedModel([]).generate(request([])));
    expect(error.message).toContain("no turn 0");
  });

  it("estimates usage from the request and the reply when the turn does not give it", async () => {
    const req = request([{ role: "user", content: "x".repeat(40) }], {
      system: "y".repeat(8),
      tools: [{ name: "finish", description: "end", inputSchema: { type: "object" } }],
    });
    const reply = await createScriptedModel([{ text: "z".repeat(10) }]).generate(req);
    // system 8 + message 40 + tool "finish" 6 + "end" 3 + '{"type":"object"}' 17 = 74 chars.
    expect(estimateInputTokens(req)).toBe(Math.ceil(74 / 4));
    expect(reply.usage).toEqual({ inputTokens: 19, outputTokens: 3 });
  });

  it("counts tool calls in the estimated output tokens", async () => {
    const reply = await createScriptedModel([
      { toolCalls: [{ name: "finish", arguments: { result: "42" } }] },
    ]).generate(request([]));
    // "finish" 6 + '{"result":"42"}' 15 = 21 chars.
    expect(reply.usage.outputTokens).toBe(6);
  });

  it("uses the usage a turn gives, per field", async () => {
    const reply = await createScriptedModel([
      { text: "hi", usage: { inputTokens: 1_234 } },
    ]).generate(request([]));
    expect(reply.usage).toEqual({ inputTokens: 1_234, outputTokens: 1 });
  });

  it("cuts a turn longer than maxOutputTokens off, like a real model", async () => {
    const reply = await createScriptedModel([
      { text: "a".repeat(100), toolCalls: [{ name: "finish", arguments: {} }] },
    ]).generate(request([], { maxOutputTokens: 5 }));
    expect(reply).toEqual({
      text: "a".repeat(20),
      toolCalls: [],
      usage: { inputTokens: 1, outputTokens: 5 },
      finishReason: "length",
    });
  });

  it("plays a turn exactly at maxOutputTokens in full", async () => {
    const reply = await createScriptedModel([{ text: "a".repeat(20) }]).generate(
      request([], { maxOutputTokens: 5 }),
    );
    expect(reply.finishReason).toBe("stop");
    expect(reply.usage.outputTokens).toBe(5);
  });

  it("rejects an aborted call", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await callError(
      createScriptedModel(SCRIPT).generate(request([], { signal: controller.signal })),
    );
    expect(error.aborted).toBe(true);
    expect(error.status).toBeNull();
  });
});

describe("script limits", () => {
  it("accepts a script at the turn limit and rejects one over it", () => {
    const turns = (n: number) => Array.from({ length: n }, () => ({ text: "ok" }));
    expect(ScriptSchema.safeParse(turns(MAX_SCRIPTED_TURNS)).success).toBe(true);
    expect(ScriptSchema.safeParse(turns(MAX_SCRIPTED_TURNS + 1)).success).toBe(false);
  });

  it("limits tool calls per turn", () => {
    const calls = (n: number) =>
      Array.from({ length: n }, () => ({ name: "finish", arguments: {} }));
    expect(
      ScriptedTurnSchema.safeParse({ toolCalls: calls(MAX_SCRIPTED_TOOL_CALLS_PER_TURN) }).success,
    ).toBe(true);
    expect(
      ScriptedTurnSchema.safeParse({ toolCalls: calls(MAX_SCRIPTED_TOOL_CALLS_PER_TURN + 1) })
        .success,
    ).toBe(false);
  });

  it("limits the size of a turn and of the whole script", () => {
    expect(ScriptedTurnSchema.safeParse({ text: "x".repeat(40_000) }).success).toBe(false);
    const big = Array.from({ length: 10 }, () => ({ text: "x".repeat(30_000) }));
    expect(JSON.stringify(big).length).toBeGreaterThan(MAX_SCRIPT_CHARS);
    expect(ScriptSchema.safeParse(big).success).toBe(false);
  });

  it("rejects unknown fields, bad tool names and negative usage", () => {
    expect(ScriptedTurnSchema.safeParse({ txt: "typo" }).success).toBe(false);
    expect(
      ScriptedTurnSchema.safeParse({ toolCalls: [{ name: "no spaces", arguments: {} }] }).success,
    ).toBe(false);
    expect(ScriptedTurnSchema.safeParse({ usage: { outputTokens: -1 } }).success).toBe(false);
  });

  it("refuses to build a model over an invalid script", () => {
    expect(() => createScriptedModel([{ text: 1 } as unknown as ScriptedTurn])).toThrow(
      /invalid script/,
    );
  });
});

describe("estimateTokens", () => {
  it("is ceil(chars / 4)", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("abcd")).toBe(1);
    expect(estimateTokens("abcde")).toBe(2);
  });
});
