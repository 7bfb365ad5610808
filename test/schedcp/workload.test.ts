/**
 * Workload analysis on crafted telemetry: each class at the edges of its thresholds, the
 * evidence a person reads, confidence, and label groups.
 */

import { describe, expect, it } from "vitest";
import { classifyGroup, classifyNode } from "../../src/schedcp/workload";
import {
  CSW_PER_CPU_BATCH_MAX,
  CSW_PER_CPU_LATENCY_MIN,
  FULL_CONFIDENCE_REPORTS,
  IDLE_BUSY_PCT_MAX,
  IDLE_LOAD_PER_CPU_MAX,
  IO_BOUND_BUSY_PCT_MAX,
  IO_BOUND_IOWAIT_PCT,
  IO_BOUND_LOAD_PER_CPU,
  PSI_SOME_CONTENDED_PCT,
  RUN_DELAY_CONTENDED_US,
  SATURATED_BUSY_PCT,
  SLICE_BATCH_MIN_US,
  SLICE_LATENCY_MAX_US,
} from "../../src/schedcp/workload-thresholds";
import type { Signal, SignalName, WorkloadProfile } from "../../src/schedcp/workload-types";
import { facts, type ReportSpec, window } from "./telemetry-fixtures";

const classify = (s: ReportSpec, n = FULL_CONFIDENCE_REPORTS) =>
  classifyNode({ nodeId: "n1", reports: window(n, s), facts: facts({ cpus: s.cpus ?? 4 }) });
const signal = (p: WorkloadProfile, name: SignalName): Signal =>
  p.signals.find((s) => s.name === name)!;

/** Timeslices over 1 s on `cpus` CPUs at `busyPct` that make the mean slice `sliceUs`. */
const slicesFor = (busyPct: number, sliceUs: number, cpus = 4) =>
  ((busyPct / 100) * cpus * 1_000_000) / sliceUs;

/** A CPU-bound batch machine: saturated, few switches, long slices, one program dominant. */
const BATCH: ReportSpec = {
  busyPct: 95,
  cswPerSec: 4 * 200,
  timeslices: slicesFor(95, 10_000),
  top: [
    ["cc1", 300],
    ["make", 5],
  ],
  load1: 6,
};
/** A request-serving machine: not saturated, wakeup-driven switching, short slices, stalls. */
const LATENCY: ReportSpec = {
  busyPct: 40,
  cswPerSec: 4 * 5_000,
  timeslices: slicesFor(40, 300),
  psiSomePct: 15,
  runDelayUs: 900,
  top: [
    ["nginx", 60],
    ["php-fpm", 40],
    ["redis", 20],
    ["node", 20],
  ],
};

describe("idle", () => {
  it("is idle just under the busy threshold, and not at it", () => {
    const under = classify({ busyPct: IDLE_BUSY_PCT_MAX - 0.01, load1: 0 });
    expect(under.class).toBe("idle");
    expect(signal(under, "cpuBusyPct")).toMatchObject({ pointsTo: "idle" });
    const at = classify({ busyPct: IDLE_BUSY_PCT_MAX, load1: 0 });
    expect(at.class).not.toBe("idle");
    expect(signal(at, "cpuBusyPct").pointsTo).toBeNull();
  });

  it("is not idle with a load per CPU at its threshold, or with I/O wait", () => {
    expect(classify({ busyPct: 2, load1: 4 * (IDLE_LOAD_PER_CPU_MAX - 0.01) }).class).toBe("idle");
    expect(classify({ busyPct: 2, load1: 4 * IDLE_LOAD_PER_CPU_MAX }).class).not.toBe("idle");
    expect(classify({ busyPct: 2, load1: 0, iowaitPct: IO_BOUND_IOWAIT_PCT }).class).toBe(
      "io-bound",
    );
  });
});

describe("io-bound", () => {
  it("is io-bound from the iowait threshold while the CPUs are not saturated", () => {
    expect(classify({ busyPct: 40, iowaitPct: IO_BOUND_IOWAIT_PCT }).class).toBe("io-bound");
    expect(classify({ busyPct: 40, iowaitPct: IO_BOUND_IOWAIT_PCT - 0.01 }).class).not.toBe(
      "io-bound",
    );
    // Saturated CPUs are the bottleneck whatever the iowait.
    const saturated = classify({ ...BATCH, busyPct: SATURATED_BUSY_PCT, iowaitPct: 15 });
    expect(saturated.class).toBe("cpu-bound-batch");
    expect(signal(saturated, "iowaitPct").note).toContain("saturated");
  });

  it("reads a load of blocked tasks as I/O when the CPUs are under half busy", () => {
    const blocked = classify({
      busyPct: IO_BOUND_BUSY_PCT_MAX - 0.1,
      load1: 4 * IO_BOUND_LOAD_PER_CPU,
    });
    expect(blocked.class).toBe("io-bound");
    expect(signal(blocked, "loadPerCpu")).toMatchObject({ pointsTo: "io-bound" });
    expect(
      classify({ busyPct: IO_BOUND_BUSY_PCT_MAX, load1: 4 * IO_BOUND_LOAD_PER_CPU }).class,
    ).not.toBe("io-bound");
    expect(classify({ busyPct: 30, load1: 4 * (IO_BOUND_LOAD_PER_CPU - 0.01) }).class).not.toBe(
      "io-bound",
    );
  });
});

