/**
 * Workload analysis: from a window of telemetry reports of one node, or of a label group,
 * which kind of workload runs there — `cpu-bound-batch`, `latency-sensitive`, `mixed`,
 * `io-bound` or `idle` — with every signal shown: its value, the named thresholds it was
 * compared with, and what it pointed to. Pure: the caller brings the reports (the Fleet
 * object keeps them) and gets a profile back.
 *
 * How the class is decided, in order:
 * 1. idle: the CPUs are nearly unused, no I/O wait, almost nothing runnable;
 * 2. io-bound: the CPUs are not saturated and tasks wait on I/O (iowait, or a load made of
 *    tasks blocked in D state);
 * 3. otherwise the CPU does the work, and signals vote: few context switches, long slices and
 *    a few processes holding most of the CPU vote for cpu-bound-batch; many wakeup-driven
 *    switches, short slices, and CPU contention while CPUs are free on average vote for
 *    latency-sensitive. Two thirds of the votes decide; anything in between is mixed.
 */

import { type Aggregate, aggregate } from "./workload-aggregate.js";
import type { WorkloadClass } from "./workload-classes.js";
import { fmt, mean, pct, round2 } from "./workload-format.js";
import { signalsOf } from "./workload-signals.js";
import {
  FULL_CONFIDENCE_REPORTS,
  GROUP_AGREEMENT_MIN,
  IDLE_LOAD_PER_CPU_MAX,
  IO_BOUND_IOWAIT_PCT,
  VOTE_SHARE_DECISIVE,
} from "./workload-thresholds.js";
import type {
  GroupWorkloadProfile,
  NodeWindow,
  SignalName,
  WorkloadProfile,
} from "./workload-types.js";

/**
 * The workload profile of one node over a window of its reports.
 *
 * @example classifyNode({ nodeId: "n1", reports: [{ atMs, report }], facts }).class // "latency-sensitive"
 */
export function classifyNode(window: NodeWindow): WorkloadProfile {
  const cpus = cpuCount(window);
  return profileOf(
    aggregate(window.reports.map((r) => ({ ...r, cpus }))),
    window.reports.length,
    cpus,
  );
}

/**
 * The workload profile of a label group: each node classified on its own, and the group's
 * class the one held by at least two thirds of the non-idle CPUs (mixed otherwise). The
 * signals are the whole group's, pooled.
 *
 * @example classifyGroup([windowA, windowB]).nodes.map((n) => n.class)
 */
export function classifyGroup(windows: readonly NodeWindow[]): GroupWorkloadProfile {
  const nodes = windows.map((w) => {
    const profile = classifyNode(w);
    return {
      nodeId: w.nodeId,
      class: profile.class,
      confidence: profile.confidence,
      cpus: cpuCount(w),
    };
  });
  const pooled = windows.flatMap((w) => {
    const cpus = cpuCount(w);
    return w.reports.map((r) => ({ ...r, cpus }));
  });
  const knownCpus = nodes.every((n) => n.cpus !== null)
    ? nodes.reduce((sum, n) => sum + (n.cpus ?? 0), 0)
    : null;
  const base = profileOf(aggregate(pooled), pooled.length, knownCpus);
  const classified = nodes.filter((n) => n.class !== null);
  if (classified.length === 0) return { ...base, class: null, confidence: 0, nodes, agreement: 0 };
  const busy = classified.filter((n) => n.class !== "idle");
  if (busy.length === 0) {
    const confidence = round2(mean(classified.map((n) => n.confidence)));
    return {
      ...base,
      class: "idle",
      confidence,
      summary: `idle: all ${classified.length} nodes are idle`,
      nodes,
      agreement: 1,
    };
  }
  const weight = (n: (typeof nodes)[number]) => n.cpus ?? 1;
  const total = busy.reduce((s, n) => s + weight(n), 0);
  const byClass = new Map<WorkloadClass, number>();
  for (const n of busy) byClass.set(n.class!, (byClass.get(n.class!) ?? 0) + weight(n));
  const [topClass, topWeight] = [...byClass.entries()].sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  )[0]!;
  const agreement = round2(topWeight / total);
  if (topWeight / total >= GROUP_AGREEMENT_MIN) {
    const members = busy.filter((n) => n.class === topClass);
    return {
      ...base,
      class: topClass,
      confidence: round2(agreement * mean(members.map((n) => n.confidence))),
      summary: `${topClass}: ${members.length} of ${busy.length} busy nodes (${pct(agreement)} of their CPUs) agree`,
      nodes,
      agreement,
    };
  }
  const split = [...byClass.entries()].map(([c, w]) => `${c} ${pct(w / total)}`).join(", ");
  return {
    ...base,
    class: "mixed",
    // An even split is as mixed as it gets; near the agreement line, less so.
    confidence: round2(Math.min(1, 2 * (1 - agreement)) * mean(busy.map((n) => n.confidence))),
    summary: `mixed: the busy nodes disagree (${split})`,
    nodes,
    agreement,
  };
}

