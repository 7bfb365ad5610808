/**
 * What the workload analysis takes (a node's window of timed reports) and what it gives back
 * (a profile: class, confidence and the signals behind them).
 */

import type { NodeFacts, TelemetryReport } from "./protocol/telemetry.js";
import type { WorkloadClass } from "./workload-classes.js";
import type { ThresholdName } from "./workload-thresholds.js";

/** One report and when it arrived. */
export interface TimedReport {
  atMs: number;
  report: TelemetryReport;
}

/** A node's window: its reports and, when known, its facts (for the CPU count). */
export interface NodeWindow {
  nodeId: string;
  reports: readonly TimedReport[];
  facts?: NodeFacts | null;
}

export const SIGNAL_NAMES = [
  "cpuBusyPct",
  "iowaitPct",
  "psiCpuSomePct",
  "psiCpuFullPct",
  "runDelayUs",
  "contextSwitchesPerSecPerCpu",
  "loadPerCpu",
  "meanSliceUs",
  "topProcessesCpuShare",
] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

export interface ThresholdComparison {
  name: ThresholdName;
  value: number;
  comparison: "<" | ">=";
  /** Whether the signal's value met it. */
  met: boolean;
}

/** One piece of evidence. */
export interface Signal {
  name: SignalName;
  /** The window's value; null when no report carried it. */
  value: number | null;
  unit: string;
  thresholds: ThresholdComparison[];
  /** The class this signal points to, or null when it points nowhere in particular. */
  pointsTo: WorkloadClass | null;
  /** Why, in a sentence. */
  note: string;
}

export interface TopProcess {
  name: string;
  /** Mean share of one CPU over the window (200 = two CPUs' worth). */
  cpuPct: number;
  /** Share of all busy CPU time, 0-1; null without a CPU count. */
  shareOfBusy: number | null;
}

export interface WorkloadProfile {
  /** Null when the window holds no CPU utilisation at all. */
  class: WorkloadClass | null;
  /** 0-1: how much the evidence agrees, scaled down for short windows and missing signals. */
  confidence: number;
  /** One line a person reads first. */
  summary: string;
  signals: Signal[];
  topProcesses: TopProcess[];
  window: {
    reports: number;
    /** From the first report to the last, ms. */
    spanMs: number;
    /** Online CPUs (summed over a group's nodes); null when unknown. */
    cpus: number | null;
  };
}

export interface GroupWorkloadProfile extends WorkloadProfile {
  nodes: Array<{
    nodeId: string;
    class: WorkloadClass | null;
    confidence: number;
    cpus: number | null;
  }>;
  /** Share of the non-idle CPUs whose node has the group's class (1 when all agree). */
  agreement: number;
}