describe("cpu-bound-batch and latency-sensitive", () => {
  it("classifies a build machine as cpu-bound-batch, with the evidence", () => {
    const p = classify(BATCH);
    expect(p.class).toBe("cpu-bound-batch");
    expect(p.confidence).toBeGreaterThan(0.8);
    expect(signal(p, "contextSwitchesPerSecPerCpu")).toMatchObject({
      value: 200,
      pointsTo: "cpu-bound-batch",
      thresholds: [
        { name: "CSW_PER_CPU_BATCH_MAX", value: CSW_PER_CPU_BATCH_MAX, comparison: "<", met: true },
        {
          name: "CSW_PER_CPU_LATENCY_MIN",
          value: CSW_PER_CPU_LATENCY_MIN,
          comparison: ">=",
          met: false,
        },
      ],
    });
    expect(signal(p, "meanSliceUs")).toMatchObject({ value: 10_000, pointsTo: "cpu-bound-batch" });
    expect(signal(p, "topProcessesCpuShare")).toMatchObject({ pointsTo: "cpu-bound-batch" });
    expect(signal(p, "topProcessesCpuShare").note).toContain("cc1");
    expect(p.topProcesses[0]).toEqual({ name: "cc1", cpuPct: 300, shareOfBusy: 0.79 });
    expect(p.summary).toBe("cpu-bound-batch: 3 batch vs 0 latency signals");
  });

  it("classifies a request-serving machine as latency-sensitive, with the evidence", () => {
    const p = classify(LATENCY);
    expect(p.class).toBe("latency-sensitive");
    expect(p.confidence).toBeGreaterThan(0.8);
    for (const name of [
      "psiCpuSomePct",
      "runDelayUs",
      "contextSwitchesPerSecPerCpu",
      "meanSliceUs",
    ] as const) {
      expect(signal(p, name).pointsTo, name).toBe("latency-sensitive");
    }
    expect(signal(p, "topProcessesCpuShare").pointsTo).toBeNull();
    expect(signal(p, "psiCpuFullPct")).toMatchObject({ value: 0, thresholds: [], pointsTo: null });
  });

  it("moves each signal across its threshold exactly at the named value", () => {
    const neutral: ReportSpec = { busyPct: 50 };
    const csw = (perCpu: number) =>
      signal(classify({ ...neutral, cswPerSec: 4 * perCpu }), "contextSwitchesPerSecPerCpu");
    expect(csw(CSW_PER_CPU_BATCH_MAX - 1).pointsTo).toBe("cpu-bound-batch");
    expect(csw(CSW_PER_CPU_BATCH_MAX).pointsTo).toBeNull();
    expect(csw(CSW_PER_CPU_LATENCY_MIN - 1).pointsTo).toBeNull();
    expect(csw(CSW_PER_CPU_LATENCY_MIN).pointsTo).toBe("latency-sensitive");

    const slice = (us: number) =>
      signal(classify({ ...neutral, timeslices: slicesFor(50, us) }), "meanSliceUs");
    expect(slice(SLICE_LATENCY_MAX_US - 1).pointsTo).toBe("latency-sensitive");
    expect(slice(SLICE_LATENCY_MAX_US).pointsTo).toBeNull();
    expect(slice(SLICE_BATCH_MIN_US - 1).pointsTo).toBeNull();
    expect(slice(SLICE_BATCH_MIN_US).pointsTo).toBe("cpu-bound-batch");

    const psi = (pct: number, busyPct = 50) =>
      signal(classify({ busyPct, psiSomePct: pct }), "psiCpuSomePct");
    expect(psi(PSI_SOME_CONTENDED_PCT - 0.01).pointsTo).toBeNull();
    expect(psi(PSI_SOME_CONTENDED_PCT).pointsTo).toBe("latency-sensitive");
    // Contention that saturation explains points nowhere.
    expect(psi(PSI_SOME_CONTENDED_PCT, SATURATED_BUSY_PCT).pointsTo).toBeNull();

    const delay = (us: number) => signal(classify({ ...neutral, runDelayUs: us }), "runDelayUs");
    expect(delay(RUN_DELAY_CONTENDED_US - 1).pointsTo).toBeNull();
    expect(delay(RUN_DELAY_CONTENDED_US).pointsTo).toBe("latency-sensitive");
  });

  it("decides on two thirds of the votes: one lone vote decides, one each way is mixed", () => {
    expect(classify({ busyPct: 50, cswPerSec: 4 * 100 }).class).toBe("cpu-bound-batch");
    const tie = classify({ busyPct: 50, cswPerSec: 4 * 100, timeslices: slicesFor(50, 300) });
    expect(tie.class).toBe("mixed");
    expect(tie.summary).toBe("mixed: 1 batch vs 1 latency signals");
    // Two to one is two thirds.
    expect(
      classify({ busyPct: 50, cswPerSec: 4 * 100, timeslices: slicesFor(50, 5000), psiSomePct: 20 })
        .class,
    ).toBe("cpu-bound-batch");
  });
});

