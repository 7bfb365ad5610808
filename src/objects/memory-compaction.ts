/**
 * The agent loop's compaction hook: before a step builds its context, fold the oldest turns
 * into a summary when the conversation nears the window (the rule is in
 * src/kernel/memory/compaction.ts). The compaction is stored with the process (a kv entry) and
 * logged as a `compact` event in the same synchronous block, so the object's storage commits
 * both or neither, and the next step starts from it instead of compacting again.
 */

import {
  type CompactionState,
  EMPTY_COMPACTION,
  fixedTokens,
  planCompaction,
  summaryText,
} from "../kernel/memory/compaction.js";
import type { PendingEvent } from "../kernel/process/lifecycle.js";
import type { ProcessRecord } from "../kernel/process/record.js";
import type { ChatMessage } from "../llm/types.js";
import type { LoopHost } from "./agent-loop.js";

/** The kv key the process's compaction state lives under. */
export const COMPACTION_KV_KEY = "memory.compaction";

/** The event-log entry of a compaction (not a state change: `from` and `to` are equal). */
export const COMPACT_EVENT = "compact" as const;

export interface CompactionInput {
  record: ProcessRecord;
  system: string;
  history: ChatMessage[];
  contextWindowTokens: number;
  maxOutputTokens: number;
  toolTokens: number;
}

export interface ConversationView {
  /** The summary turn, pinned after the goal; null before the first compaction. */
  summary: string | null;
  /** The turns not summarised, verbatim. */
  history: ChatMessage[];
}

/**
 * The conversation to send this step, compacting first when it nears the window.
 *
 * @example const view = compactHistory(h, { record, system, history, contextWindowTokens, maxOutputTokens, toolTokens })
 */
export function compactHistory(h: LoopHost, input: CompactionInput): ConversationView {
  let state = h.store.getKv<CompactionState>(COMPACTION_KV_KEY) ?? EMPTY_COMPACTION;
  const roomTokens =
    input.contextWindowTokens -
    input.maxOutputTokens -
    fixedTokens(input.system, input.record.goal, input.toolTokens);
  const plan = planCompaction({ history: input.history, state, roomTokens });
  if (plan) {
    state = plan.state;
    const event: PendingEvent = {
      atMs: Date.now(),
      event: COMPACT_EVENT,
      from: input.record.status,
      to: input.record.status,
      actor: "kernel",
      reason: `compacted ${plan.compactedMessages} messages into the summary (now turns 1-${state.coveredTurns}, ${state.coveredMessages} messages): about ${plan.tokensBefore} -> ${plan.tokensAfter} tokens of ${roomTokens} available`,
    };
    // No await between these two writes: the object's storage commits them together.
    h.store.putKv(COMPACTION_KV_KEY, state);
    h.store.appendEvents([event]);
  }
  return { summary: summaryText(state), history: input.history.slice(state.coveredMessages) };
}
