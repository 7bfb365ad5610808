import type { PidStat } from "./parsers/pid-stat.js";
import type { Pressure, PressureLine } from "./parsers/pressure.js";
import type { CpuTimes, ProcStat } from "./parsers/proc-stat.js";
import type { Schedstat } from "./parsers/schedstat.js";
import type { CpuUtilisation, TelemetryReport } from "./protocol.js";

/*
 * Pure arithmetic over two samples of kernel counters. Nothing here reads files or clocks, so
 * every rule (clamping, pid reuse, empty intervals) is tested on literal numbers.
 */

/** The processes seen in one scan of the proc root. */
export interface ProcessTable {
  byPid: ReadonlyMap<number, PidStat>;
  /** Whether the scan stopped at its limit, leaving some processes unseen. */
  truncated: boolean;
}

/** Everything read from the kernel at one instant that the deltas need. */
export interface TelemetrySample {
  /** When the sample was taken, by a monotonic clock. */
  takenAtMs: number;
  stat: ProcStat | null;
  schedstat: Schedstat | null;
  pressure: Pressure | null;
  processes: ProcessTable | null;
}

/** The part of a report computed from two samples alone. */
export type TelemetryDeltas = Omit<TelemetryReport, "loadAvg" | "warnings">;

/**
 * Computes a report's interval fields from two samples, `before` taken first.
 *
 * @example
 * const deltas = computeDeltas(first, second, { topProcessCount: 5 });
 * deltas.cpu?.total.busyPct;
 */
export function computeDeltas(
  before: TelemetrySample,
  after: TelemetrySample,
  options: { topProcessCount: number },
): TelemetryDeltas {
  const intervalMs = round(Math.max(0, after.takenAtMs - before.takenAtMs), 3);
  const statBefore = before.stat;
  const statAfter = after.stat;
  const bothStats = statBefore !== null && statAfter !== null;
  return {
    intervalMs,
    cpu: bothStats ? cpuReport(statBefore, statAfter) : null,
    pressure: after.pressure ? pressureReport(before.pressure, after.pressure, intervalMs) : null,
    runQueue:
      before.schedstat && after.schedstat
        ? runQueueReport(before.schedstat, after.schedstat)
        : null,
    contextSwitches: contextSwitchReport(
      statBefore?.contextSwitches ?? null,
      statAfter?.contextSwitches ?? null,
      intervalMs,
    ),
    topProcesses:
      before.processes && after.processes
        ? topProcesses(before.processes, after.processes, {
            ticksPerCpu: bothStats ? elapsedTicksPerCpu(statBefore, statAfter) : null,
            limit: options.topProcessCount,
          })
        : null,
  };
}

/**
 * Utilisation of one CPU (or of all, for the aggregate line) between two readings; `null`
 * when no time elapsed, since any percentage would be made up.
 *
 * A counter that went backwards counts as zero: proc(5) warns that `iowait` can decrease, and
 * a negative share would be nonsense.
 *
 * @example
 * cpuUtilisation(before, after)?.busyPct; // 25 when 1 of 4 elapsed ticks was busy
 */
export function cpuUtilisation(before: CpuTimes, after: CpuTimes): CpuUtilisation | null {
  const delta = (key: keyof CpuTimes): number => Math.max(0, after[key] - before[key]);
  const userTicks = delta("userTicks") + delta("niceTicks");
  const systemTicks = delta("systemTicks") + delta("irqTicks") + delta("softirqTicks");
  const idleTicks = delta("idleTicks");
  const iowaitTicks = delta("iowaitTicks");
  const stealTicks = delta("stealTicks");
  const totalTicks = userTicks + systemTicks + idleTicks + iowaitTicks + stealTicks;
  if (totalTicks === 0) return null;
  const pct = (ticks: number): number => round((ticks / totalTicks) * 100, 2);
  return {
    busyPct: pct(userTicks + systemTicks + stealTicks),
    userPct: pct(userTicks),
    systemPct: pct(systemTicks),
    iowaitPct: pct(iowaitTicks),
    idlePct: pct(idleTicks),
    stealPct: pct(stealTicks),
  };
}

/**
 * Total and per-CPU utilisation between two `/proc/stat` readings; `null` when no time
 * elapsed. CPUs missing from either reading (hot-plugged in between) are left out.
 */
export function cpuReport(before: ProcStat, after: ProcStat): TelemetryReport["cpu"] {
  const total = cpuUtilisation(before.total, after.total);
  if (total === null) return null;
  const perCpu: NonNullable<TelemetryReport["cpu"]>["perCpu"] = [];
  for (const [cpu, times] of [...after.perCpu].sort(([a], [b]) => a - b)) {
    const earlier = before.perCpu.get(cpu);
    const utilisation = earlier ? cpuUtilisation(earlier, times) : null;
    if (utilisation) perCpu.push({ cpu, ...utilisation });
  }
  return { total, perCpu };
}

