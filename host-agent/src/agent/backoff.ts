/**
 * Reconnection delays: exponential backoff with full jitter (a uniformly random delay between 0
 * and the exponential cap), so a fleet that lost its control plane at the same instant does not
 * come back in lockstep. Pure: the randomness is passed in.
 */

/** Bounds of the reconnect delay, and when a connection counts as healthy again. */
export const RECONNECT = {
  /** The cap of the first retry's delay. */
  baseDelayMs: 1_000,
  /** No retry waits longer than this. */
  maxDelayMs: 30_000,
  /** A connection welcomed and up this long resets the backoff to its base. */
  stableAfterMs: 10_000,
} as const;

export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * The delay before retry number `attempt` (0 for the first retry): uniform in
 * `[0, min(maxDelayMs, baseDelayMs * 2^attempt))`.
 *
 * @example reconnectDelayMs(3, () => 0.5) // 4000 with the defaults (half of 8 s)
 */
export function reconnectDelayMs(
  attempt: number,
  random: () => number,
  policy: BackoffPolicy = RECONNECT,
): number {
  return Math.floor(random() * backoffCapMs(attempt, policy));
}

/** The upper bound of retry `attempt`'s delay. */
export function backoffCapMs(attempt: number, policy: BackoffPolicy = RECONNECT): number {
  // 2^31 already exceeds any sane cap; clamping the exponent keeps the arithmetic finite.
  const exponential = policy.baseDelayMs * 2 ** Math.min(Math.max(attempt, 0), 31);
  return Math.min(policy.maxDelayMs, exponential);
}
