/**
 * Pools a window of telemetry reports into the mean values the workload signals are read
 * from: weighted by report interval, per CPU where the CPU count is known, and the top
 * processes by name.
 */

import type { TelemetryReport } from "./protocol/telemetry.js";
import { round2 } from "./workload-format.js";
import { HOG_CPU_PCT, TOP_PROCESSES_COUNTED } from "./workload-thresholds.js";
import type { TimedReport, TopProcess } from "./workload-types.js";

/**
 * A pooled window: the value each signal is read from (null when no report carried it), the
 * top processes and the window's span.
 */
export interface Aggregate {
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

/** Pools reports, each with its node's CPU count (null when unknown), into one Aggregate. */
export function aggregate(
  reports: ReadonlyArray<TimedReport & { cpus: number | null }>,
): Aggregate {
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
