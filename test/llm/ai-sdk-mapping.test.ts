import { APICallError, InvalidPromptError, RetryError } from "ai";
import { describe, expect, it } from "vitest";
import {
  MAX_RETRY_AFTER_MS,
  parseRetryAfterMs,
  toModelCallError,
} from "../../src/llm/ai-sdk/errors.js";
import { toAiTools, toModelMessages } from "../../src/llm/ai-sdk/messages.js";
import {
  fromGenerateTextOutcome,
  type GenerateTextOutcome,
} from "../../src/llm/ai-sdk/response.js";
import { ModelCallError, type ModelRequest } from "../../src/llm/types.js";

const NOW_MS = Date.parse("2026-01-01T00:00:00Z");

function apiCallError(statusCode: number | undefined, responseHeaders?: Record<string, string>) {
  return new APICallError({
    message: `HTTP ${statusCode}`,
    url: "https://provider.example/v1/chat/completions",
    requestBodyValues: {},
    statusCode,
    responseHeaders,
  });
}

describe("parseRetryAfterMs", () => {
  it("reads delta seconds, whole or fractional", () => {
    expect(parseRetryAfterMs({ "retry-after": "2" }, NOW_MS)).toBe(2000);
    expect(parseRetryAfterMs({ "retry-after": "0.25" }, NOW_MS)).toBe(250);
    expect(parseRetryAfterMs({ "retry-after": "0" }, NOW_MS)).toBe(0);
  });

  it("reads an HTTP date relative to now, and a past date as 0", () => {
    expect(parseRetryAfterMs({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }, NOW_MS)).toBe(
      30_000,
    );
    expect(parseRetryAfterMs({ "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" }, NOW_MS)).toBe(0);
  });

  it("prefers retry-after-ms, and ignores header-name case", () => {
    expect(parseRetryAfterMs({ "retry-after": "9", "retry-after-ms": "120" }, NOW_MS)).toBe(120);
    expect(parseRetryAfterMs({ "Retry-After": "3" }, NOW_MS)).toBe(3000);
  });

  it("falls back to retry-after when retry-after-ms does not parse", () => {
    expect(parseRetryAfterMs({ "retry-after": "4", "retry-after-ms": "soon" }, NOW_MS)).toBe(4000);
  });

  it("is null without a usable header", () => {
    expect(parseRetryAfterMs(undefined, NOW_MS)).toBeNull();
    expect(parseRetryAfterMs({}, NOW_MS)).toBeNull();
    expect(parseRetryAfterMs({ "retry-after": "" }, NOW_MS)).toBeNull();
    expect(parseRetryAfterMs({ "retry-after": "later" }, NOW_MS)).toBeNull();
    expect(parseRetryAfterMs({ "retry-after": "-5" }, NOW_MS)).toBeNull();
  });

  it("caps the wait at MAX_RETRY_AFTER_MS", () => {
    expect(parseRetryAfterMs({ "retry-after": "86400" }, NOW_MS)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfterMs({ "retry-after": String(MAX_RETRY_AFTER_MS / 1000) }, NOW_MS)).toBe(
      MAX_RETRY_AFTER_MS,
    );
  });
});

describe("toModelCallError", () => {
  it("carries an APICallError's status and Retry-After", () => {
    const error = toModelCallError(
      apiCallError(429, { "retry-after": "5" }),
      "openai:m",
      undefined,
      NOW_MS,
    );
    expect(error).toBeInstanceOf(ModelCallError);
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(5000);
    expect(error.aborted).toBe(false);
    expect(error.message).toBe("openai:m: HTTP 429");
  });

  it("maps an APICallError without a status (a network failure) to null", () => {
    const error = toModelCallError(apiCallError(undefined), "openai:m");
    expect(error.status).toBeNull();
    expect(error.retryAfterMs).toBeNull();
  });

  it("unwraps a RetryError to its last error", () => {
    const retry = new RetryError({
      message: "failed after 2",
      reason: "maxRetriesExceeded",
      errors: [apiCallError(500), apiCallError(503)],
    });
    expect(toModelCallError(retry, "openai:m").status).toBe(503);
  });

  it("marks cancellations as aborted", () => {
    const abort = new DOMException("The operation was aborted", "AbortError");
    expect(toModelCallError(abort, "openai:m").aborted).toBe(true);
    const controller = new AbortController();
    controller.abort();
    // Whatever the SDK threw, a fired signal means the caller cancelled the call.
    const error = toModelCallError(apiCallError(500), "openai:m", controller.signal);
    expect(error.aborted).toBe(true);
    expect(error.status).toBeNull();
  });

  it("reports a request the SDK refused to send as a fatal 400", () => {
    const refused = new InvalidPromptError({ prompt: {}, message: "bad prompt" });
    expect(toModelCallError(refused, "anthropic:m").status).toBe(400);
  });

  it("reports anything else as no response (status null)", () => {
    expect(
      toModelCallError(new TypeError("Network connection lost."), "openai:m").status,
    ).toBeNull();
    expect(toModelCallError("weird", "openai:m").message).toBe("openai:m: weird");
  });

  it("passes a ModelCallError through unchanged", () => {
    const original = new ModelCallError("x", { status: 418 });
    expect(toModelCallError(original, "openai:m")).toBe(original);
  });
});

