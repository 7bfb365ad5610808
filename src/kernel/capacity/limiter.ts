/**
 * A model pool's capacity: a concurrency cap, requests/min and tokens/min buckets, and a
 * pool-wide pause after a 429. The Scheduler asks `tryAcquire` before it dispatches a lease and
 * calls `release` when the lease ends; nothing here reads a clock or Math.random.
 */

import { z } from "zod";
import {
  backoffDelayMs,
  MAX_RETRY_AFTER_MS,
  type ResolvedRetryOptions,
  RetryOptionsSchema,
} from "./backoff.js";
import type { Rng } from "./random.js";
import { TokenBucket, TokenBucketStateSchema } from "./token-bucket.js";

/** Capacity limits as a pool's configuration states them. */
export const CapacityConfigSchema = z.object({
  maxConcurrent: z.number().int().min(1).max(100_000),
  requestsPerMin: z.number().int().min(1).max(100_000_000),
  tokensPerMin: z.number().int().min(1).max(10_000_000_000),
});
export type CapacityConfig = z.infer<typeof CapacityConfigSchema>;

export const LimiterOptionsSchema = z.object({
  /** Backoff used after a 429 that carries no Retry-After. */
  rateLimitBackoff: RetryOptionsSchema.prefault({ baseMs: 1_000, capMs: 60_000 }),
  /**
   * Treat a 429 as proof our buckets were optimistic and empty them, so that after the pause
   * the pool ramps up at the refill rate instead of bursting straight into another 429.
   */
  drainOnRateLimit: z.boolean().default(true),
});
export type LimiterOptions = z.input<typeof LimiterOptionsSchema>;

export type Limit = "backoff" | "concurrency" | "requests" | "tokens";

/** Whether a call may start now; if not, which limit and when to ask again (null: on a release). */
export type Admission = { ok: true } | { ok: false; limit: Limit; retryAtMs: number | null };

/** What `release` needs back; plain JSON so a Durable Object can store it with the lease. */
export interface Permit {
  estimatedTokens: number;
  acquiredAtMs: number;
}

export const LimiterStateSchema = z.object({
  inFlight: z.number().int().min(0),
  blockedUntilMs: z.number().int(),
  consecutiveRateLimits: z.number().int().min(0),
  requests: TokenBucketStateSchema,
  tokens: TokenBucketStateSchema,
});
export type LimiterState = z.infer<typeof LimiterStateSchema>;

/** Admission against a pool's capacity. */
export class CapacityLimiter {
  private readonly requests: TokenBucket;
  private readonly tokens: TokenBucket;
  private readonly rateLimitBackoff: ResolvedRetryOptions;
  private readonly drainOnRateLimit: boolean;
  private inFlightCount = 0;
  private blockedUntil = 0;
  private consecutiveRateLimits = 0;

  constructor(
    readonly config: CapacityConfig,
    nowMs: number,
    private readonly rng: Rng,
    options: LimiterOptions = {},
  ) {
    const c = CapacityConfigSchema.parse(config);
    const o = LimiterOptionsSchema.parse(options);
    this.requests = new TokenBucket(c.requestsPerMin, c.requestsPerMin, nowMs);
    this.tokens = new TokenBucket(c.tokensPerMin, c.tokensPerMin, nowMs);
    this.rateLimitBackoff = o.rateLimitBackoff;
    this.drainOnRateLimit = o.drainOnRateLimit;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** The pool is paused until then after a 429 (0 when never paused). */
  get blockedUntilMs(): number {
    return this.blockedUntil;
  }

  /** Tokens/min budget available now (negative while paying back output tokens). */
  tokensAvailable(nowMs: number): number {
    return this.tokens.available(nowMs);
  }

  /**
   * Whether a call estimated at `estimatedTokens` may start now. Pass 0 to ask whether any call
   * could start before choosing one.
   */
  check(estimatedTokens: number, nowMs: number): Admission {
    if (nowMs < this.blockedUntil) {
      return { ok: false, limit: "backoff", retryAtMs: this.blockedUntil };
    }
    if (this.inFlightCount >= this.config.maxConcurrent) {
      return { ok: false, limit: "concurrency", retryAtMs: null };
    }
    if (!this.requests.canTake(1, nowMs)) {
      return { ok: false, limit: "requests", retryAtMs: nowMs + this.requests.msUntil(1, nowMs) };
    }
    if (!this.tokens.canTake(estimatedTokens, nowMs)) {
      const waitMs = this.tokens.msUntil(estimatedTokens, nowMs);
      return { ok: false, limit: "tokens", retryAtMs: nowMs + waitMs };
    }
    return { ok: true };
  }

  /**
   * Takes capacity for one call if it fits. `estimatedTokens` is what the provider will count
   * up front (typically the prompt); `release` settles the difference.
   *
   * @example
   * const a = limiter.tryAcquire(prompt, nowMs);
   * if (a.ok) { await call(); limiter.release(a.permit, prompt + output, Date.now()); }
   */
  tryAcquire(
    estimatedTokens: number,
    nowMs: number,
  ): { ok: true; permit: Permit } | Extract<Admission, { ok: false }> {
    const admission = this.check(estimatedTokens, nowMs);
    if (!admission.ok) return admission;
    this.inFlightCount++;
    this.requests.take(1, nowMs);
    this.tokens.take(estimatedTokens, nowMs);
    return { ok: true, permit: { estimatedTokens, acquiredAtMs: nowMs } };
  }

  /**
   * Returns a permit when its call ends, however it ended (also for a reclaimed lease).
   * `usedTokens` is what the provider counted; the gap to the estimate is refunded or owed.
   */
  release(permit: Permit, usedTokens: number, nowMs: number): void {
    this.inFlightCount = Math.max(0, this.inFlightCount - 1);
    const extra = usedTokens - permit.estimatedTokens;
    if (extra > 0) this.tokens.take(extra, nowMs);
    else if (extra < 0) this.tokens.give(-extra, nowMs);
  }

  /**
   * A provider answered 429: pause the whole pool until its Retry-After (or, without one, for a
   * jittered exponential backoff that grows with consecutive 429s). Returns the pause's end.
   */
  onRateLimited(retryAfterMs: number | null, nowMs: number): number {
    this.consecutiveRateLimits++;
    const pauseMs =
      retryAfterMs !== null
        ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, retryAfterMs))
        : backoffDelayMs(this.consecutiveRateLimits, this.rateLimitBackoff, this.rng);
    this.blockedUntil = Math.max(this.blockedUntil, nowMs + pauseMs);
    if (this.drainOnRateLimit) {
      this.requests.drain(nowMs);
      this.tokens.drain(nowMs);
    }
    return this.blockedUntil;
  }

  /** A call succeeded: 429 backoff starts small again. */
  onSuccess(): void {
    this.consecutiveRateLimits = 0;
  }

  exportState(): LimiterState {
    return {
      inFlight: this.inFlightCount,
      blockedUntilMs: this.blockedUntil,
      consecutiveRateLimits: this.consecutiveRateLimits,
      requests: this.requests.exportState(),
      tokens: this.tokens.exportState(),
    };
  }

  importState(state: LimiterState): void {
    const s = LimiterStateSchema.parse(state);
    this.inFlightCount = s.inFlight;
    this.blockedUntil = s.blockedUntilMs;
    this.consecutiveRateLimits = s.consecutiveRateLimits;
    this.requests.importState(s.requests);
    this.tokens.importState(s.tokens);
  }
}
