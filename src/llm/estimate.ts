/**
 * Token estimates for when no tokenizer or provider count is at hand: the scripted model, and
 * providers that answer without usage. Budgets must always charge something, so an estimate
 * beats a zero; four characters a token is the usual rule of thumb for English text and JSON.
 */

import type { ChatMessage, ModelRequest } from "./types.js";

/** Characters per token assumed by the estimates below. */
export const CHARS_PER_TOKEN = 4;

/**
 * Estimated tokens in `text`: ceil(chars / 4).
 *
 * @example estimateTokens("hello world") // 3
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** Characters a message contributes to the prompt, tool calls included as JSON. */
function messageChars(message: ChatMessage): number {
  switch (message.role) {
    case "user":
      return message.content.length;
    case "assistant": {
      let chars = message.content.length;
      for (const call of message.toolCalls) {
        chars += call.name.length + JSON.stringify(call.arguments).length;
      }
      return chars;
    }
    case "tool":
      return message.toolName.length + message.content.length;
  }
}

/**
 * Estimated input tokens of a request: system prompt, every message and every tool's name,
 * description and JSON Schema, as the provider would see them.
 *
 * @example estimateInputTokens({ system: "be brief", messages: [], tools: [], maxOutputTokens: 64 }) // 2
 */
export function estimateInputTokens(
  request: Pick<ModelRequest, "system" | "messages" | "tools">,
): number {
  let chars = request.system.length;
  for (const message of request.messages) chars += messageChars(message);
  for (const tool of request.tools) {
    chars += tool.name.length + tool.description.length + JSON.stringify(tool.inputSchema).length;
  }
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
