// Types for openai-server.mjs (plain JS so it runs under bare Node); see its header comment.

/** Token counts the stand-in reports; estimated from the text when absent. */
export interface StandinUsage {
  promptTokens?: number;
  completionTokens?: number;
}

/** One canned answer to one chat completions request. */
export type StandinReply =
  | { type: "text"; text: string; usage?: StandinUsage; finishReason?: string }
  | {
      type: "tool-calls";
      toolCalls: Array<{ id?: string; name: string; arguments: Record<string, unknown> | string }>;
      text?: string;
      usage?: StandinUsage;
      finishReason?: string;
    }
  | { type: "error"; status: number; headers?: Record<string, string>; body?: unknown }
  | { type: "hang" }
  | { type: "disconnect" };

/** A request the stand-in received. */
export interface StandinRecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** True when the client went away before it was answered. */
  aborted: boolean;
}

export declare const WAIT_CAP_MS: number;
export declare const MAX_BODY_BYTES: number;
export declare const MAX_RECORDED_PER_SCENARIO: number;

export declare function startOpenAiStandin(options?: {
  port?: number;
  host?: string;
}): Promise<{ port: number; close: () => Promise<void> }>;