describe("mixed and unknown", () => {
  it("calls a machine with CPU hogs next to wakeup-heavy services mixed", () => {
    const p = classify({
      busyPct: 70,
      cswPerSec: 4 * 3_000,
      top: [["trainer", 200]],
      timeslices: slicesFor(70, 2000),
    });
    expect(p.class).toBe("mixed");
    expect(signal(p, "topProcessesCpuShare").pointsTo).toBe("cpu-bound-batch");
    expect(signal(p, "contextSwitchesPerSecPerCpu").pointsTo).toBe("latency-sensitive");
  });

  it("is mixed with low confidence when no signal leans either way", () => {
    const p = classify({ busyPct: 50 });
    expect(p.class).toBe("mixed");
    expect(p.confidence).toBeLessThanOrEqual(0.3);
    expect(p.summary).toContain("no signal leans either way");
  });

  it("has no class without CPU utilisation, and says so", () => {
    const p = classify({ noCpu: true });
    expect(p.class).toBeNull();
    expect(p.confidence).toBe(0);
    expect(classifyNode({ nodeId: "n1", reports: [] }).class).toBeNull();
  });
});

describe("the window", () => {
  it("is less sure of a short window and of missing signals", () => {
    const full = classify(LATENCY, FULL_CONFIDENCE_REPORTS).confidence;
    const one = classify(LATENCY, 1).confidence;
    expect(one).toBeCloseTo(full / FULL_CONFIDENCE_REPORTS, 1);
    const sparse = classify({ ...LATENCY, top: null, load1: null, runDelayUs: null }).confidence;
    expect(sparse).toBeLessThan(full);
  });

  it("weighs reports by their interval and processes by name across reports", () => {
    const reports = [
      ...window(1, { busyPct: 90, intervalMs: 3000, top: [["a", 100]] }),
      ...window(1, { busyPct: 10, intervalMs: 1000, top: [["b", 40]] }),
    ];
    const p = classifyNode({ nodeId: "n", reports, facts: facts() });
    expect(signal(p, "cpuBusyPct").value).toBe(70);
    // a ran 100% for 3 of 4 seconds; b 40% for 1 of 4.
    expect(p.topProcesses.map((t) => [t.name, t.cpuPct])).toEqual([
      ["a", 75],
      ["b", 10],
    ]);
  });

  it("takes the CPU count from the per-CPU breakdown when the facts are missing", () => {
    const p = classifyNode({ nodeId: "n", reports: window(5, { cpus: 8, cswPerSec: 8 * 100 }) });
    expect(p.window.cpus).toBe(8);
    expect(signal(p, "contextSwitchesPerSecPerCpu").value).toBe(100);
  });
});

describe("label groups", () => {
  const node = (nodeId: string, s: ReportSpec, cpus = 4) => ({
    nodeId,
    reports: window(5, { ...s, cpus }),
    facts: facts({ cpus }),
  });

  it("takes the class two thirds of the busy CPUs agree on, ignoring idle nodes", () => {
    const g = classifyGroup([
      node("a", BATCH),
      node("b", BATCH),
      node("c", LATENCY),
      node("d", { busyPct: 1, load1: 0 }),
    ]);
    expect(g.nodes.map((n) => n.class)).toEqual([
      "cpu-bound-batch",
      "cpu-bound-batch",
      "latency-sensitive",
      "idle",
    ]);
    expect(g.class).toBe("cpu-bound-batch");
    expect(g.agreement).toBe(0.67);
    expect(g.window).toMatchObject({ reports: 20, cpus: 16 });
  });

  it("weighs nodes by their CPUs, and calls a split group mixed", () => {
    expect(
      classifyGroup([node("a", BATCH, 2), node("b", BATCH, 2), node("c", LATENCY, 16)]).class,
    ).toBe("latency-sensitive");
    const split = classifyGroup([node("a", BATCH), node("b", LATENCY)]);
    expect(split.class).toBe("mixed");
    expect(split.summary).toBe(
      "mixed: the busy nodes disagree (cpu-bound-batch 50%, latency-sensitive 50%)",
    );
  });

  it("is idle when every node is, and unknown without data", () => {
    expect(
      classifyGroup([node("a", { busyPct: 1, load1: 0 }), node("b", { busyPct: 2, load1: 0 })])
        .class,
    ).toBe("idle");
    expect(classifyGroup([{ nodeId: "a", reports: [] }]).class).toBeNull();
  });
});
