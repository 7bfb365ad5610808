/**
 * Backend model A (a hosted API): a concurrency cap, requests/min and tokens/min buckets that
 * refill continuously, latency = TTFT(prefill) + decode × TPOT with a mild slowdown near the
 * cap, 429 with Retry-After when over a limit, and calls that cannot be preempted once sent.
 * The provider's buckets reuse the kernel's TokenBucket: the arithmetic is the same.
 */

import { TokenBucket } from "../../src/kernel/capacity/token-bucket.js";

export interface BackendParams {
  maxConcurrent: number;
  requestsPerMin: number;
  tokensPerMin: number;
  ttftBaseUs: number;
  ttftPerPrefillTokenUs: number;
  tpotUs: number;
  /** In-flight share of the cap above which calls slow down... */
  slowdownFrom: number;
  /** ...by up to this fraction at the cap. */
  slowdownMax: number;
  /** Probability that an attempt ends in a 502 part-way through. */
  failProbability: number;
}

/** BENCH-SCHED §2: TTFT = 300 ms + 0.1 ms/token, TPOT 20 ms, 1.25× at the cap. */
export const DEFAULT_BACKEND: BackendParams = {
  maxConcurrent: 64,
  requestsPerMin: 1_000_000,
  tokensPerMin: 1_000_000_000,
  ttftBaseUs: 300_000,
  ttftPerPrefillTokenUs: 100,
  tpotUs: 20_000,
  slowdownFrom: 0.8,
  slowdownMax: 0.25,
  failProbability: 0.01,
};

/** Latency of a call on an idle provider. */
export function baseLatencyUs(
  prefillTokens: number,
  decodeTokens: number,
  p: BackendParams,
): number {
  return p.ttftBaseUs + prefillTokens * p.ttftPerPrefillTokenUs + decodeTokens * p.tpotUs;
}

/** Latency multiplier with `inFlight` calls running (including the new one). */
export function slowdownFactor(inFlight: number, p: BackendParams): number {
  const from = p.slowdownFrom * p.maxConcurrent;
  if (inFlight <= from) return 1;
  const span = p.maxConcurrent - from;
  return 1 + (p.slowdownMax * Math.min(inFlight - from, span)) / span;
}

export type ProviderAnswer = { ok: true } | { ok: false; retryAfterMs: number };

/** The provider's side of the limits: what it enforces, whatever the client believes. */
export class Provider {
  private readonly requests: TokenBucket;
  private readonly tokens: TokenBucket;
  private running = 0;
  rateLimited = 0;

  constructor(
    readonly params: BackendParams,
    nowMs: number,
  ) {
    this.requests = new TokenBucket(params.requestsPerMin, params.requestsPerMin, nowMs);
    this.tokens = new TokenBucket(params.tokensPerMin, params.tokensPerMin, nowMs);
  }

  get inFlight(): number {
    return this.running;
  }

  /** Accepts a call (counting its prompt now) or answers 429 with a whole-second Retry-After. */
  admit(inputTokens: number, nowMs: number): ProviderAnswer {
    let waitMs = 0;
    if (this.running >= this.params.maxConcurrent) waitMs = 1_000;
    else if (!this.requests.canTake(1, nowMs)) waitMs = this.requests.msUntil(1, nowMs);
    else if (!this.tokens.canTake(inputTokens, nowMs))
      waitMs = this.tokens.msUntil(inputTokens, nowMs);
    else {
      this.running++;
      this.requests.take(1, nowMs);
      this.tokens.take(inputTokens, nowMs);
      return { ok: true };
    }
    this.rateLimited++;
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil(waitMs / 1_000)) * 1_000 };
  }

  /** A call ended; its output tokens count now (the bucket may go into debt). */
  finish(outputTokens: number, nowMs: number): void {
    this.running--;
    this.tokens.take(outputTokens, nowMs);
  }
}
