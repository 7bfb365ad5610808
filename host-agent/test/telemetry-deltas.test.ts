import { describe, expect, it } from "vitest";
import type { PidStat } from "../src/parsers/pid-stat.js";
import type { CpuTimes, ProcStat } from "../src/parsers/proc-stat.js";
import type { Schedstat } from "../src/parsers/schedstat.js";
import {
  computeDeltas,
  contextSwitchReport,
  cpuReport,
  cpuUtilisation,
  elapsedTicksPerCpu,
  type ProcessTable,
  pressureReport,
  runQueueReport,
  type TelemetrySample,
  topProcesses,
} from "../src/telemetry-deltas.js";

function times(partial: Partial<CpuTimes>): CpuTimes {
  return {
    userTicks: 0,
    niceTicks: 0,
    systemTicks: 0,
    idleTicks: 0,
    iowaitTicks: 0,
    irqTicks: 0,
    softirqTicks: 0,
    stealTicks: 0,
    ...partial,
  };
}

function procStat(perCpu: CpuTimes[], contextSwitches: number | null = null): ProcStat {
  const total = times({});
  for (const cpu of perCpu) {
    for (const key of Object.keys(total) as (keyof CpuTimes)[]) total[key] += cpu[key];
  }
  return { total, perCpu: new Map(perCpu.map((cpu, id) => [id, cpu])), contextSwitches };
}

function table(
  processes: [number, string, number, number, number][],
  truncated = false,
): ProcessTable {
  const byPid = new Map<number, PidStat>();
  for (const [pid, comm, utimeTicks, stimeTicks, startTimeTicks] of processes) {
    byPid.set(pid, { pid, comm, state: "S", utimeTicks, stimeTicks, startTimeTicks });
  }
  return { byPid, truncated };
}

describe("cpuUtilisation", () => {
  it("splits elapsed ticks into busy, idle and iowait shares that sum to 100", () => {
    const before = times({});
    const after = times({
      userTicks: 30,
      niceTicks: 10,
      systemTicks: 5,
      irqTicks: 3,
      softirqTicks: 2,
      stealTicks: 10,
      iowaitTicks: 15,
      idleTicks: 25,
    });
    expect(cpuUtilisation(before, after)).toEqual({
      busyPct: 60,
      userPct: 40,
      systemPct: 10,
      iowaitPct: 15,
      idlePct: 25,
      stealPct: 10,
    });
  });

  it("counts a counter that went backwards (iowait can) as zero instead of negative", () => {
    const before = times({ iowaitTicks: 50, idleTicks: 100 });
    const after = times({ iowaitTicks: 40, idleTicks: 150, userTicks: 50 });
    expect(cpuUtilisation(before, after)).toMatchObject({ busyPct: 50, idlePct: 50, iowaitPct: 0 });
  });

  it("is null when no tick elapsed rather than claiming 0 % busy", () => {
    const same = times({ userTicks: 10, idleTicks: 90 });
    expect(cpuUtilisation(same, same)).toBeNull();
  });
});

describe("cpuReport", () => {
  it("leaves out a CPU that was offline in the first sample", () => {
    const before = procStat([times({ idleTicks: 100 })]);
    const after = procStat([times({ idleTicks: 150, userTicks: 50 }), times({ userTicks: 7 })]);
    const report = cpuReport(before, after);
    expect(report?.perCpu.map((cpu) => cpu.cpu)).toEqual([0]);
  });
});

describe("elapsedTicksPerCpu", () => {
  it("divides the aggregate delta by the number of CPUs", () => {
    const before = procStat([times({}), times({})]);
    const after = procStat([times({ idleTicks: 100 }), times({ userTicks: 60, idleTicks: 40 })]);
    expect(elapsedTicksPerCpu(before, after)).toBe(100);
  });

  it("is null when no tick elapsed", () => {
    const stat = procStat([times({ idleTicks: 5 })]);
    expect(elapsedTicksPerCpu(stat, stat)).toBeNull();
  });
});

describe("runQueueReport", () => {
  const schedstat = (rows: [number, number][]): Schedstat => ({
    version: 15,
    perCpu: new Map(
      rows.map(([runDelayNs, timeslices], cpu) => [cpu, { runTimeNs: 0, runDelayNs, timeslices }]),
    ),
  });

  it("gives the mean delay per timeslice in µs, per CPU and weighted over all CPUs", () => {
    const before = schedstat([
      [1_000_000, 10],
      [0, 0],
    ]);
    const after = schedstat([
      [3_000_000, 110],
      [9_000_000, 300],
    ]);
    // Weighted by timeslices: (2 ms + 9 ms) / 400 = 27.5 µs, not the plain mean of 20 and 30.
    expect(runQueueReport(before, after)).toEqual({
      meanRunDelayUs: 27.5,
      timeslices: 400,
      perCpu: [
        { cpu: 0, meanRunDelayUs: 20, timeslices: 100 },
        { cpu: 1, meanRunDelayUs: 30, timeslices: 300 },
      ],
    });
  });

  it("gives a null mean for a CPU that ran no timeslice", () => {
    const same = schedstat([[500, 5]]);
    expect(runQueueReport(same, same)).toEqual({
      meanRunDelayUs: null,
      timeslices: 0,
      perCpu: [{ cpu: 0, meanRunDelayUs: null, timeslices: 0 }],
    });
  });
});

