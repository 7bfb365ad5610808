/** Guards judged against a node's pre-deploy baseline: margin, floor, sustain, no evidence. */

import { describe, expect, it } from "vitest";
import { evaluateGuards, guardLimit, newTracker } from "../../src/schedcp/guards";
import type { Guard } from "../../src/schedcp/protocol/assignment";
import { report } from "./telemetry-fixtures";

const psi: Guard = { metric: "psiSomeAvg10Pct", maxIncreasePct: 50, floor: 5, sustainMs: 0 };
const delay: Guard = {
  metric: "meanRunDelayUs",
  maxIncreasePct: 100,
  floor: 200,
  sustainMs: 10_000,
};

describe("guards", () => {
  it("allow the margin over the baseline, and never trip below the floor", () => {
    expect(guardLimit(psi, 10)).toBe(15);
    expect(guardLimit(psi, 2)).toBe(5);
    const at = (value: number, base = 10) =>
      evaluateGuards(
        [psi],
        report({ psiSomePct: base }),
        report({ psiSomePct: value }),
        0,
        newTracker([psi]),
      ).verdict.kind;
    expect(at(15)).toBe("ok");
    expect(at(15.01)).toBe("regressed");
    // A baseline of 1%: tripling it to 3% is under the 5% floor, noise.
    expect(at(3, 1)).toBe("ok");
    expect(at(5, 1)).toBe("ok");
    expect(at(5.01, 1)).toBe("regressed");
  });

  it("trip only after the metric stays over its limit for sustainMs, and reset when it recovers", () => {
    const base = report({ runDelayUs: 300 });
    const over = report({ runDelayUs: 700 });
    let tracker = newTracker([delay]);
    const step = (r: ReturnType<typeof report>, atMs: number) => {
      const out = evaluateGuards([delay], base, r, atMs, tracker);
      tracker = out.tracker;
      return out.verdict.kind;
    };
    expect(step(over, 1_000)).toBe("violating");
    expect(step(over, 10_999)).toBe("violating");
    expect(step(report({ runDelayUs: 300 }), 11_000)).toBe("ok");
    expect(step(over, 12_000)).toBe("violating");
    expect(step(over, 22_000)).toBe("regressed");
  });

  it("see no evidence without the metric or without a baseline, and keep the clock running", () => {
    const tracker: Array<number | null> = [5_000];
    const noMetric = evaluateGuards(
      [delay],
      report(),
      report({ runDelayUs: null }),
      6_000,
      tracker,
    );
    expect(noMetric.verdict).toEqual({
      kind: "no_evidence",
      detail: "meanRunDelayUs: not in the report",
    });
    expect(noMetric.tracker).toEqual([5_000]);
    const noBaseline = evaluateGuards([psi], null, report(), 0, newTracker([psi]));
    expect(noBaseline.verdict).toEqual({
      kind: "no_evidence",
      detail: "psiSomeAvg10Pct: no baseline",
    });
    expect(evaluateGuards([], null, report(), 0, []).verdict.kind).toBe("ok");
  });
});
