/**
 * Our provider-neutral request → the AI SDK's prompt and tools. Tools are declared without
 * `execute`: the SDK must hand the model's tool calls back to us, because every tool runs
 * through the kernel's system-call gate, never inside the SDK.
 */

import { type JSONSchema7, jsonSchema, type ModelMessage, type ToolSet, tool } from "ai";
import type { ChatMessage, ModelTool } from "../types.js";

type AssistantPart =
  | { type: "text"; text: string }
  | { type: "tool-call"; toolCallId: string; toolName: string; input: unknown };

/**
 * Converts one stored conversation turn to an AI SDK model message.
 *
 * @example toModelMessage({ role: "user", content: "hi" }) // { role: "user", content: "hi" }
 */
export function toModelMessage(message: ChatMessage): ModelMessage {
  switch (message.role) {
    case "user":
      return { role: "user", content: message.content };
    case "assistant": {
      const parts: AssistantPart[] = [];
      // Providers reject empty text blocks next to tool calls, so text goes in only when
      // there is some — or when there is nothing else to say.
      if (message.content !== "" || message.toolCalls.length === 0) {
        parts.push({ type: "text", text: message.content });
      }
      for (const call of message.toolCalls) {
        parts.push({
          type: "tool-call",
          toolCallId: call.id,
          toolName: call.name,
          input: call.arguments,
        });
      }
      return { role: "assistant", content: parts };
    }
    case "tool":
      return {
        role: "tool",
        content: [
          {
            type: "tool-result",
            toolCallId: message.toolCallId,
            toolName: message.toolName,
            // The content is already JSON text: pass it through verbatim rather than
            // re-encoding it. The error variant lets providers that can (Anthropic) flag it.
            output: message.isError
              ? { type: "error-text", value: message.content }
              : { type: "text", value: message.content },
          },
        ],
      };
  }
}

/**
 * Converts stored conversation turns to AI SDK model messages, one for one.
 *
 * @example
 * toModelMessages([{ role: "user", content: "hi" }]) // [{ role: "user", content: "hi" }]
 */
export function toModelMessages(messages: readonly ChatMessage[]): ModelMessage[] {
  return messages.map(toModelMessage);
}

/**
 * Converts our tools to an AI SDK tool set keyed by name, without `execute` and without
 * validation (the gate validates arguments against the same schema and tells the model why).
 * Returns undefined for no tools: some endpoints reject an empty `tools` array.
 *
 * @example toAiTools([{ name: "finish", description: "…", inputSchema: { type: "object" } }])
 */
export function toAiTools(tools: readonly ModelTool[]): ToolSet | undefined {
  if (tools.length === 0) return undefined;
  const set: ToolSet = {};
  for (const t of tools) {
    set[t.name] = tool({
      description: t.description,
      inputSchema: jsonSchema<Record<string, unknown>>(t.inputSchema as JSONSchema7),
    });
  }
  return set;
}
