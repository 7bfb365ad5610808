/**
 * A token bucket that refills continuously (not in per-minute steps), for requests/min and
 * tokens/min limits. The level may go negative: output tokens are only known when a call ends,
 * and that debt must be paid back before the next call, as providers do.
 */

import { z } from "zod";

export const TokenBucketStateSchema = z.object({
  level: z.number(),
  updatedAtMs: z.number().int(),
});
export type TokenBucketState = z.infer<typeof TokenBucketStateSchema>;

/** A continuously refilling bucket of `capacity` units, `refillPerMin` units per minute. */
export class TokenBucket {
  private level: number;
  private updatedAtMs: number;

  constructor(
    readonly capacity: number,
    readonly refillPerMin: number,
    nowMs: number,
  ) {
    if (!(capacity > 0) || !(refillPerMin > 0)) {
      throw new RangeError("a token bucket needs a positive capacity and refill rate");
    }
    this.level = capacity;
    this.updatedAtMs = nowMs;
  }

  /** Units available now (negative while in debt). */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.level;
  }

  /**
   * Whether `units` can be taken now. A request larger than the whole bucket is allowed once the
   * bucket is full, or it could never run.
   */
  canTake(units: number, nowMs: number): boolean {
    this.refill(nowMs);
    return this.level >= this.need(units);
  }

  /** Milliseconds until `units` can be taken (0 if now). */
  msUntil(units: number, nowMs: number): number {
    this.refill(nowMs);
    const short = this.need(units) - this.level;
    return short <= 0 ? 0 : Math.ceil((short * 60_000) / this.refillPerMin);
  }

  /** Takes `units` unconditionally (the level may go negative). */
  take(units: number, nowMs: number): void {
    this.refill(nowMs);
    this.level -= units;
  }

  /** Returns `units` (an overestimate refunded), never above capacity. */
  give(units: number, nowMs: number): void {
    this.refill(nowMs);
    this.level = Math.min(this.capacity, this.level + units);
  }

  /** Empties the bucket (keeping any debt): the provider said we are over its limit. */
  drain(nowMs: number): void {
    this.refill(nowMs);
    this.level = Math.min(this.level, 0);
  }

  exportState(): TokenBucketState {
    return { level: this.level, updatedAtMs: this.updatedAtMs };
  }

  importState(state: TokenBucketState): void {
    this.level = Math.min(this.capacity, state.level);
    this.updatedAtMs = state.updatedAtMs;
  }

  private need(units: number): number {
    return Math.max(0, Math.min(units, this.capacity));
  }

  private refill(nowMs: number): void {
    // A clock that steps back must not drain the bucket.
    if (nowMs <= this.updatedAtMs) return;
    const refilled = this.level + ((nowMs - this.updatedAtMs) * this.refillPerMin) / 60_000;
    this.level = Math.min(this.capacity, refilled);
    this.updatedAtMs = nowMs;
  }
}
