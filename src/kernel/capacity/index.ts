/**
 * Model-pool capacity: token buckets, a concurrency cap, pool-wide 429 backoff and retry with
 * jittered exponential backoff. Pure: clocks and randomness are passed in.
 */

export {
  backoffDelayMs,
  classifyStatus,
  type FailureKind,
  MAX_RETRY_AFTER_MS,
  nextRetry,
  parseRetryAfterMs,
  type ResolvedRetryOptions,
  type RetryDecision,
  type RetryOptions,
  RetryOptionsSchema,
  resolveRetryOptions,
} from "./backoff.js";
export {
  type Admission,
  type CapacityConfig,
  CapacityConfigSchema,
  CapacityLimiter,
  type Limit,
  type LimiterOptions,
  type LimiterState,
  type Permit,
} from "./limiter.js";
export { createRng, deriveSeed, type Rng, Xoshiro128 } from "./random.js";
export { TokenBucket, type TokenBucketState } from "./token-bucket.js";