/**
 * Ticks that elapsed on one CPU between two readings: the aggregate line's delta divided by
 * the number of CPUs. Used to express process CPU time as a share of one CPU without
 * assuming a USER_HZ or trusting a wall clock.
 */
export function elapsedTicksPerCpu(before: ProcStat, after: ProcStat): number | null {
  const cpuCount = after.perCpu.size;
  if (cpuCount === 0) return null;
  const sum = (times: CpuTimes): number =>
    times.userTicks +
    times.niceTicks +
    times.systemTicks +
    times.idleTicks +
    times.iowaitTicks +
    times.irqTicks +
    times.softirqTicks +
    times.stealTicks;
  const ticks = sum(after.total) - sum(before.total);
  return ticks > 0 ? ticks / cpuCount : null;
}

/**
 * Mean run-queue delay per timeslice between two `/proc/schedstat` readings: how long a task
 * waited for a CPU, on average, each time it got one. `null` where no timeslice ran.
 */
export function runQueueReport(before: Schedstat, after: Schedstat): TelemetryReport["runQueue"] {
  let delayNs = 0;
  let timeslices = 0;
  const perCpu: NonNullable<TelemetryReport["runQueue"]>["perCpu"] = [];
  for (const [cpu, counters] of [...after.perCpu].sort(([a], [b]) => a - b)) {
    const earlier = before.perCpu.get(cpu);
    if (!earlier) continue;
    const cpuDelayNs = Math.max(0, counters.runDelayNs - earlier.runDelayNs);
    const cpuTimeslices = Math.max(0, counters.timeslices - earlier.timeslices);
    delayNs += cpuDelayNs;
    timeslices += cpuTimeslices;
    perCpu.push({
      cpu,
      meanRunDelayUs: meanUs(cpuDelayNs, cpuTimeslices),
      timeslices: cpuTimeslices,
    });
  }
  return { meanRunDelayUs: meanUs(delayNs, timeslices), timeslices, perCpu };
}

function meanUs(delayNs: number, timeslices: number): number | null {
  return timeslices > 0 ? round(delayNs / timeslices / 1000, 3) : null;
}

/**
 * The latest PSI reading, with each line's stall share over the interval computed from its
 * `total` delta when an earlier reading exists.
 */
export function pressureReport(
  before: Pressure | null,
  after: Pressure,
  intervalMs: number,
): TelemetryReport["pressure"] {
  return {
    some: pressureLine(before?.some ?? null, after.some, intervalMs),
    full: after.full ? pressureLine(before?.full ?? null, after.full, intervalMs) : null,
  };
}

function pressureLine(before: PressureLine | null, after: PressureLine, intervalMs: number) {
  const stallUs = before ? after.totalUs - before.totalUs : -1;
  // The kernel's clock and ours differ slightly, so a fully stalled interval can exceed 100 %.
  const intervalPct =
    stallUs >= 0 && intervalMs > 0
      ? Math.min(100, round((stallUs / (intervalMs * 1000)) * 100, 2))
      : null;
  return { ...after, intervalPct };
}

/**
 * Context switches between two `ctxt` readings, and their rate. `null` if either reading is
 * missing or the counter went backwards (the samples are not from the same boot).
 */
export function contextSwitchReport(
  before: number | null,
  after: number | null,
  intervalMs: number,
): TelemetryReport["contextSwitches"] {
  if (before === null || after === null || after < before) return null;
  const count = after - before;
  return { count, perSec: intervalMs > 0 ? round((count / intervalMs) * 1000, 2) : null };
}

/**
 * The processes that used the most CPU between two scans, most first (ties by pid).
 *
 * A pid in both scans with the same start time is the same process: its delta counts. A
 * process that is new in the second scan (or whose pid was reused) started during the
 * interval, so all of its CPU time counts, unless the first scan was truncated, when "new"
 * may only mean "not seen".
 */
export function topProcesses(
  before: ProcessTable,
  after: ProcessTable,
  options: { ticksPerCpu: number | null; limit: number },
): NonNullable<TelemetryReport["topProcesses"]> {
  const used: { pid: number; name: string; cpuTicks: number }[] = [];
  for (const [pid, now] of after.byPid) {
    const earlier = before.byPid.get(pid);
    const sameProcess = earlier !== undefined && earlier.startTimeTicks === now.startTimeTicks;
    if (!sameProcess && before.truncated) continue;
    const startTicks = sameProcess ? earlier.utimeTicks + earlier.stimeTicks : 0;
    const cpuTicks = now.utimeTicks + now.stimeTicks - startTicks;
    if (cpuTicks > 0) used.push({ pid, name: now.comm, cpuTicks });
  }
  used.sort((a, b) => b.cpuTicks - a.cpuTicks || a.pid - b.pid);
  const { ticksPerCpu } = options;
  return used.slice(0, options.limit).map((entry) => ({
    ...entry,
    cpuPct: ticksPerCpu ? round((entry.cpuTicks / ticksPerCpu) * 100, 2) : null,
  }));
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}
