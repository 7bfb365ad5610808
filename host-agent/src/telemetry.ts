import { readdir } from "node:fs/promises";
import { setTimeout as sleepMs } from "node:timers/promises";
import { parseLoadAvg } from "./parsers/loadavg.js";
import { type PidStat, parsePidStat } from "./parsers/pid-stat.js";
import { parsePressure } from "./parsers/pressure.js";
import { parseProcStat } from "./parsers/proc-stat.js";
import { parseSchedstat } from "./parsers/schedstat.js";
import { parseSingleLine } from "./parsers/tokens.js";
import type { TelemetryReport } from "./protocol.js";
import { readParsed } from "./read.js";
import { type KernelRoots, procPath } from "./roots.js";
import { computeDeltas, type ProcessTable, type TelemetrySample } from "./telemetry-deltas.js";
import { Warnings } from "./warnings.js";

/** At most this many processes are read per sample, bounding the work on a crowded node. */
export const MAX_PROCESSES_SCANNED = 32_768;

/** Per-pid files read at once: enough to overlap I/O, few enough to stay far from fd limits. */
const PID_READ_CONCURRENCY = 32;

/** Clock and sleep, injectable so tests control time and rewrite fixtures between samples. */
export interface TelemetryTiming {
  /** Milliseconds from a monotonic clock. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** The real clock: `performance.now()` is monotonic, unlike `Date.now()`. */
export const systemTiming: TelemetryTiming = {
  now: () => performance.now(),
  sleep: (ms) => sleepMs(ms),
};

/** What {@link collectTelemetry} samples and how. */
export interface TelemetryOptions extends KernelRoots {
  /** Time between the two samples the deltas are taken over. */
  intervalMs: number;
  /** How many processes to list in `topProcesses`. */
  topProcessCount: number;
  timing?: TelemetryTiming;
}

/**
 * Takes two samples `intervalMs` apart and reports utilisation, pressure, run-queue delay,
 * load, context switches and the busiest processes over that interval.
 *
 * @example
 * const report = await collectTelemetry({
 *   procRoot: "/proc", sysRoot: "/sys", intervalMs: 1000, topProcessCount: 5,
 * });
 * report.cpu?.total.busyPct;
 */
export async function collectTelemetry(options: TelemetryOptions): Promise<TelemetryReport> {
  const timing = options.timing ?? systemTiming;
  const warnings = new Warnings();
  const before = await readTelemetrySample(options, warnings, timing.now);
  await timing.sleep(options.intervalMs);
  const after = await readTelemetrySample(options, warnings, timing.now);
  return reportBetween(before, after, { ...options, warnings });
}

/**
 * Reads one sample of the counters that telemetry takes deltas of. A long-running agent keeps
 * the previous sample and calls {@link reportBetween} with each new one.
 *
 * @example
 * const sample = await readTelemetrySample(roots, new Warnings(), () => performance.now());
 */
export async function readTelemetrySample(
  roots: KernelRoots,
  warnings: Warnings,
  now: () => number,
): Promise<TelemetrySample> {
  const takenAtMs = now();
  const [stat, schedstat, pressure, processes] = await Promise.all([
    readParsed(procPath(roots, "stat"), parseProcStat, warnings, { expected: true }),
    // Absent without CONFIG_SCHEDSTATS, and PSI without CONFIG_PSI or with psi=0.
    readParsed(procPath(roots, "schedstat"), parseSchedstat, warnings, { expected: false }),
    readParsed(procPath(roots, "pressure", "cpu"), parsePressure, warnings, { expected: false }),
    readProcessTable(roots, warnings),
  ]);
  return { takenAtMs, stat, schedstat, pressure, processes };
}

/**
 * Builds the report for the interval between two samples: the deltas, plus the current load
 * average and the names of the top processes (read now, from `/proc/[pid]/comm`).
 */
export async function reportBetween(
  before: TelemetrySample,
  after: TelemetrySample,
  options: KernelRoots & { topProcessCount: number; warnings: Warnings },
): Promise<TelemetryReport> {
  const { warnings } = options;
  const deltas = computeDeltas(before, after, options);
  const loadAvg = await readParsed(procPath(options, "loadavg"), parseLoadAvg, warnings, {
    expected: true,
  });
  const topProcesses = deltas.topProcesses
    ? await Promise.all(
        deltas.topProcesses.map(async (entry) => {
          const commPath = procPath(options, String(entry.pid), "comm");
          // A process that exited since the sample keeps the name from its stat line.
          const name = await readParsed(
            commPath,
            (text) => parseSingleLine(text, commPath),
            warnings,
            {
              expected: false,
            },
          );
          return { ...entry, name: name ?? entry.name };
        }),
      )
    : null;
  return { ...deltas, loadAvg, topProcesses, warnings: warnings.list() };
}

async function readProcessTable(
  roots: KernelRoots,
  warnings: Warnings,
): Promise<ProcessTable | null> {
  let names: string[];
  try {
    names = await readdir(roots.procRoot);
  } catch (error) {
    warnings.add(
      roots.procRoot,
      `cannot list processes: ${error instanceof Error ? error.message : String(error)}`,
    );
    return null;
  }
  const pids = names
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
  const truncated = pids.length > MAX_PROCESSES_SCANNED;
  if (truncated) {
    warnings.add(
      roots.procRoot,
      `only the first ${MAX_PROCESSES_SCANNED} of ${pids.length} processes read`,
    );
  }
  const scanned = pids.slice(0, MAX_PROCESSES_SCANNED);
  const byPid = new Map<number, PidStat>();
  for (let start = 0; start < scanned.length; start += PID_READ_CONCURRENCY) {
    const batch = scanned.slice(start, start + PID_READ_CONCURRENCY);
    const stats = await Promise.all(
      // Not expected: a process may exit between the directory listing and the read.
      batch.map((pid) =>
        readParsed(procPath(roots, String(pid), "stat"), parsePidStat, warnings, {
          expected: false,
        }),
      ),
    );
    for (const stat of stats) if (stat) byPid.set(stat.pid, stat);
  }
  return { byPid, truncated };
}
