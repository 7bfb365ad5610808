/**
 * The built-in offline `scripted` model, FOR LOCAL DEMOS AND TESTS ONLY: it does not think, it
 * replays assistant turns given to it as data (by the agent type or at spawn), in order.
 *
 * It is deterministic so that a process resumed after a crash sees exactly the answers it would
 * have seen: the turn played is the number of assistant messages already in the conversation,
 * and tool call ids are `call_<turn>_<i>`. It behaves like a real provider where the agent loop
 * can tell the difference: usage is reported (estimated unless the turn gives it), a turn longer
 * than `maxOutputTokens` is cut off with finish reason `length`, an aborted call rejects with
 * `ModelCallError { aborted: true }`, and running out of turns is a fatal (non-retryable) error.
 */

import { z } from "zod";
import { CHARS_PER_TOKEN, estimateInputTokens } from "./estimate.js";
import {
  ModelCallError,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  type ToolCall,
} from "./types.js";

/** Most turns one script may hold (matches the `spawn` tool's cap on a child's script). */
export const MAX_SCRIPTED_TURNS = 256;
/** Longest a scripted turn may take. */
export const MAX_SCRIPTED_DELAY_MS = 60_000;
/** Most tool calls one scripted turn may make. */
export const MAX_SCRIPTED_TOOL_CALLS_PER_TURN = 16;
/** Longest one turn may be, as JSON text: keeps a turn within a sane model reply. */
export const MAX_SCRIPTED_TURN_CHARS = 32_000;
/** Longest a whole script may be, as JSON text: it is stored with the process. */
export const MAX_SCRIPT_CHARS = 256_000;
/** Largest token count a turn may claim in `usage`. */
export const MAX_SCRIPTED_USAGE_TOKENS = 10_000_000;

const tokenCount = z.number().int().min(0).max(MAX_SCRIPTED_USAGE_TOKENS);

/** JSON length of a value, or Infinity when it is not JSON (so size checks reject it). */
function jsonChars(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** One assistant turn to replay: text, tool calls, or both; usage overrides the estimate. */
export const ScriptedTurnSchema = z
  .strictObject({
    text: z.string().optional(),
    toolCalls: z
      .array(
        z.strictObject({
          name: z
            .string()
            .regex(/^[A-Za-z0-9_.-]{1,64}$/, "a tool name: 1-64 of A-Z a-z 0-9 _ . -"),
          arguments: z.record(z.string(), z.unknown()),
        }),
      )
      .max(MAX_SCRIPTED_TOOL_CALLS_PER_TURN)
      .optional(),
    usage: z
      .strictObject({ inputTokens: tokenCount.optional(), outputTokens: tokenCount.optional() })
      .optional(),
    /** How long the call takes, as a slow provider would: for tests of pause, abort, leases. */
    delayMs: z.number().int().min(0).max(MAX_SCRIPTED_DELAY_MS).optional(),
  })
  .refine((turn) => jsonChars(turn) <= MAX_SCRIPTED_TURN_CHARS, {
    message: `a scripted turn is at most ${MAX_SCRIPTED_TURN_CHARS} characters of JSON`,
  });
export type ScriptedTurn = z.infer<typeof ScriptedTurnSchema>;

/** A whole script: the turns in the order the model plays them. */
export const ScriptSchema = z
  .array(ScriptedTurnSchema)
  .max(MAX_SCRIPTED_TURNS)
  .refine((turns) => jsonChars(turns) <= MAX_SCRIPT_CHARS, {
    message: `a script is at most ${MAX_SCRIPT_CHARS} characters of JSON`,
  });

/**
 * Tokens a turn's reply costs when the script does not say: its text and its tool calls as the
 * provider would emit them.
 */
function estimateOutputTokens(text: string, toolCalls: readonly ToolCall[]): number {
  let chars = text.length;
  for (const call of toolCalls) chars += call.name.length + JSON.stringify(call.arguments).length;
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/**
 * Plays turn `turnIndex` of `script` for `request`. Pure: the same inputs give the same reply.
 *
 * @example playScriptedTurn([{ text: "hi" }], 0, request) // { text: "hi", finishReason: "stop", … }
 */
export function playScriptedTurn(
  script: readonly ScriptedTurn[],
  turnIndex: number,
  request: ModelRequest,
): ModelResponse {
  const turn = script[turnIndex];
  if (turn === undefined) {
    // Exhaustion is a mistake in the script, not a transient failure: a 4xx status makes the
    // agent loop fail the process instead of retrying the same call forever.
    throw new ModelCallError(
      `scripted model has no turn ${turnIndex} (the script has ${script.length} turns)`,
      { status: 400 },
    );
  }
  const text = turn.text ?? "";
  const toolCalls: ToolCall[] = (turn.toolCalls ?? []).map((call, i) => ({
    id: `call_${turnIndex}_${i}`,
    name: call.name,
    arguments: call.arguments,
  }));
  const inputTokens = turn.usage?.inputTokens ?? estimateInputTokens(request);
  const outputTokens = turn.usage?.outputTokens ?? estimateOutputTokens(text, toolCalls);
  if (outputTokens > request.maxOutputTokens) {
    // A real model stops at the cap mid-reply; do the same so budget overspend stays bounded
    // by the cap the scheduler set. Cut-off tool calls are lost, as they would be.
    return {
      text: text.slice(0, request.maxOutputTokens * CHARS_PER_TOKEN),
      toolCalls: [],
      usage: { inputTokens, outputTokens: request.maxOutputTokens },
      finishReason: "length",
    };
  }
  return {
    text,
    toolCalls,
    usage: { inputTokens, outputTokens },
    finishReason: toolCalls.length > 0 ? "tool-calls" : "stop",
  };
}

/**
 * The `scripted` model over `script`. For local demos and tests only (see the file comment).
 * Throws `TypeError` when the script breaks `ScriptSchema`: callers validate it at the API edge,
 * so reaching here with a bad one is a bug.
 *
 * @example
 * const model = createScriptedModel([
 *   { toolCalls: [{ name: "finish", arguments: { result: "done" } }] },
 * ]);
 * const reply = await model.generate({ system: "", messages: [], tools: [], maxOutputTokens: 256 });
 * // reply.toolCalls[0] → { id: "call_0_0", name: "finish", arguments: { result: "done" } }
 */
export function createScriptedModel(script: readonly ScriptedTurn[]): ModelClient {
  const parsed = ScriptSchema.safeParse(script);
  if (!parsed.success) throw new TypeError(`invalid script: ${z.prettifyError(parsed.error)}`);
  const turns = parsed.data;
  return {
    id: "scripted",
    async generate(request: ModelRequest): Promise<ModelResponse> {
      if (request.signal?.aborted) {
        throw new ModelCallError("scripted model call aborted", { status: null, aborted: true });
      }
      const turnIndex =
        request.assistantTurnsSoFar ??
        request.messages.filter((m) => m.role === "assistant").length;
      const delayMs = turns[turnIndex]?.delayMs ?? 0;
      if (delayMs > 0) await sleepUnlessAborted(delayMs, request.signal);
      return playScriptedTurn(turns, turnIndex, request);
    },
  };
}

/** Waits `ms`, or rejects as an aborted call as soon as `signal` fires. */
function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer);
      reject(new ModelCallError("scripted model call aborted", { status: null, aborted: true }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }, ms);
    signal?.addEventListener("abort", aborted, { once: true });
  });
}
