/** The AI SDK's `generateText` result → our `ModelResponse`. */

import { CHARS_PER_TOKEN, estimateInputTokens } from "../estimate.js";
import { ModelCallError, type ModelRequest, type ModelResponse, type ToolCall } from "../types.js";

/** The part of a `generateText` result we read (structural, so tests can build one by hand). */
export interface GenerateTextOutcome {
  text: string;
  toolCalls: ReadonlyArray<{
    toolCallId: string;
    toolName: string;
    /** Parsed arguments; the raw text when the SDK could not parse them. */
    input: unknown;
  }>;
  usage: { inputTokens: number | undefined; outputTokens: number | undefined };
  finishReason: string;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mapFinishReason(reason: string, hasToolCalls: boolean): ModelResponse["finishReason"] {
  // Some OpenAI-compatible servers say "stop" while returning tool calls; the loop keys off
  // "tool-calls", so a reply that carries calls is reported as such.
  if (hasToolCalls && (reason === "stop" || reason === "other")) return "tool-calls";
  switch (reason) {
    case "stop":
    case "tool-calls":
    case "length":
      return reason;
    default:
      return "other";
  }
}

/**
 * Maps a `generateText` outcome for `request` from model `modelId` to a `ModelResponse`.
 * Missing usage is estimated (a budget must charge something). A tool call whose arguments are
 * not a JSON object is a broken reply: it throws `ModelCallError` with status null, so the call
 * is retried like any other bad response. A call to an unknown tool passes through: the gate
 * refuses it and tells the model.
 *
 * @example
 * fromGenerateTextOutcome(await generateText({ … }), request, "openai:gpt-4o")
 */
export function fromGenerateTextOutcome(
  outcome: GenerateTextOutcome,
  request: ModelRequest,
  modelId: string,
): ModelResponse {
  const toolCalls: ToolCall[] = [];
  let outputChars = outcome.text.length;
  for (const call of outcome.toolCalls) {
    if (!isJsonObject(call.input)) {
      throw new ModelCallError(
        `${modelId}: tool call ${call.toolCallId} to ${call.toolName} has arguments that are not a JSON object`,
        { status: null },
      );
    }
    toolCalls.push({ id: call.toolCallId, name: call.toolName, arguments: call.input });
    outputChars += call.toolName.length + JSON.stringify(call.input).length;
  }
  return {
    text: outcome.text,
    toolCalls,
    usage: {
      inputTokens: outcome.usage.inputTokens ?? estimateInputTokens(request),
      outputTokens: outcome.usage.outputTokens ?? Math.ceil(outputChars / CHARS_PER_TOKEN),
    },
    finishReason: mapFinishReason(outcome.finishReason, toolCalls.length > 0),
  };
}
