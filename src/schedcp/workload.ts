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

import type { NodeFacts, TelemetryReport } from "./protocol/telemetry.js";

export const WORKLOAD_CLASSES = [
  "cpu-bound-batch",
  "latency-sensitive",
  "mixed",
  "io-bound",
  "idle",
] as const;
export type WorkloadClass = (typeof WORKLOAD_CLASSES)[number];

/**
 * Use-case tags that mean each class, the class's own name first. Policies are matched to a
 * class by these (search `workload=` filter, recommendations).
 */
export const CLASS_TAGS: Readonly<Record<WorkloadClass, readonly string[]>> = {
  "cpu-bound-batch": ["cpu-bound-batch", "batch", "throughput", "hpc", "compute", "cpu-bound"],
  "latency-sensitive": [
    "latency-sensitive",
    "latency",
    "low-latency",
    "interactive",
    "request-serving",
    "web",
    "desktop",
    "gaming",
  ],
  mixed: ["mixed", "fair", "fairness", "general-purpose", "multi-tenant"],
  "io-bound": ["io-bound", "io", "storage", "database"],
  idle: ["idle", "power", "energy-saving"],
};

// ---------------------------------------------------------------------------------------------
// Thresholds. Each says where its value comes from.

/**
 * Below this share of CPU time busy, a machine is idle: AWS Trusted Advisor's "low utilization"
 * check flags instances whose daily CPU stays at or under 10%.
 */
export const IDLE_BUSY_PCT_MAX = 10;
/**
 * Load per CPU under which almost nothing is runnable or blocked: 0.2 tasks per CPU on average
 * (loadavg counts runnable and D-state tasks, kernel/sched/loadavg.c). Project choice, paired
 * with the 10% busy cut-off above.
 */
export const IDLE_LOAD_PER_CPU_MAX = 0.2;
/**
 * From this utilisation the CPU is the bottleneck: an M/M/1 queue's mean wait is ρ/(1-ρ)
 * service times, 4× at 80%, and grows without bound past it.
 */
export const SATURATED_BUSY_PCT = 80;
/**
 * I/O wait (idle time with I/O outstanding, proc(5)) from which the workload is I/O-bound:
 * a tenth of all CPU time spent waiting on storage. Project choice: an order of magnitude over
 * the ~1% a compute host shows.
 */
export const IO_BOUND_IOWAIT_PCT = 10;
/**
 * Load per CPU from which, with the CPUs under half busy, the load must be made of tasks
 * blocked in D state (uninterruptible I/O), since loadavg counts those as well as runnable ones.
 */
export const IO_BOUND_LOAD_PER_CPU = 1;
/** See IO_BOUND_LOAD_PER_CPU: at most half the load can be running tasks below this. */
export const IO_BOUND_BUSY_PCT_MAX = 50;
/**
 * PSI `cpu some` share from which tasks contend for CPUs. Documentation/accounting/psi.rst's
 * example monitor fires at 150 ms of stall per 1 s window (15%); we call 10% contended, so the
 * class turns before such a monitor would fire.
 */
export const PSI_SOME_CONTENDED_PCT = 10;
/**
 * Mean wait for a CPU per timeslice (/proc/schedstat run_delay/pcount) from which tasks
 * contend: one EEVDF base slice (sysctl_sched_base_slice, 0.75 ms in kernel/sched/fair.c).
 */
export const RUN_DELAY_CONTENDED_US = 750;
/**
 * Context switches per second per CPU under which tasks run until preempted by the tick
 * rather than waking and sleeping: a CPU-bound task is preempted at most once per tick, 250/s
 * at Debian's CONFIG_HZ=250, so under 500 the switches are mostly tick preemption.
 */
export const CSW_PER_CPU_BATCH_MAX = 500;
/**
 * Context switches per second per CPU from which switching is wakeup-driven: twice the tick
 * rate of CONFIG_HZ=1000, more than any tick can cause, so tasks sleep and wake (request
 * handlers, interactive programs).
 */
export const CSW_PER_CPU_LATENCY_MIN = 2_000;
/**
 * Mean time on CPU per timeslice from which tasks run until preempted: one tick at
 * CONFIG_HZ=250 (4 ms).
 */
export const SLICE_BATCH_MIN_US = 4_000;
/**
 * Mean time on CPU per timeslice under which tasks block before any slice would end: EEVDF's
 * base slice (0.75 ms).
 */
export const SLICE_LATENCY_MAX_US = 750;
/** A process using this share of one CPU or more (as `top` shows it) is CPU-bound. */
export const HOG_CPU_PCT = 90;
/**
 * Share of all busy CPU time held by the top processes from which a few programs dominate the
 * machine (a build, a training job). Project choice: well over half.
 */
export const TOP_SHARE_DOMINANT = 0.6;
/** How many of the top processes (by name) count towards TOP_SHARE_DOMINANT. */
export const TOP_PROCESSES_COUNTED = 3;
/** Share of the votes for one side that decides batch or latency; between is mixed. */
export const VOTE_SHARE_DECISIVE = 2 / 3;
/** Reports in a window for full confidence; fewer scale it down linearly. */
export const FULL_CONFIDENCE_REPORTS = 5;
/** Share of a group's (non-idle) CPUs that must agree on a class; otherwise the group is mixed. */
export const GROUP_AGREEMENT_MIN = 2 / 3;

