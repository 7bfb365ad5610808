/**
 * The evidence of a workload profile: each signal of an aggregated window with the named
 * thresholds it was compared with and the class it points to.
 */

import type { Aggregate } from "./workload-aggregate.js";
import { round2 } from "./workload-format.js";
import {
  HOG_CPU_PCT,
  SATURATED_BUSY_PCT,
  type ThresholdName,
  WORKLOAD_THRESHOLDS,
} from "./workload-thresholds.js";
import type { Signal, ThresholdComparison } from "./workload-types.js";

function cmp(
  name: ThresholdName,
  value: number | null,
  comparison: "<" | ">=",
): ThresholdComparison {
  const threshold = WORKLOAD_THRESHOLDS[name];
  const met = value !== null && (comparison === "<" ? value < threshold : value >= threshold);
  return { name, value: threshold, comparison, met };
}

/** Each signal with its comparisons and what it points to. */
export function signalsOf(a: Aggregate): Signal[] {
  const saturated = a.busyPct !== null && a.busyPct >= SATURATED_BUSY_PCT;
  const unsaturated = a.busyPct !== null && !saturated;
  const signals: Signal[] = [];

  const busyIdle = cmp("IDLE_BUSY_PCT_MAX", a.busyPct, "<");
  const busySat = cmp("SATURATED_BUSY_PCT", a.busyPct, ">=");
  signals.push({
    name: "cpuBusyPct",
    value: round2(a.busyPct),
    unit: "%",
    thresholds: [busyIdle, busySat],
    pointsTo: busyIdle.met ? "idle" : null,
    note:
      a.busyPct === null
        ? "no CPU utilisation reported"
        : busyIdle.met
          ? "the CPUs are nearly unused"
          : busySat.met
            ? "the CPUs are saturated: CPU is the bottleneck"
            : "the CPUs do real work without saturating",
  });

  const io = cmp("IO_BOUND_IOWAIT_PCT", a.iowaitPct, ">=");
  signals.push({
    name: "iowaitPct",
    value: round2(a.iowaitPct),
    unit: "%",
    thresholds: [io],
    pointsTo: io.met && !saturated ? "io-bound" : null,
    note:
      a.iowaitPct === null
        ? "no iowait reported"
        : io.met
          ? saturated
            ? "much I/O wait, but the CPUs are saturated all the same"
            : "CPUs sit idle while tasks wait on I/O"
          : "little time waiting on I/O",
  });

  const psi = cmp("PSI_SOME_CONTENDED_PCT", a.psiSomePct, ">=");
  signals.push({
    name: "psiCpuSomePct",
    value: round2(a.psiSomePct),
    unit: "%",
    thresholds: [psi],
    pointsTo: psi.met && unsaturated ? "latency-sensitive" : null,
    note:
      a.psiSomePct === null
        ? "no CPU pressure reported"
        : psi.met
          ? unsaturated
            ? "tasks stall for a CPU though CPUs are free on average: bursts of wakeups"
            : "tasks stall for a CPU, as saturation explains"
          : "tasks rarely stall for a CPU",
  });

  signals.push({
    name: "psiCpuFullPct",
    value: round2(a.psiFullPct),
    unit: "%",
    thresholds: [],
    pointsTo: null,
    note: "for the whole system the kernel reports CPU full as 0 (psi.rst: undefined at system level); it counts only in cgroups",
  });

  const delay = cmp("RUN_DELAY_CONTENDED_US", a.runDelayUs, ">=");
  signals.push({
    name: "runDelayUs",
    value: round2(a.runDelayUs),
    unit: "µs",
    thresholds: [delay],
    pointsTo: delay.met && unsaturated ? "latency-sensitive" : null,
    note:
      a.runDelayUs === null
        ? "no run-queue delay reported"
        : delay.met
          ? unsaturated
            ? "tasks wait over a base slice for a CPU though CPUs are free on average"
            : "tasks wait for a CPU, as saturation explains"
          : "tasks get a CPU within a base slice",
  });

  const cswLow = cmp("CSW_PER_CPU_BATCH_MAX", a.cswPerSecPerCpu, "<");
  const cswHigh = cmp("CSW_PER_CPU_LATENCY_MIN", a.cswPerSecPerCpu, ">=");
  signals.push({
    name: "contextSwitchesPerSecPerCpu",
    value: round2(a.cswPerSecPerCpu),
    unit: "/s/CPU",
    thresholds: [cswLow, cswHigh],
    pointsTo: cswLow.met ? "cpu-bound-batch" : cswHigh.met ? "latency-sensitive" : null,
    note:
      a.cswPerSecPerCpu === null
        ? "no context-switch rate (or no CPU count) reported"
        : cswLow.met
          ? "tasks run until the tick preempts them"
          : cswHigh.met
            ? "switching is wakeup-driven: tasks sleep and wake"
            : "between tick-driven and wakeup-driven switching",
  });

  const loadIdle = cmp("IDLE_LOAD_PER_CPU_MAX", a.loadPerCpu, "<");
  const loadIo = cmp("IO_BOUND_LOAD_PER_CPU", a.loadPerCpu, ">=");
  const halfBusy = cmp("IO_BOUND_BUSY_PCT_MAX", a.busyPct, "<");
  const blocked = loadIo.met && halfBusy.met;
  signals.push({
    name: "loadPerCpu",
    value: round2(a.loadPerCpu),
    unit: "tasks/CPU",
    thresholds: [loadIdle, loadIo, halfBusy],
    pointsTo: loadIdle.met ? "idle" : blocked ? "io-bound" : null,
    note:
      a.loadPerCpu === null
        ? "no load average (or no CPU count) reported"
        : loadIdle.met
          ? "almost nothing runnable or blocked"
          : blocked
            ? "a load of a task per CPU with the CPUs under half busy: tasks blocked in D state"
            : "tasks are runnable",
  });

  const sliceLong = cmp("SLICE_BATCH_MIN_US", a.meanSliceUs, ">=");
  const sliceShort = cmp("SLICE_LATENCY_MAX_US", a.meanSliceUs, "<");
  signals.push({
    name: "meanSliceUs",
    value: round2(a.meanSliceUs),
    unit: "µs",
    thresholds: [sliceShort, sliceLong],
    pointsTo: sliceLong.met ? "cpu-bound-batch" : sliceShort.met ? "latency-sensitive" : null,
    note:
      a.meanSliceUs === null
        ? "no timeslice count (or no CPU count) reported"
        : sliceLong.met
          ? "tasks run a tick or longer each time they get a CPU"
          : sliceShort.met
            ? "tasks block before a base slice ends"
            : "tasks run between a base slice and a tick",
  });

  const dominant = cmp("TOP_SHARE_DOMINANT", a.topShare, ">=");
  const hog = {
    name: "HOG_CPU_PCT" as const,
    value: HOG_CPU_PCT,
    comparison: ">=" as const,
    met: a.hogs.length > 0,
  };
  signals.push({
    name: "topProcessesCpuShare",
    value: round2(a.topShare),
    unit: "share of busy CPU",
    thresholds: [dominant, hog],
    pointsTo: dominant.met && hog.met ? "cpu-bound-batch" : null,
    note:
      a.topShare === null
        ? "no top processes (or no CPU count) reported"
        : dominant.met && hog.met
          ? `a few CPU-bound programs hold most of the CPU (${a.hogs.slice(0, 3).join(", ")})`
          : "no few programs dominate the CPU",
  });
  return signals;
}
