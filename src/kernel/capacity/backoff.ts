/**
 * Retrying failed model calls: which failures are worth retrying, exponential backoff with full
 * jitter (AWS's "full jitter": uniform in [0, min(cap, base·2^attempt))), a bounded number of
 * attempts, and parsing Retry-After.
 */

import { z } from "zod";
import type { Rng } from "./random.js";

export const RetryOptionsSchema = z.object({
  baseMs: z.number().int().min(1).max(60_000).default(500),
  capMs: z.number().int().min(1).max(600_000).default(30_000),
  /** Total attempts including the first; the bound that turns a flapping provider into a failure. */
  maxAttempts: z.number().int().min(1).max(20).default(5),
});
export type RetryOptions = z.input<typeof RetryOptionsSchema>;
export type ResolvedRetryOptions = z.output<typeof RetryOptionsSchema>;

/** How a failed call should be treated. */
export type FailureKind = "rate_limited" | "transient" | "fatal";

/**
 * Classifies an HTTP status, or null for a connection reset / timeout with no response.
 *
 * @example classifyStatus(503) // "transient"
 */
export function classifyStatus(status: number | null): FailureKind {
  if (status === null) return "transient";
  if (status === 429) return "rate_limited";
  if (status === 408 || status === 500 || status === 502 || status === 503 || status === 504) {
    return "transient";
  }
  return "fatal";
}

/**
 * The delay before retry number `attempt` (1 for the first retry): uniform in
 * [0, min(capMs, baseMs·2^(attempt−1))). Full jitter spreads a crowd of clients that failed
 * together, so they do not come back together.
 */
export function backoffDelayMs(attempt: number, options: ResolvedRetryOptions, rng: Rng): number {
  const ceilingMs = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(rng.nextFloat() * ceilingMs);
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: "attempts_exhausted" | "not_retryable" };

/**
 * Whether and when to retry after `attemptsMade` attempts ended in `status`. A 429 waits for its
 * Retry-After when given; otherwise backoff with full jitter.
 *
 * @example nextRetry(1, 502, null, resolveRetryOptions({}), rng) // { retry: true, delayMs: 0..499 }
 */
export function nextRetry(
  attemptsMade: number,
  status: number | null,
  retryAfterMs: number | null,
  options: ResolvedRetryOptions,
  rng: Rng,
): RetryDecision {
  const kind = classifyStatus(status);
  if (kind === "fatal") return { retry: false, reason: "not_retryable" };
  if (attemptsMade >= options.maxAttempts) return { retry: false, reason: "attempts_exhausted" };
  if (kind === "rate_limited" && retryAfterMs !== null) {
    return { retry: true, delayMs: Math.max(0, retryAfterMs) };
  }
  return { retry: true, delayMs: backoffDelayMs(attemptsMade, options, rng) };
}

/** Fills in retry defaults. */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  return RetryOptionsSchema.parse(options);
}

/** Retry-After beyond this is treated as this: a provider must not park a pool for a day. */
export const MAX_RETRY_AFTER_MS = 600_000;

/**
 * Parses a Retry-After header (delta-seconds or an HTTP date) into milliseconds from `nowMs`,
 * capped at MAX_RETRY_AFTER_MS; null when absent or unparseable.
 *
 * @example parseRetryAfterMs("2", nowMs) // 2000
 */
export function parseRetryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) {
    return Math.min(MAX_RETRY_AFTER_MS, Math.ceil(Number(text) * 1_000));
  }
  const atMs = Date.parse(text);
  if (Number.isNaN(atMs)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, atMs - nowMs));
}
