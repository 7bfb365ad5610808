/**
 * A token bucket that refills continuously (not in per-minute steps), for requests/min and
 * tokens/min limits. The level may go negative: output tokens are only known when a call ends,
 * and that debt must be paid back before the next call, as providers do.
 *
 * The level is kept multiplied by 60,000 (ms per minute), so one millisecond of refill adds
 * exactly `refillPerMin` and all arithmetic stays on integers: no drift from summing fractions,
 * and a bucket at exactly zero is zero.
 */

import { z } from "zod";

const MS_PER_MIN = 60_000;

export const TokenBucketStateSchema = z.object({
  /** Level × 60,000. */
  levelScaled: z.number(),
  updatedAtMs: z.number().int(),
});
export type TokenBucketState = z.infer<typeof TokenBucketStateSchema>;

/** A continuously refilling bucket of `capacity` units, `refillPerMin` units per minute. */
export class TokenBucket {
  private levelScaled: number;
  private updatedAtMs: number;
  private readonly capacityScaled: number;

  constructor(
    readonly capacity: number,
    readonly refillPerMin: number,
    nowMs: number,
  ) {
    if (!(capacity > 0) || !(refillPerMin > 0)) {
      throw new RangeError("a token bucket needs a positive capacity and refill rate");
    }
    this.capacityScaled = capacity * MS_PER_MIN;
    this.levelScaled = this.capacityScaled;
    this.updatedAtMs = nowMs;
  }

  /** Units available now (negative while in debt). */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.levelScaled / MS_PER_MIN;
  }

  /**
   * Whether `units` can be taken now. A request larger than the whole bucket is allowed once the
   * bucket is full, or it could never run.
   */
  canTake(units: number, nowMs: number): boolean {
    this.refill(nowMs);
    return this.levelScaled >= this.needScaled(units);
  }

  /** Milliseconds until `units` can be taken (0 if now). */
  msUntil(units: number, nowMs: number): number {
    this.refill(nowMs);
    const short = this.needScaled(units) - this.levelScaled;
    return short <= 0 ? 0 : Math.ceil(short / this.refillPerMin);
  }

  /** Takes `units` unconditionally (the level may go negative). */
  take(units: number, nowMs: number): void {
    this.refill(nowMs);
    this.levelScaled -= units * MS_PER_MIN;
  }

  /** Returns `units` (an overestimate refunded), never above capacity. */
  give(units: number, nowMs: number): void {
    this.refill(nowMs);
    this.levelScaled = Math.min(this.capacityScaled, this.levelScaled + units * MS_PER_MIN);
  }

  /** Empties the bucket (keeping any debt): the provider said we are over its limit. */
  drain(nowMs: number): void {
    this.refill(nowMs);
    this.levelScaled = Math.min(this.levelScaled, 0);
  }

  exportState(): TokenBucketState {
    return { levelScaled: this.levelScaled, updatedAtMs: this.updatedAtMs };
  }

  importState(state: TokenBucketState): void {
    this.levelScaled = Math.min(this.capacityScaled, state.levelScaled);
    this.updatedAtMs = state.updatedAtMs;
  }

  private needScaled(units: number): number {
    return Math.max(0, Math.min(units, this.capacity)) * MS_PER_MIN;
  }

  private refill(nowMs: number): void {
    // A clock that steps back must not drain the bucket.
    if (nowMs <= this.updatedAtMs) return;
    const refilled = this.levelScaled + (nowMs - this.updatedAtMs) * this.refillPerMin;
    this.levelScaled = Math.min(this.capacityScaled, refilled);
    this.updatedAtMs = nowMs;
  }
}