describe("pressureReport", () => {
  const line = (avg10Pct: number, totalUs: number) => ({
    avg10Pct,
    avg60Pct: 0,
    avg300Pct: 0,
    totalUs,
  });

  it("adds the stall share over the interval from the total delta", () => {
    const report = pressureReport(
      { some: line(1, 1_000_000), full: line(0, 0) },
      { some: line(2, 1_500_000), full: line(0, 100_000) },
      2_000,
    );
    expect(report?.some).toEqual({ ...line(2, 1_500_000), intervalPct: 25 });
    expect(report?.full?.intervalPct).toBe(5);
  });

  it("caps the interval share at 100 % when the kernel's clock ran ahead of ours", () => {
    const report = pressureReport(
      { some: line(0, 0), full: null },
      { some: line(0, 1_010_000), full: null },
      1_000,
    );
    expect(report?.some.intervalPct).toBe(100);
  });

  it("has no interval share without an earlier reading", () => {
    const report = pressureReport(null, { some: line(3, 10), full: null }, 1_000);
    expect(report).toEqual({ some: { ...line(3, 10), intervalPct: null }, full: null });
  });
});

describe("contextSwitchReport", () => {
  it("gives the count and rate per second", () => {
    expect(contextSwitchReport(1_000, 3_500, 500)).toEqual({ count: 2_500, perSec: 5_000 });
  });

  it("is null when the counter went backwards or a reading is missing", () => {
    expect(contextSwitchReport(3_500, 1_000, 500)).toBeNull();
    expect(contextSwitchReport(null, 1_000, 500)).toBeNull();
  });

  it("has a null rate for a zero-length interval", () => {
    expect(contextSwitchReport(1, 2, 0)).toEqual({ count: 1, perSec: null });
  });
});

describe("topProcesses", () => {
  it("ranks by CPU ticks used in the interval, ties by pid, and cuts at the limit", () => {
    const before = table([
      [10, "a", 100, 0, 1],
      [20, "b", 0, 0, 1],
      [30, "c", 5, 5, 1],
      [40, "d", 1, 0, 1],
    ]);
    const after = table([
      [10, "a", 130, 0, 1],
      [20, "b", 20, 10, 1],
      [30, "c", 10, 10, 1],
      [40, "d", 1, 0, 1],
    ]);
    const top = topProcesses(before, after, { ticksPerCpu: 100, limit: 2 });
    expect(top).toEqual([
      { pid: 10, name: "a", cpuTicks: 30, cpuPct: 30 },
      { pid: 20, name: "b", cpuTicks: 30, cpuPct: 30 },
    ]);
  });

  it("counts all CPU time of a process that started during the interval", () => {
    const top = topProcesses(table([]), table([[7, "new", 4, 1, 900]]), {
      ticksPerCpu: 50,
      limit: 5,
    });
    expect(top).toEqual([{ pid: 7, name: "new", cpuTicks: 5, cpuPct: 10 }]);
  });

  it("treats a reused pid (different start time) as a new process, not a negative delta", () => {
    const before = table([[7, "old", 500, 0, 100]]);
    const after = table([[7, "fresh", 3, 1, 900]]);
    expect(topProcesses(before, after, { ticksPerCpu: 100, limit: 5 })).toEqual([
      { pid: 7, name: "fresh", cpuTicks: 4, cpuPct: 4 },
    ]);
  });

  it("skips unseen processes when the first scan was truncated, as they may be old", () => {
    const before = table([[1, "seen", 0, 0, 1]], true);
    const after = table([
      [1, "seen", 2, 0, 1],
      [9, "unseen", 50, 0, 1],
    ]);
    expect(topProcesses(before, after, { ticksPerCpu: 100, limit: 5 }).map((p) => p.pid)).toEqual([
      1,
    ]);
  });

  it("leaves out idle processes and gives a null share when elapsed ticks are unknown", () => {
    const before = table([
      [1, "idle", 5, 5, 1],
      [2, "busy", 0, 0, 1],
    ]);
    const after = table([
      [1, "idle", 5, 5, 1],
      [2, "busy", 3, 0, 1],
    ]);
    expect(topProcesses(before, after, { ticksPerCpu: null, limit: 5 })).toEqual([
      { pid: 2, name: "busy", cpuTicks: 3, cpuPct: null },
    ]);
  });
});

describe("computeDeltas", () => {
  const empty = (takenAtMs: number): TelemetrySample => ({
    takenAtMs,
    stat: null,
    schedstat: null,
    pressure: null,
    processes: null,
  });

  it("gives null sections for every counter that is missing from either sample", () => {
    const before: TelemetrySample = { ...empty(0), stat: procStat([times({})], 10) };
    expect(computeDeltas(before, empty(1_000), { topProcessCount: 5 })).toEqual({
      intervalMs: 1_000,
      cpu: null,
      pressure: null,
      runQueue: null,
      contextSwitches: null,
      topProcesses: null,
    });
  });
});
