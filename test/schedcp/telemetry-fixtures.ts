/** Crafted telemetry for the workload and rollout tests: one report from a few numbers. */

import type { NodeFacts, TelemetryReport } from "../../src/schedcp/protocol/telemetry";
import type { TimedReport } from "../../src/schedcp/workload-types";

export interface ReportSpec {
  cpus?: number;
  intervalMs?: number;
  busyPct?: number;
  iowaitPct?: number;
  psiSomePct?: number | null;
  runDelayUs?: number | null;
  /** Timeslices run over the interval, all CPUs together. */
  timeslices?: number;
  /** Context switches per second, whole machine. */
  cswPerSec?: number | null;
  load1?: number | null;
  top?: Array<[name: string, cpuPct: number]> | null;
  noCpu?: boolean;
}

/** A valid TelemetryReport shaped by `s`; unset signals are plausible and neutral. */
export function report(s: ReportSpec = {}): TelemetryReport {
  const cpus = s.cpus ?? 4;
  const busy = s.busyPct ?? 50;
  const iowait = s.iowaitPct ?? 0;
  const util = (cpu?: number) => ({
    ...(cpu === undefined ? {} : { cpu }),
    busyPct: busy,
    userPct: busy,
    systemPct: 0,
    iowaitPct: iowait,
    idlePct: Math.max(0, 100 - busy - iowait),
    stealPct: 0,
  });
  const line = (pct: number) => ({
    avg10Pct: pct,
    avg60Pct: pct,
    avg300Pct: pct,
    totalUs: 1_000_000,
    intervalPct: pct,
  });
  return {
    intervalMs: s.intervalMs ?? 1000,
    cpu: s.noCpu
      ? null
      : {
          total: util(),
          perCpu: Array.from(
            { length: cpus },
            (_, cpu) => util(cpu) as ReturnType<typeof util> & { cpu: number },
          ),
        },
    pressure: s.psiSomePct === null ? null : { some: line(s.psiSomePct ?? 1), full: line(0) },
    runQueue:
      s.runDelayUs === null
        ? null
        : {
            meanRunDelayUs: s.runDelayUs ?? 100,
            // Default: 2 ms slices (neither short nor long).
            timeslices:
              s.timeslices ?? Math.max(1, Math.round(((busy / 100) * cpus * 1_000_000) / 2000)),
            perCpu: [],
          },
    loadAvg:
      s.load1 === null
        ? null
        : {
            load1: s.load1 ?? (busy / 100) * cpus,
            load5: 0,
            load15: 0,
            runnableTasks: 1,
            totalTasks: 100,
          },
    contextSwitches: s.cswPerSec === null ? null : { count: 0, perSec: s.cswPerSec ?? 1000 * cpus },
    topProcesses:
      s.top === null
        ? null
        : (s.top ?? [["worker", 20]]).map(([name, cpuPct], i) => ({
            pid: 100 + i,
            name,
            cpuTicks: 0,
            cpuPct,
          })),
    warnings: [],
  };
}

/** `n` copies of a report, one second apart. */
export function window(n: number, s: ReportSpec = {}): TimedReport[] {
  return Array.from({ length: n }, (_, i) => ({ atMs: 1_000_000 + i * 1000, report: report(s) }));
}

/** Node facts with `cpus` CPUs (one socket, no SMT unless said). */
export function facts(
  o: { cpus?: number; sockets?: number; smt?: boolean; schedExt?: boolean } = {},
): NodeFacts {
  const cpus = o.cpus ?? 4;
  const sockets = o.sockets ?? 1;
  return {
    hostname: `host-${cpus}`,
    kernelRelease: "6.14.0",
    schedExt: { supported: o.schedExt ?? true, state: "disabled", ops: null, enableSeq: 0 },
    cpus: {
      onlineList: `0-${cpus - 1}`,
      onlineCount: cpus,
      packageCount: sockets,
      coreCount: o.smt ? cpus / 2 : cpus,
      topology: [],
    },
    memory: null,
    warnings: [],
  };
}
