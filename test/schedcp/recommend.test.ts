/** Recommending policies for a workload class: tags, tunables, limitations, facts, history. */

import { describe, expect, it } from "vitest";
import { type PolicyCandidate, recommendPolicies } from "../../src/schedcp/recommend";
import { SAMPLE_POLICIES } from "./policy-fixtures";
import { facts } from "./telemetry-fixtures";

const candidates: PolicyCandidate[] = SAMPLE_POLICIES.map((e) => ({
  id: `spol_${e.name}`,
  name: e.name,
  useCases: e.useCases,
  tunables: e.tunables,
  limitations: e.limitations,
}));
const names = (r: ReturnType<typeof recommendPolicies>) => r.recommendations.map((x) => x.name);

describe("recommendations", () => {
  it("puts the latency policy first for a latency-sensitive workload, with its reasons", () => {
    const r = recommendPolicies("latency-sensitive", candidates);
    expect(names(r)).toEqual(["interactive"]);
    const top = r.recommendations[0]!;
    expect(top.score).toBe(3 + 2 + 1);
    expect(top.reasons).toEqual([
      "+3 tagged latency-sensitive",
      "+2 tagged interactive, request-serving, web",
      "+1 slice_us = 750: short slices (EEVDF's base slice, 0.75 ms) let woken tasks in sooner; wakeup_boost = true: woken tasks go first",
    ]);
    // The default wakeup_boost is already true: only the slice changes.
    expect(top.suggestedParameters).toEqual({ slice_us: 750 });
    expect(top.deployable).toBe(true);
  });

  it("penalises a policy whose limitations name what the class needs", () => {
    const fifo = candidates.find((c) => c.name === "fifo")!;
    const r = recommendPolicies("latency-sensitive", [{ ...fifo, useCases: ["latency"] }]);
    // +1 tag, +1 slice tunable, -2 limitations: not recommended.
    expect(r.recommendations).toEqual([]);
    const batch = recommendPolicies("cpu-bound-batch", candidates);
    expect(names(batch)).toEqual(["fifo"]);
    expect(batch.recommendations[0]!.suggestedParameters).toEqual({});
    expect(batch.recommendations[0]!.reasons.at(-1)).toContain("slice_us = 20000");
  });

  it("recommends the fair policy for a mixed workload and nothing for an unknown one", () => {
    expect(names(recommendPolicies("mixed", candidates))).toEqual(["vtime-fair"]);
    const unknown = recommendPolicies(null, candidates);
    expect(unknown.recommendations).toEqual([]);
    expect(unknown.notes[0]).toContain("no workload class");
  });

  it("says an idle workload needs no policy", () => {
    const r = recommendPolicies("idle", candidates);
    expect(r.recommendations).toEqual([]);
    expect(r.notes).toEqual([
      "an idle workload gains little from any scheduler: the kernel's default is fine",
    ]);
  });

  it("weighs the nodes' facts: NUMA limitations on a multi-socket node, no sched_ext", () => {
    const vtime = candidates.find((c) => c.name === "vtime-fair")!;
    const oneSocket = recommendPolicies("mixed", [vtime], { facts: [facts()] }).recommendations[0]!;
    const twoSockets = recommendPolicies("mixed", [vtime], {
      facts: [facts(), facts({ sockets: 2 })],
    }).recommendations[0]!;
    expect(twoSockets.score).toBe(oneSocket.score - 1);
    expect(twoSockets.reasons.at(-1)).toContain("several sockets");
    const noExt = recommendPolicies("mixed", [vtime], { facts: [facts({ schedExt: false })] });
    expect(noExt.recommendations[0]!.deployable).toBe(false);
    expect(noExt.notes[0]).toContain("no sched_ext");
  });

  it("learns from history on the same class, and leaves quarantined policies out", () => {
    const interactive = candidates.find((c) => c.name === "interactive")!;
    const base = recommendPolicies("latency-sensitive", [interactive]).recommendations[0]!.score;
    const improved = recommendPolicies("latency-sensitive", [interactive], {
      history: [
        { policyId: interactive.id, workloadClass: "latency-sensitive", outcome: "improved" },
        { policyId: interactive.id, workloadClass: "latency-sensitive", outcome: "improved" },
        { policyId: interactive.id, workloadClass: "latency-sensitive", outcome: "improved" },
        // Another class's history does not count.
        { policyId: interactive.id, workloadClass: "cpu-bound-batch", outcome: "regressed" },
      ],
    }).recommendations[0]!;
    expect(improved.score).toBe(base + 2);
    const regressed = recommendPolicies("latency-sensitive", [interactive], {
      history: [
        { policyId: interactive.id, workloadClass: "latency-sensitive", outcome: "rolled_back" },
        { policyId: interactive.id, workloadClass: "latency-sensitive", outcome: "regressed" },
        { policyId: interactive.id, workloadClass: "latency-sensitive", outcome: "regressed" },
      ],
    }).recommendations[0]!;
    expect(regressed.score).toBe(base - 4);
    const quarantined = recommendPolicies("latency-sensitive", [
      { ...interactive, quarantined: true },
    ]);
    expect(quarantined.recommendations).toEqual([]);
    expect(quarantined.excluded).toEqual([
      {
        policyId: interactive.id,
        name: "interactive",
        reason: "quarantined after failing on too many nodes",
      },
    ]);
  });
});
