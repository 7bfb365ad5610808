/**
 * AI SDK failures → `ModelCallError`. The scheduler decides what to do from the status alone:
 * 429 backs off the pool for `retryAfterMs`, 5xx and null (no response) are retried with
 * backoff, other 4xx fail the process. Errors the SDK raises before sending anything (a prompt
 * or argument it rejects) can never succeed on retry, so they are reported as 400.
 */

import {
  APICallError,
  InvalidArgumentError,
  InvalidPromptError,
  RetryError,
  UnsupportedFunctionalityError,
} from "ai";
import { ModelCallError } from "../types.js";

/**
 * Longest back-off honoured from a Retry-After header: a buggy or hostile header must not park
 * a whole pool for days.
 */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** A header's value by case-insensitive name. */
function header(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/**
 * Milliseconds to wait before calling again, from `retry-after-ms` (milliseconds, preferred:
 * finer) or `retry-after` (delta seconds or an HTTP date); null when neither parses. Capped at
 * `MAX_RETRY_AFTER_MS`; a date in the past gives 0.
 *
 * @example parseRetryAfterMs({ "retry-after": "2" }, Date.now()) // 2000
 * @example parseRetryAfterMs({ "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" }, nowMs)
 */
export function parseRetryAfterMs(
  headers: Readonly<Record<string, string>> | undefined,
  nowMs: number,
): number | null {
  if (headers === undefined) return null;
  const clamp = (ms: number) => Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.ceil(ms)));
  const ms = header(headers, "retry-after-ms")?.trim();
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms)) return clamp(Number(ms));
  const after = header(headers, "retry-after")?.trim();
  if (after === undefined || after === "") return null;
  if (/^\d+(\.\d+)?$/.test(after)) return clamp(Number(after) * 1000);
  // Only something shaped like an HTTP date (a month name and a clock time, in any of the
  // three RFC 9110 formats): Date.parse alone reads "-5" or "2026" as dates.
  if (!/[A-Za-z]{3}/.test(after) || !/\d{1,2}:\d{2}:\d{2}/.test(after)) return null;
  const dateMs = Date.parse(after);
  return Number.isNaN(dateMs) ? null : clamp(dateMs - nowMs);
}

/** True for the errors `fetch` and the SDK raise on cancellation (not always `Error`s). */
function isAbortError(error: unknown): boolean {
  return (
    (error instanceof Error || error instanceof DOMException) &&
    (error.name === "AbortError" || error.name === "TimeoutError")
  );
}

/**
 * Maps anything an AI SDK call threw to a `ModelCallError` for model `modelId`: the HTTP status
 * and Retry-After of an `APICallError`, `aborted` when `signal` fired or the call was cancelled,
 * status 400 for requests the SDK refused to send, and status null for everything else
 * (network failures, unparsable replies).
 *
 * @example
 * try { await generateText(…) } catch (e) { throw toModelCallError(e, "openai:gpt-4o", signal) }
 */
export function toModelCallError(
  error: unknown,
  modelId: string,
  signal?: AbortSignal,
  nowMs: number = Date.now(),
): ModelCallError {
  if (error instanceof ModelCallError) return error;
  if (signal?.aborted || isAbortError(error)) {
    return new ModelCallError(`${modelId}: call aborted`, { status: null, aborted: true });
  }
  // With maxRetries 0 the SDK throws the call's own error, but unwrap a RetryError anyway in
  // case a provider retries internally.
  if (RetryError.isInstance(error))
    return toModelCallError(error.lastError, modelId, signal, nowMs);
  if (APICallError.isInstance(error)) {
    return new ModelCallError(`${modelId}: ${error.message}`, {
      status: error.statusCode ?? null,
      retryAfterMs: parseRetryAfterMs(error.responseHeaders, nowMs),
    });
  }
  if (
    InvalidPromptError.isInstance(error) ||
    InvalidArgumentError.isInstance(error) ||
    UnsupportedFunctionalityError.isInstance(error)
  ) {
    return new ModelCallError(`${modelId}: request not sent: ${error.message}`, { status: 400 });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ModelCallError(`${modelId}: ${message}`, { status: null });
}