/** The node's online CPUs: from its facts, else the widest per-CPU breakdown it reported. */
function cpuCount(window: NodeWindow): number | null {
  const fromFacts = window.facts?.cpus?.onlineCount;
  if (fromFacts) return fromFacts;
  let widest = 0;
  for (const { report } of window.reports) {
    widest = Math.max(widest, report.cpu?.perCpu.length ?? 0, report.runQueue?.perCpu.length ?? 0);
  }
  return widest > 0 ? widest : null;
}

const VOTING: readonly SignalName[] = [
  "psiCpuSomePct",
  "runDelayUs",
  "contextSwitchesPerSecPerCpu",
  "meanSliceUs",
  "topProcessesCpuShare",
];

function profileOf(a: Aggregate, reports: number, cpus: number | null): WorkloadProfile {
  const signals = signalsOf(a);
  const window = { reports, spanMs: a.spanMs, cpus };
  const base = { signals, topProcesses: a.topProcesses, window };
  if (a.busyPct === null) {
    return {
      ...base,
      class: null,
      confidence: 0,
      summary: "unknown: no CPU utilisation in the window",
    };
  }
  const by = (name: SignalName) => signals.find((s) => s.name === name)!;
  const available = signals.filter((s) => s.name !== "psiCpuFullPct" && s.value !== null).length;
  // Short windows and missing signals make any verdict less sure.
  const scale = Math.min(1, reports / FULL_CONFIDENCE_REPORTS) * (0.5 + (0.5 * available) / 8);
  const done = (cls: WorkloadClass, agreement: number, summary: string): WorkloadProfile => ({
    ...base,
    class: cls,
    confidence: round2(Math.max(0, Math.min(1, agreement * scale))),
    summary,
  });

  const idleOk =
    by("cpuBusyPct").pointsTo === "idle" &&
    (a.iowaitPct === null || a.iowaitPct < IO_BOUND_IOWAIT_PCT) &&
    (a.loadPerCpu === null || a.loadPerCpu < IDLE_LOAD_PER_CPU_MAX);
  if (idleOk) {
    // Contention on an idle machine would be odd: it lowers confidence.
    const against = by("psiCpuSomePct").thresholds[0]?.met || by("runDelayUs").thresholds[0]?.met;
    return done("idle", against ? 0.6 : 1, `idle: ${fmt(a.busyPct)}% busy`);
  }

  const ioVotes = [by("iowaitPct"), by("loadPerCpu")].filter((s) => s.pointsTo === "io-bound");
  if (ioVotes.length > 0) {
    const possible = [a.iowaitPct, a.loadPerCpu].filter((v) => v !== null).length;
    return done(
      "io-bound",
      ioVotes.length / Math.max(1, possible),
      `io-bound: ${fmt(a.iowaitPct)}% iowait at ${fmt(a.busyPct)}% busy`,
    );
  }

  const votes = VOTING.map(by).filter((s) => s.pointsTo !== null);
  const batch = votes.filter((s) => s.pointsTo === "cpu-bound-batch").length;
  const latency = votes.filter((s) => s.pointsTo === "latency-sensitive").length;
  const tally = `${batch} batch vs ${latency} latency signals`;
  if (batch + latency === 0) {
    return done("mixed", 0.3, `mixed: no signal leans either way at ${fmt(a.busyPct)}% busy`);
  }
  const batchShare = batch / (batch + latency);
  // More votes, more certainty: one lone vote is worth two thirds of three agreeing.
  const weight = Math.min(1, (batch + latency + 1) / 4);
  if (batchShare >= VOTE_SHARE_DECISIVE)
    return done("cpu-bound-batch", batchShare * weight, `cpu-bound-batch: ${tally}`);
  if (1 - batchShare >= VOTE_SHARE_DECISIVE) {
    return done("latency-sensitive", (1 - batchShare) * weight, `latency-sensitive: ${tally}`);
  }
  return done(
    "mixed",
    (1 - Math.abs(batch - latency) / (batch + latency)) * weight,
    `mixed: ${tally}`,
  );
}