describe("toModelMessages", () => {
  it("maps each role, keeping tool call ids and flagging failed tool results", () => {
    expect(
      toModelMessages([
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: "Checking.",
          toolCalls: [{ id: "call_0_0", name: "sleep", arguments: { ms: 5 } }],
        },
        { role: "tool", toolCallId: "call_0_0", toolName: "sleep", content: "{}", isError: false },
        {
          role: "assistant",
          content: "",
          toolCalls: [{ id: "call_1_0", name: "finish", arguments: {} }],
        },
        {
          role: "tool",
          toolCallId: "call_1_0",
          toolName: "finish",
          content: '{"error":"result is required"}',
          isError: true,
        },
        { role: "assistant", content: "", toolCalls: [] },
      ]),
    ).toEqual([
      { role: "user", content: "go" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool-call", toolCallId: "call_0_0", toolName: "sleep", input: { ms: 5 } },
        ],
      },
      {
        role: "tool",
        content: [
          {
            type: "tool-result",
            toolCallId: "call_0_0",
            toolName: "sleep",
            output: { type: "text", value: "{}" },
          },
        ],
      },
      {
        role: "assistant",
        content: [{ type: "tool-call", toolCallId: "call_1_0", toolName: "finish", input: {} }],
      },
      {
        role: "tool",
        content: [
          {
            type: "tool-result",
            toolCallId: "call_1_0",
            toolName: "finish",
            output: { type: "error-text", value: '{"error":"result is required"}' },
          },
        ],
      },
      { role: "assistant", content: [{ type: "text", text: "" }] },
    ]);
  });
});

describe("toAiTools", () => {
  it("declares each tool by name with its JSON Schema and no execute function", async () => {
    const inputSchema = { type: "object", properties: { ms: { type: "integer" } } };
    const tools = toAiTools([{ name: "sleep", description: "Sleep.", inputSchema }]);
    const sleep = tools?.sleep;
    expect(sleep?.description).toBe("Sleep.");
    expect(sleep?.execute).toBeUndefined();
    const schema = sleep?.inputSchema as { jsonSchema: unknown } | undefined;
    expect(await schema?.jsonSchema).toEqual(inputSchema);
  });

  it("is undefined for no tools", () => {
    expect(toAiTools([])).toBeUndefined();
  });
});

describe("fromGenerateTextOutcome", () => {
  const request: ModelRequest = {
    system: "s".repeat(8),
    messages: [{ role: "user", content: "u".repeat(8) }],
    tools: [],
    maxOutputTokens: 100,
  };
  function outcome(overrides: Partial<GenerateTextOutcome>): GenerateTextOutcome {
    return {
      text: "",
      toolCalls: [],
      usage: { inputTokens: 10, outputTokens: 2 },
      finishReason: "stop",
      ...overrides,
    };
  }

  it("keeps text, tool calls, usage and finish reason", () => {
    expect(
      fromGenerateTextOutcome(
        outcome({
          text: "ok",
          toolCalls: [{ toolCallId: "t1", toolName: "finish", input: { result: 1 } }],
          finishReason: "tool-calls",
        }),
        request,
        "anthropic:m",
      ),
    ).toEqual({
      text: "ok",
      toolCalls: [{ id: "t1", name: "finish", arguments: { result: 1 } }],
      usage: { inputTokens: 10, outputTokens: 2 },
      finishReason: "tool-calls",
    });
  });

  it("estimates usage the provider did not report", () => {
    const reply = fromGenerateTextOutcome(
      outcome({ text: "x".repeat(9), usage: { inputTokens: undefined, outputTokens: undefined } }),
      request,
      "workers-ai:@cf/m",
    );
    expect(reply.usage).toEqual({ inputTokens: 4, outputTokens: 3 });
  });

  it("maps finish reasons, treating a stop with tool calls as tool-calls", () => {
    const call = { toolCallId: "t1", toolName: "finish", input: {} };
    const reason = (finishReason: string, withCall = false) =>
      fromGenerateTextOutcome(
        outcome({ finishReason, toolCalls: withCall ? [call] : [] }),
        request,
        "openai:m",
      ).finishReason;
    expect(reason("stop")).toBe("stop");
    expect(reason("length")).toBe("length");
    expect(reason("content-filter")).toBe("other");
    expect(reason("error")).toBe("other");
    expect(reason("stop", true)).toBe("tool-calls");
    expect(reason("length", true)).toBe("length");
  });

  it("passes a call to an unknown tool through for the gate to refuse", () => {
    const reply = fromGenerateTextOutcome(
      outcome({ toolCalls: [{ toolCallId: "t1", toolName: "rm_rf", input: { path: "/" } }] }),
      request,
      "openai:m",
    );
    expect(reply.toolCalls).toEqual([{ id: "t1", name: "rm_rf", arguments: { path: "/" } }]);
  });

  it("rejects tool arguments that are not a JSON object", () => {
    for (const input of ["{broken", [1, 2], null, 7]) {
      expect(() =>
        fromGenerateTextOutcome(
          outcome({ toolCalls: [{ toolCallId: "t1", toolName: "finish", input }] }),
          request,
          "openai:m",
        ),
      ).toThrow(ModelCallError);
    }
  });
});
