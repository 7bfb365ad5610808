import { createAnthropic } from "@ai-sdk/anthropic";
import type { LanguageModel } from "ai";
import { describe, expect, it } from "vitest";
import { createAiSdkModelClient } from "../../src/llm/ai-sdk/client.js";
import {
  ANTHROPIC_DEFAULT_BASE_URL,
  createAnthropicModel,
  resolveAnthropicSettings,
} from "../../src/llm/providers/anthropic.js";
import {
  createOpenAiCompatibleModel,
  OPENAI_DEFAULT_BASE_URL,
  resolveOpenAiCompatibleSettings,
} from "../../src/llm/providers/openai-compatible.js";
import { resolveWorkersAiSettings } from "../../src/llm/providers/workers-ai.js";
import { ModelCallError, type ModelRequest } from "../../src/llm/types.js";

/** Provider and model name of an AI SDK model object (never a bare id string here). */
function describeModel(model: LanguageModel): { provider: string; modelId: string } {
  if (typeof model === "string") throw new Error("expected a model object");
  return { provider: model.provider, modelId: model.modelId };
}

describe("OpenAI-compatible settings", () => {
  it("defaults to OpenAI and strips a trailing slash from a custom base URL", () => {
    expect(resolveOpenAiCompatibleSettings({ OPENAI_API_KEY: " sk-1 " })).toEqual({
      ok: true,
      settings: { baseUrl: OPENAI_DEFAULT_BASE_URL, apiKey: "sk-1" },
    });
    expect(resolveOpenAiCompatibleSettings({ OPENAI_BASE_URL: "http://vllm:8000/v1/" })).toEqual({
      ok: true,
      settings: { baseUrl: "http://vllm:8000/v1", apiKey: undefined },
    });
  });

  it("builds a chat model for the named model", () => {
    const model = createOpenAiCompatibleModel("llama3.1:8b", {
      baseUrl: "http://localhost:11434/v1",
      apiKey: undefined,
    });
    expect(describeModel(model)).toEqual({ provider: "openai.chat", modelId: "llama3.1:8b" });
  });
});

describe("Anthropic settings", () => {
  it("needs a key and defaults the base URL", () => {
    expect(resolveAnthropicSettings({}).ok).toBe(false);
    expect(resolveAnthropicSettings({ ANTHROPIC_API_KEY: "" }).ok).toBe(false);
    expect(resolveAnthropicSettings({ ANTHROPIC_API_KEY: "sk-ant" })).toEqual({
      ok: true,
      settings: { baseUrl: ANTHROPIC_DEFAULT_BASE_URL, apiKey: "sk-ant" },
    });
    expect(
      resolveAnthropicSettings({
        ANTHROPIC_API_KEY: "sk-ant",
        ANTHROPIC_BASE_URL: "https://gateway.example/anthropic/",
      }),
    ).toEqual({
      ok: true,
      settings: { baseUrl: "https://gateway.example/anthropic", apiKey: "sk-ant" },
    });
  });

  it("builds a Messages API model for the named model", () => {
    const model = createAnthropicModel("claude-sonnet-4-5", {
      baseUrl: ANTHROPIC_DEFAULT_BASE_URL,
      apiKey: "sk-ant",
    });
    expect(describeModel(model)).toEqual({
      provider: "anthropic.messages",
      modelId: "claude-sonnet-4-5",
    });
  });
});

describe("Anthropic mapping, with the provider stood in at its HTTP boundary", () => {
  // No network: the SDK's Anthropic model is given a fetch that records the request and
  // answers as the Messages API would. This checks our messages and tools survive Anthropic's
  // wire format (tool_use / tool_result with is_error) and its reply maps back.
  function standin(response: Response) {
    const sent: Array<{ url: string; headers: Headers; body: Record<string, unknown> }> = [];
    const model = createAnthropic({
      apiKey: "sk-ant-test",
      baseURL: "https://anthropic.standin/v1",
      fetch: async (input, init) => {
        sent.push({
          url: String(input),
          headers: new Headers(init?.headers),
          body: JSON.parse(String(init?.body)) as Record<string, unknown>,
        });
        return response.clone();
      },
    })("claude-test");
    return { client: createAiSdkModelClient("anthropic:claude-test", model), sent };
  }

  const request: ModelRequest = {
    system: "Be terse.",
    messages: [
      { role: "user", content: "go" },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "toolu_0", name: "finish", arguments: {} }],
      },
      {
        role: "tool",
        toolCallId: "toolu_0",
        toolName: "finish",
        content: '{"error":"result is required"}',
        isError: true,
      },
    ],
    tools: [
      {
        name: "finish",
        description: "Finish.",
        inputSchema: { type: "object", properties: { result: { type: "string" } } },
      },
    ],
    maxOutputTokens: 64,
  };

  it("sends system, history, tools and max_tokens, and maps tool_use back", async () => {
    const { client, sent } = standin(
      Response.json({
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude-test",
        content: [
          { type: "text", text: "Retrying." },
          { type: "tool_use", id: "toolu_1", name: "finish", input: { result: "42" } },
        ],
        stop_reason: "tool_use",
        stop_sequence: null,
        usage: { input_tokens: 31, output_tokens: 12 },
      }),
    );
    const reply = await client.generate(request);
    expect(reply).toEqual({
      text: "Retrying.",
      toolCalls: [{ id: "toolu_1", name: "finish", arguments: { result: "42" } }],
      usage: { inputTokens: 31, outputTokens: 12 },
      finishReason: "tool-calls",
    });
    const [call] = sent;
    expect(call?.url).toBe("https://anthropic.standin/v1/messages");
    expect(call?.headers.get("x-api-key")).toBe("sk-ant-test");
    expect(call?.body).toMatchObject({
      model: "claude-test",
      max_tokens: 64,
      system: [{ type: "text", text: "Be terse." }],
      tools: [
        { name: "finish", description: "Finish.", input_schema: request.tools[0]?.inputSchema },
      ],
      messages: [
        { role: "user", content: [{ type: "text", text: "go" }] },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_0", name: "finish", input: {} }],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_0",
              content: '{"error":"result is required"}',
              is_error: true,
            },
          ],
        },
      ],
    });
  });

  it("maps an overloaded 529 with Retry-After to a ModelCallError", async () => {
    const { client, sent } = standin(
      Response.json(
        { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
        { status: 529, headers: { "retry-after": "3" } },
      ),
    );
    const error = await client.generate(request).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelCallError);
    expect((error as ModelCallError).status).toBe(529);
    expect((error as ModelCallError).retryAfterMs).toBe(3000);
    expect(sent).toHaveLength(1);
  });
});

describe("Workers AI settings", () => {
  it("is unavailable without the AI binding", () => {
    const result = resolveWorkersAiSettings({});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain('[ai] binding = "AI"');
  });
});
