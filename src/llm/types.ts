/**
 * One interface for every model provider. The agent loop builds a `ModelRequest`, a provider
 * turns it into its wire format and back, and failures come back as `ModelCallError` with the
 * HTTP status and Retry-After so the scheduler can back off the whole pool or retry.
 */

import { z } from "zod";

/** A tool the model may call: a name, what it does, and its arguments as JSON Schema. */
export interface ModelTool {
  name: string;
  description: string;
  /** JSON Schema (draft 2020-12 subset) of the arguments object. */
  inputSchema: Record<string, unknown>;
}

export const ToolCallSchema = z.object({
  /** Provider-assigned id, echoed back with the result. */
  id: z.string(),
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

/** One turn of the conversation, in the provider-neutral form the process stores. */
export const ChatMessageSchema = z.discriminatedUnion("role", [
  z.object({ role: z.literal("user"), content: z.string() }),
  z.object({
    role: z.literal("assistant"),
    content: z.string(),
    toolCalls: z.array(ToolCallSchema).default([]),
  }),
  z.object({
    role: z.literal("tool"),
    toolCallId: z.string(),
    toolName: z.string(),
    /** JSON text of the tool's result (or error). */
    content: z.string(),
    isError: z.boolean().default(false),
  }),
]);
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export interface ModelRequest {
  system: string;
  messages: ChatMessage[];
  tools: ModelTool[];
  /** Hard cap on output tokens; the scheduler sets it so budget overspend stays bounded. */
  maxOutputTokens: number;
  /** Aborted when the process is terminated mid-call. */
  signal?: AbortSignal;
  /**
   * Assistant turns in the whole conversation, including any the context window left out.
   * The scripted model replays by this count, so trimming cannot make it repeat a turn.
   */
  assistantTurnsSoFar?: number;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ModelResponse {
  text: string;
  toolCalls: ToolCall[];
  usage: ModelUsage;
  finishReason: "stop" | "tool-calls" | "length" | "other";
}

/** A model behind one interface. Implementations never retry: the scheduler decides that. */
export interface ModelClient {
  /** `provider:model` as the agent type names it, e.g. `anthropic:claude-sonnet-4-5`. */
  readonly id: string;
  generate(request: ModelRequest): Promise<ModelResponse>;
}

/**
 * A failed model call. `status` is the provider's HTTP status (null: no response, e.g. a reset
 * or timeout); `retryAfterMs` is parsed from Retry-After when the provider sent one.
 */
export class ModelCallError extends Error {
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  readonly aborted: boolean;

  constructor(
    message: string,
    options: { status: number | null; retryAfterMs?: number | null; aborted?: boolean },
  ) {
    super(message);
    this.name = "ModelCallError";
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs ?? null;
    this.aborted = options.aborted ?? false;
  }
}
