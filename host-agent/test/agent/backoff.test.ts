import { describe, expect, it } from "vitest";
import { backoffCapMs, RECONNECT, reconnectDelayMs } from "../../src/agent/backoff.js";

describe("reconnect backoff", () => {
  it("doubles the cap from the base delay up to the maximum, and stays there", () => {
    const caps = Array.from({ length: 8 }, (_, attempt) => backoffCapMs(attempt));
    expect(caps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(backoffCapMs(1_000)).toBe(RECONNECT.maxDelayMs);
    expect(backoffCapMs(-1)).toBe(RECONNECT.baseDelayMs);
  });

  it("draws the delay uniformly below the cap (full jitter)", () => {
    expect(reconnectDelayMs(3, () => 0)).toBe(0);
    expect(reconnectDelayMs(3, () => 0.5)).toBe(4_000);
    // Math.random() is below 1: the cap itself is never reached.
    expect(reconnectDelayMs(3, () => 0.999_999)).toBe(7_999);
    expect(reconnectDelayMs(40, () => 0.999_999)).toBeLessThan(RECONNECT.maxDelayMs);
  });

  it("spreads a fleet's retries over the whole window", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = Array.from({ length: 1_000 }, () => reconnectDelayMs(5, random));
    const quarter = RECONNECT.maxDelayMs / 4;
    const buckets = [0, 1, 2, 3].map(
      (q) => delays.filter((d) => d >= q * quarter && d < (q + 1) * quarter).length,
    );
    for (const count of buckets) expect(count).toBeGreaterThan(150);
  });

  it("takes a custom policy", () => {
    expect(reconnectDelayMs(2, () => 0.5, { baseDelayMs: 10, maxDelayMs: 25 })).toBe(12);
    expect(backoffCapMs(4, { baseDelayMs: 10, maxDelayMs: 25 })).toBe(25);
  });
});
