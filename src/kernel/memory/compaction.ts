/**
 * Short-term memory: compacting a process's oldest turns into a summary when its conversation
 * nears the model's context window, instead of silently dropping them.
 *
 * The rule, explicitly:
 *   - `room` is the window less the output reserved for the reply, the system prompt, the goal
 *     and the tool definitions — what the conversation itself may fill;
 *   - when the summary plus the turns not yet summarised exceed `COMPACTION_THRESHOLD_SHARE` of
 *     the room, the oldest turns are folded into the summary until the turns left verbatim fit
 *     `COMPACTION_TARGET_SHARE` of it (the gap between the two shares means compaction happens
 *     once in a while, not every step);
 *   - the newest `MIN_VERBATIM_TURNS` turns always stay verbatim, and so does every turn from the
 *     first one whose tool calls are not all answered (a call and its result are never split);
 *   - the system prompt and the goal are never part of the history, so never compacted.
 *
 * The summary is extractive and deterministic (no model call): one line per turn naming what the
 * assistant said and which tools it called with what outcome, each part truncated. It is capped
 * at `SUMMARY_SHARE` of the room; past the cap the oldest lines go first, and the summary says
 * how many. The stored conversation is never rewritten: a compaction is a marker (how many
 * messages the summary covers) plus the summary text, so a replayed step sees the same history.
 */

import type { ChatMessage } from "../../llm/types.js";
import { estimateTextTokens, messageTokens, turns } from "../agent/context.js";

/** Compact when the conversation fills more than this share of its room. */
export const COMPACTION_THRESHOLD_SHARE = 0.75;
/** After compacting, the turns left verbatim fit this share of the room. */
export const COMPACTION_TARGET_SHARE = 0.4;
/** The summary takes at most this share of the room. */
export const SUMMARY_SHARE = 0.25;
/** The newest turns never compacted, whatever their size. */
export const MIN_VERBATIM_TURNS = 2;
/** Characters kept of what the assistant said in a turn, of a call's arguments and of its result. */
export const SUMMARY_TEXT_CHARS = 160;
export const SUMMARY_ARGS_CHARS = 80;
export const SUMMARY_RESULT_CHARS = 160;

/** What a process has compacted so far (persisted with the process). */
export interface CompactionState {
  /** Messages at the start of the history that the summary stands for. */
  coveredMessages: number;
  /** Turns those messages make up (to number the summary's lines). */
  coveredTurns: number;
  /** One line per compacted turn, oldest first (the oldest may have been cut for the cap). */
  lines: string[];
  /** Lines cut from the front to keep the summary under its cap. */
  omittedLines: number;
  /** How many compactions produced this state. */
  compactions: number;
}

export const EMPTY_COMPACTION: CompactionState = {
  coveredMessages: 0,
  coveredTurns: 0,
  lines: [],
  omittedLines: 0,
  compactions: 0,
};

/** The summary turn's text for `state`, or null when nothing is compacted yet. */
export function summaryText(state: CompactionState): string | null {
  if (state.coveredMessages === 0) return null;
  const head = `[Summary of the first ${state.coveredMessages} messages of this conversation (turns 1-${state.coveredTurns}), compacted to fit the context window]`;
  const omitted =
    state.omittedLines > 0 ? [`(${state.omittedLines} older summary lines omitted)`] : [];
  return [head, ...omitted, ...state.lines].join("\n");
}

export interface CompactionInput {
  /** The whole stored conversation, oldest first. */
  history: ChatMessage[];
  state: CompactionState;
  /** Tokens the conversation (summary included) may fill. */
  roomTokens: number;
}

export interface CompactionPlan {
  state: CompactionState;
  /** Messages this compaction folded into the summary. */
  compactedMessages: number;
  /** Estimated tokens of summary plus verbatim turns, before and after. */
  tokensBefore: number;
  tokensAfter: number;
}

function truncate(text: string, chars: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= chars ? flat : `${flat.slice(0, chars - 1)}…`;
}

function summaryTokens(state: CompactionState): number {
  const text = summaryText(state);
  return text === null ? 0 : messageTokens({ role: "user", content: text });
}

