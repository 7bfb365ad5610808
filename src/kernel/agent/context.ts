/**
 * Building a model's context from a process's history, within the model's context window.
 *
 * The rule, explicitly: the system prompt and the goal always stay; then the newest turns are
 * kept, oldest dropped first, until the estimate fits `contextWindowTokens − maxOutputTokens`.
 * A turn is an assistant message together with the tool results that answer it, so a tool
 * result is never sent without the call it answers. When anything was dropped, one user note
 * says how many messages were left out, so the model knows its memory has a gap.
 *
 * Dropping is the last resort: before it, the memory manager compacts the oldest turns into a
 * summary (src/kernel/memory/compaction.ts). That summary is pinned like the goal, right after
 * it, so it is never the first thing dropped.
 */

import type { ChatMessage } from "../../llm/types.js";

/** Rough tokens of a text: 4 characters a token, the usual rule of thumb for English. */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Estimated tokens of one stored message, framing included. */
export function messageTokens(m: ChatMessage): number {
  // A few tokens of framing per message, as chat templates add role markers.
  const framing = 4;
  if (m.role === "assistant") {
    return (
      framing + estimateTextTokens(m.content) + estimateTextTokens(JSON.stringify(m.toolCalls))
    );
  }
  return framing + estimateTextTokens(m.content);
}

export interface ContextInput {
  system: string;
  goal: string;
  history: ChatMessage[];
  contextWindowTokens: number;
  maxOutputTokens: number;
  /** Tokens the tool definitions take; they are sent with every call. */
  toolTokens: number;
  /** The summary of compacted turns, sent right after the goal; `history` holds the rest. */
  summary?: string | null | undefined;
}

export interface BuiltContext {
  system: string;
  messages: ChatMessage[];
  /** Messages of `history` left out to fit the window. */
  droppedMessages: number;
  estimatedInputTokens: number;
}

/** Groups history into turns: each assistant message starts one and owns the tool results after it. */
export function turns(history: ChatMessage[]): ChatMessage[][] {
  const out: ChatMessage[][] = [];
  for (const m of history) {
    const last = out[out.length - 1];
    if (m.role === "tool" && last) last.push(m);
    else out.push([m]);
  }
  return out;
}

/**
 * The messages to send for the next step.
 *
 * @example buildContext({ system, goal, history, contextWindowTokens: 8192, maxOutputTokens: 1024, toolTokens: 200 })
 */
export function buildContext(input: ContextInput): BuiltContext {
  const goalMessage: ChatMessage = { role: "user", content: input.goal };
  const summaryMessage: ChatMessage | null = input.summary
    ? { role: "user", content: input.summary }
    : null;
  const fixed =
    estimateTextTokens(input.system) +
    messageTokens(goalMessage) +
    (summaryMessage ? messageTokens(summaryMessage) : 0) +
    input.toolTokens;
  const budget = input.contextWindowTokens - input.maxOutputTokens - fixed;
  const all = turns(input.history);
  const kept: ChatMessage[][] = [];
  let used = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    const turn = all[i]!;
    const cost = turn.reduce((sum, m) => sum + messageTokens(m), 0);
    if (used + cost > budget) break;
    kept.unshift(turn);
    used += cost;
  }
  const keptMessages = kept.flat();
  const dropped = input.history.length - keptMessages.length;
  const messages: ChatMessage[] = [goalMessage];
  if (summaryMessage) messages.push(summaryMessage);
  if (dropped > 0) {
    messages.push({
      role: "user",
      content: `[${dropped} earlier messages were left out to fit the context window]`,
    });
  }
  messages.push(...keptMessages);
  const estimated = fixed + used + (dropped > 0 ? 16 : 0);
  return {
    system: input.system,
    messages,
    droppedMessages: dropped,
    estimatedInputTokens: estimated,
  };
}
