import { describe, expect, it } from "vitest";
import {
  backoffDelayMs,
  CapacityLimiter,
  classifyStatus,
  createRng,
  deriveSeed,
  MAX_RETRY_AFTER_MS,
  nextRetry,
  parseRetryAfterMs,
  resolveRetryOptions,
  TokenBucket,
} from "../../src/kernel/capacity";

describe("seeded random", () => {
  it("repeats the same sequence for the same seed and differs across seeds and streams", () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 5 }, () => rng.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(deriveSeed(1, "arrivals")).not.toBe(deriveSeed(1, "failures"));
    expect(deriveSeed(2 ** 40 + 1, "x")).not.toBe(deriveSeed(1, "x"));
  });

  it("draws floats in [0, 1) and resumes exactly from exported state", () => {
    const rng = createRng(9);
    for (let i = 0; i < 1_000; i++) {
      const x = rng.nextFloat();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    const copy = createRng(0);
    copy.importState(rng.exportState());
    expect(copy.nextUint32()).toBe(rng.nextUint32());
  });
});

describe("TokenBucket", () => {
  it("refills continuously, not in per-minute steps, and never above capacity", () => {
    const bucket = new TokenBucket(600, 600, 0);
    bucket.take(600, 0);
    expect(bucket.available(1_000)).toBeCloseTo(10);
    expect(bucket.available(30_000)).toBeCloseTo(300);
    expect(bucket.available(10 * 60_000)).toBe(600);
  });

  it("says how long until a request fits, and lets a request larger than the bucket through when full", () => {
    const bucket = new TokenBucket(1_000, 60_000, 0); // 1 token per ms
    bucket.take(1_000, 0);
    expect(bucket.canTake(250, 0)).toBe(false);
    expect(bucket.msUntil(250, 0)).toBe(250);
    expect(bucket.canTake(250, 250)).toBe(true);
    expect(bucket.canTake(5_000, 999)).toBe(false);
    expect(bucket.canTake(5_000, 1_000)).toBe(true);
  });

  it("goes into debt for tokens counted after the fact and pays it back before admitting more", () => {
    const bucket = new TokenBucket(100, 6_000, 0); // 0.1 token per ms
    bucket.take(100, 0);
    bucket.take(50, 0); // output tokens reported at completion
    expect(bucket.available(0)).toBe(-50);
    expect(bucket.canTake(0, 499)).toBe(false);
    expect(bucket.canTake(0, 500)).toBe(true);
  });

  it("does not drain when the clock steps back", () => {
    const bucket = new TokenBucket(100, 100, 1_000);
    bucket.take(10, 1_000);
    expect(bucket.available(500)).toBe(90);
  });
});