/** Every threshold by name, as the evidence cites them. */
export const WORKLOAD_THRESHOLDS = {
  IDLE_BUSY_PCT_MAX,
  IDLE_LOAD_PER_CPU_MAX,
  SATURATED_BUSY_PCT,
  IO_BOUND_IOWAIT_PCT,
  IO_BOUND_LOAD_PER_CPU,
  IO_BOUND_BUSY_PCT_MAX,
  PSI_SOME_CONTENDED_PCT,
  RUN_DELAY_CONTENDED_US,
  CSW_PER_CPU_BATCH_MAX,
  CSW_PER_CPU_LATENCY_MIN,
  SLICE_BATCH_MIN_US,
  SLICE_LATENCY_MAX_US,
  HOG_CPU_PCT,
  TOP_SHARE_DOMINANT,
} as const;
export type ThresholdName = keyof typeof WORKLOAD_THRESHOLDS;

// ---------------------------------------------------------------------------------------------
// Inputs and outputs

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

// ---------------------------------------------------------------------------------------------
// Classification

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

interface Aggregate {
  busyPct: number | null;
  iowaitPct: number | null;
  psiSomePct: number | null;
  psiFullPct: number | null;
  runDelayUs: number | null;
  cswPerSecPerCpu: number | null;
  loadPerCpu: number | null;
  meanSliceUs: number | null;
  topProcesses: TopProcess[];
  topShare: number | null;
  hogs: string[];
  spanMs: number;
}

/** A weighted mean accumulator: reports weigh by their interval (equal weights when none has one). */
class Mean {
  private sum = 0;
  private weight = 0;
  add(value: number | null | undefined, weight: number): void {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    this.sum += value * weight;
    this.weight += weight;
  }
  get value(): number | null {
    return this.weight > 0 ? this.sum / this.weight : null;
  }
}

function aggregate(reports: ReadonlyArray<TimedReport & { cpus: number | null }>): Aggregate {
  const anyInterval = reports.some((r) => r.report.intervalMs > 0);
  const weightOf = (r: TelemetryReport) => (anyInterval ? r.intervalMs : 1);
  const busy = new Mean();
  const iowait = new Mean();
  const psiSome = new Mean();
  const psiFull = new Mean();
  const runDelay = new Mean();
  const csw = new Mean();
  const load = new Mean();
  let busyCpuUs = 0;
  let slices = 0;
  // By name: a build's many short-lived cc1 processes are one consumer. A name absent from a
  // report used nothing noticeable in it, so every name is averaged over the same reports.
  const processCpu = new Map<string, number>();
  let processWeight = 0;
  const busyCpuTotal = new Mean();
  for (const { report, cpus } of reports) {
    const w = weightOf(report);
    if (w <= 0) continue;
    const total = report.cpu?.total;
    busy.add(total?.busyPct, w);
    iowait.add(total?.iowaitPct, w);
    const some = report.pressure?.some;
    psiSome.add(some ? (some.intervalPct ?? some.avg10Pct) : null, w);
    const full = report.pressure?.full;
    psiFull.add(full ? (full.intervalPct ?? full.avg10Pct) : null, w);
    const rq = report.runQueue;
    // Run delay weighs by the timeslices it was measured over.
    if (rq && rq.meanRunDelayUs !== null && rq.timeslices > 0) {
      runDelay.add(rq.meanRunDelayUs, rq.timeslices);
    }
    if (cpus) {
      const perSec = report.contextSwitches?.perSec;
      csw.add(perSec === null || perSec === undefined ? null : perSec / cpus, w);
      load.add(report.loadAvg ? report.loadAvg.load1 / cpus : null, w);
      if (total && rq && rq.timeslices > 0 && report.intervalMs > 0) {
        busyCpuUs += (total.busyPct / 100) * cpus * report.intervalMs * 1000;
        slices += rq.timeslices;
      }
      if (total) busyCpuTotal.add(total.busyPct * cpus, w);
    }
    if (report.topProcesses) {
      processWeight += w;
      for (const p of report.topProcesses) {
        if (p.cpuPct !== null) processCpu.set(p.name, (processCpu.get(p.name) ?? 0) + p.cpuPct * w);
      }
    }
  }
  const busyCpuPct = busyCpuTotal.value; // CPU-percent units: 100 per busy CPU
  const topProcesses = [...processCpu.entries()]
    .map(([name, sum]) => ({ name, cpuPct: round2(processWeight > 0 ? sum / processWeight : 0) }))
    .sort((a, b) => b.cpuPct - a.cpuPct || a.name.localeCompare(b.name))
    .slice(0, 10)
    .map((p) => ({
      ...p,
      shareOfBusy: busyCpuPct && busyCpuPct > 0 ? round2(Math.min(1, p.cpuPct / busyCpuPct)) : null,
    }));
  const counted = topProcesses.slice(0, TOP_PROCESSES_COUNTED);
  const topShare =
    busyCpuPct && busyCpuPct > 0 && counted.length > 0
      ? Math.min(1, counted.reduce((s, p) => s + p.cpuPct, 0) / busyCpuPct)
      : null;
  const times = reports.map((r) => r.atMs);
  return {
    busyPct: busy.value,
    iowaitPct: iowait.value,
    psiSomePct: psiSome.value,
    psiFullPct: psiFull.value,
    runDelayUs: runDelay.value,
    cswPerSecPerCpu: csw.value,
    loadPerCpu: load.value,
    meanSliceUs: slices > 0 ? busyCpuUs / slices : null,
    topProcesses,
    topShare,
    hogs: topProcesses.filter((p) => p.cpuPct >= HOG_CPU_PCT).map((p) => p.name),
    spanMs: times.length > 0 ? Math.max(...times) - Math.min(...times) : 0,
  };
}

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
function signalsOf(a: Aggregate): Signal[] {
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

function round2(value: number): number;
function round2(value: number | null): number | null;
function round2(value: number | null): number | null {
  return value === null ? null : Math.round(value * 100) / 100;
}
function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length;
}
function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}
function fmt(value: number | null): string {
  return value === null ? "?" : String(round2(value));
}