function turnTokens(turn: ChatMessage[]): number {
  return turn.reduce((n, m) => n + messageTokens(m), 0);
}

/** True when every tool call the turn makes has its result inside the turn. */
function isComplete(turn: ChatMessage[]): boolean {
  const head = turn[0];
  if (head?.role !== "assistant") return true;
  const answered = new Set(turn.flatMap((m) => (m.role === "tool" ? [m.toolCallId] : [])));
  return head.toolCalls.every((c) => answered.has(c.id));
}

/** One summary line for a turn. */
export function summariseTurn(turn: ChatMessage[], turnNo: number): string {
  const head = turn[0];
  if (!head) return `turn ${turnNo}: (empty)`;
  if (head.role !== "assistant") {
    return `turn ${turnNo}: ${head.role} said "${truncate(head.content, SUMMARY_TEXT_CHARS)}"`;
  }
  const parts: string[] = [];
  if (head.content.trim()) parts.push(`said "${truncate(head.content, SUMMARY_TEXT_CHARS)}"`);
  for (const call of head.toolCalls) {
    const result = turn.find((m) => m.role === "tool" && m.toolCallId === call.id);
    const args = truncate(JSON.stringify(call.arguments) ?? "{}", SUMMARY_ARGS_CHARS);
    const outcome =
      result?.role !== "tool"
        ? "no result"
        : `${result.isError ? "error" : "ok"}: ${truncate(result.content, SUMMARY_RESULT_CHARS)}`;
    parts.push(`called ${call.name}(${args}) -> ${outcome}`);
  }
  return `turn ${turnNo}: ${parts.length > 0 ? parts.join("; ") : "(no text, no calls)"}`;
}

/**
 * The compaction to make before the next step, or null when the conversation still fits under
 * the threshold (or nothing may be compacted).
 *
 * @example planCompaction({ history, state: EMPTY_COMPACTION, roomTokens: 3000 })
 */
export function planCompaction(input: CompactionInput): CompactionPlan | null {
  const { state, roomTokens } = input;
  if (roomTokens <= 0) return null;
  const verbatim = turns(input.history.slice(state.coveredMessages));
  const verbatimTokens = verbatim.reduce((n, t) => n + turnTokens(t), 0);
  const tokensBefore = summaryTokens(state) + verbatimTokens;
  if (tokensBefore <= roomTokens * COMPACTION_THRESHOLD_SHARE) return null;

  let take = 0;
  let left = verbatimTokens;
  while (
    take < verbatim.length - MIN_VERBATIM_TURNS &&
    left > roomTokens * COMPACTION_TARGET_SHARE &&
    isComplete(verbatim[take]!)
  ) {
    left -= turnTokens(verbatim[take]!);
    take += 1;
  }
  if (take === 0) return null;

  const taken = verbatim.slice(0, take);
  const lines = [
    ...state.lines,
    ...taken.map((t, i) => summariseTurn(t, state.coveredTurns + i + 1)),
  ];
  let next: CompactionState = {
    coveredMessages: state.coveredMessages + taken.reduce((n, t) => n + t.length, 0),
    coveredTurns: state.coveredTurns + take,
    lines,
    omittedLines: state.omittedLines,
    compactions: state.compactions + 1,
  };
  // Keep the summary under its cap: the oldest lines go first (at least the header stays).
  const capTokens = Math.max(16, Math.floor(roomTokens * SUMMARY_SHARE));
  while (next.lines.length > 0 && summaryTokens(next) > capTokens) {
    next = { ...next, lines: next.lines.slice(1), omittedLines: next.omittedLines + 1 };
  }
  return {
    state: next,
    compactedMessages: next.coveredMessages - state.coveredMessages,
    tokensBefore,
    tokensAfter: summaryTokens(next) + left,
  };
}

/** Tokens the fixed part of every call takes: system prompt, goal and tool definitions. */
export function fixedTokens(system: string, goal: string, toolTokens: number): number {
  return estimateTextTokens(system) + messageTokens({ role: "user", content: goal }) + toolTokens;
}