describe("CapacityLimiter", () => {
  const config = { maxConcurrent: 2, requestsPerMin: 3, tokensPerMin: 1_000 };

  it("caps concurrency until a permit is released", () => {
    const limiter = new CapacityLimiter(config, 0, createRng(1));
    const a = limiter.tryAcquire(10, 0);
    const b = limiter.tryAcquire(10, 0);
    expect(a.ok && b.ok).toBe(true);
    expect(limiter.tryAcquire(10, 0)).toEqual({ ok: false, limit: "concurrency", retryAtMs: null });
    if (a.ok) limiter.release(a.permit, 10, 5);
    expect(limiter.check(10, 5).ok).toBe(true);
    expect(limiter.inFlight).toBe(1);
  });

  it("limits requests per minute and says when the next one fits", () => {
    const limiter = new CapacityLimiter({ ...config, maxConcurrent: 10 }, 0, createRng(1));
    for (let i = 0; i < 3; i++) expect(limiter.tryAcquire(1, 0).ok).toBe(true);
    expect(limiter.check(1, 0)).toEqual({ ok: false, limit: "requests", retryAtMs: 20_000 });
    expect(limiter.check(1, 20_000).ok).toBe(true);
  });

  it("limits tokens per minute and settles the estimate against real usage on release", () => {
    const limiter = new CapacityLimiter({ ...config, requestsPerMin: 100 }, 0, createRng(1));
    const a = limiter.tryAcquire(600, 0);
    if (!a.ok) throw new Error("first call must fit");
    expect(limiter.check(600, 0)).toMatchObject({ ok: false, limit: "tokens" });
    limiter.release(a.permit, 900, 0); // 300 output tokens on top of the prompt
    expect(limiter.tokensAvailable(0)).toBe(100);
    expect(limiter.check(600, 0)).toEqual({ ok: false, limit: "tokens", retryAtMs: 30_000 });
  });

  it("backs off the whole pool after a 429 with Retry-After", () => {
    const limiter = new CapacityLimiter({ ...config, maxConcurrent: 10 }, 0, createRng(1));
    expect(limiter.onRateLimited(2_000, 100)).toBe(2_100);
    expect(limiter.check(0, 2_099)).toEqual({ ok: false, limit: "backoff", retryAtMs: 2_100 });
    // The buckets were emptied: after the pause the pool ramps up at the refill rate.
    expect(limiter.check(1, 2_100)).toMatchObject({ ok: false, limit: "requests" });
    expect(limiter.check(1, 20_100).ok).toBe(true);
  });

  it("without Retry-After pauses for a jittered, growing, capped backoff, the same for the same seed", () => {
    const pauses = (seed: number) => {
      const limiter = new CapacityLimiter(config, 0, createRng(seed), {
        rateLimitBackoff: { baseMs: 1_000, capMs: 8_000 },
        drainOnRateLimit: false,
      });
      return Array.from({ length: 8 }, () => limiter.onRateLimited(null, 0));
    };
    const a = pauses(5);
    expect(a).toEqual(pauses(5));
    // blockedUntil only ever extends; each draw is below min(cap, base·2^(n−1)).
    for (let i = 1; i < a.length; i++) expect(a[i]).toBeGreaterThanOrEqual(a[i - 1] as number);
    expect(Math.max(...a)).toBeLessThan(8_000);
  });

  it("round-trips its state as JSON", () => {
    const limiter = new CapacityLimiter(config, 0, createRng(1));
    limiter.tryAcquire(400, 10);
    limiter.onRateLimited(1_000, 20);
    const copy = new CapacityLimiter(config, 0, createRng(1));
    copy.importState(JSON.parse(JSON.stringify(limiter.exportState())));
    expect(copy.exportState()).toEqual(limiter.exportState());
    expect(copy.check(0, 500)).toEqual(limiter.check(0, 500));
  });
});

describe("retry with backoff", () => {
  const options = resolveRetryOptions({ baseMs: 100, capMs: 1_000, maxAttempts: 4 });

  it("classifies statuses: 429 is rate limited, 5xx and resets are transient, 4xx is fatal", () => {
    expect(classifyStatus(429)).toBe("rate_limited");
    for (const s of [500, 502, 503, 504, 408, null]) expect(classifyStatus(s)).toBe("transient");
    for (const s of [400, 401, 403, 404, 422]) expect(classifyStatus(s)).toBe("fatal");
  });

  it("draws full jitter below min(cap, base·2^(attempt−1))", () => {
    const rng = createRng(2);
    for (let attempt = 1; attempt <= 8; attempt++) {
      const ceiling = Math.min(1_000, 100 * 2 ** (attempt - 1));
      for (let i = 0; i < 200; i++) {
        const d = backoffDelayMs(attempt, options, rng);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
    }
  });

  it("retries transient failures a bounded number of times and never retries a 4xx", () => {
    const rng = createRng(3);
    for (let made = 1; made < 4; made++)
      expect(nextRetry(made, 502, null, options, rng).retry).toBe(true);
    expect(nextRetry(4, 502, null, options, rng)).toEqual({
      retry: false,
      reason: "attempts_exhausted",
    });
    expect(nextRetry(1, 400, null, options, rng)).toEqual({
      retry: false,
      reason: "not_retryable",
    });
    expect(nextRetry(1, 429, 3_000, options, rng)).toEqual({ retry: true, delayMs: 3_000 });
  });

  it("parses Retry-After as seconds or an HTTP date, capped", () => {
    const nowMs = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfterMs("2", nowMs)).toBe(2_000);
    expect(parseRetryAfterMs("0.5", nowMs)).toBe(500);
    expect(parseRetryAfterMs("Thu, 01 Jan 2026 00:00:07 GMT", nowMs)).toBe(7_000);
    expect(parseRetryAfterMs("86400", nowMs)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfterMs("soon", nowMs)).toBeNull();
    expect(parseRetryAfterMs(null, nowMs)).toBeNull();
  });
});
