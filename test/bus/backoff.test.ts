/** The bus consumer's retry backoff: exponential from 1 s, capped at a minute. */

import { describe, expect, it } from "vitest";
import { RETRY_CAP_SECONDS, retryDelaySeconds } from "../../src/bus/consumer.js";

describe("retry backoff", () => {
  it("doubles per attempt from one second and stops at the cap", () => {
    expect([1, 2, 3, 4].map(retryDelaySeconds)).toEqual([1, 2, 4, 8]);
    expect(retryDelaySeconds(7)).toBe(RETRY_CAP_SECONDS);
    expect(retryDelaySeconds(100)).toBe(RETRY_CAP_SECONDS);
    // A first attempt reported as 0 (never seen, but bounded anyway) waits the base delay.
    expect(retryDelaySeconds(0)).toBe(1);
  });
});
