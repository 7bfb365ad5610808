import { describe, expect, it } from "vitest";
import { TelemetryReportSchema } from "../src/protocol.js";
import { collectTelemetry, readTelemetrySample, reportBetween } from "../src/telemetry.js";
import { Warnings } from "../src/warnings.js";
import { copyFixture, fakeTiming, pidStatLine } from "./helpers.js";

/*
 * scx-node holds the first sample and scx-node.after the files that change by the second:
 * 1000 ms and 100 ticks per CPU later (fixtures/README.md lists the deltas).
 */
async function scxNodeReport(options: { topProcessCount?: number } = {}) {
  const tree = await copyFixture("scx-node");
  const timing = fakeTiming(async () => {
    await tree.overlay("scx-node.after");
    // pid 600 exited between the samples.
    await tree.remove("proc/600");
  });
  const report = await collectTelemetry({
    procRoot: tree.procRoot,
    sysRoot: tree.sysRoot,
    intervalMs: 1_000,
    topProcessCount: options.topProcessCount ?? 10,
    timing,
  });
  return { tree, timing, report };
}

describe("collectTelemetry on fixture trees", () => {
  it("sleeps the configured interval between its two samples and measures it", async () => {
    const { timing, report } = await scxNodeReport();
    expect(timing.sleptMs).toEqual([1_000]);
    expect(report.intervalMs).toBe(1_000);
    expect(TelemetryReportSchema.parse(report)).toEqual(report);
    expect(report.warnings).toEqual([]);
  });

  it("reports total and per-CPU utilisation from the /proc/stat deltas", async () => {
    const { report } = await scxNodeReport();
    expect(report.cpu?.total).toEqual({
      busyPct: 45,
      userPct: 35,
      systemPct: 7.5,
      iowaitPct: 3.75,
      idlePct: 51.25,
      stealPct: 2.5,
    });
    expect(
      report.cpu?.perCpu.map(({ cpu, busyPct, iowaitPct }) => ({ cpu, busyPct, iowaitPct })),
    ).toEqual([
      { cpu: 0, busyPct: 95, iowaitPct: 0 },
      { cpu: 1, busyPct: 60, iowaitPct: 10 },
      { cpu: 2, busyPct: 0, iowaitPct: 0 },
      { cpu: 3, busyPct: 25, iowaitPct: 5 },
    ]);
  });

  it("reports the latest PSI averages and the stall share over the interval", async () => {
    const { report } = await scxNodeReport();
    expect(report.pressure).toEqual({
      some: { avg10Pct: 20, avg60Pct: 9.1, avg300Pct: 3.4, totalUs: 50_250_000, intervalPct: 25 },
      full: { avg10Pct: 1.2, avg60Pct: 0.55, avg300Pct: 0.11, totalUs: 4_010_000, intervalPct: 1 },
    });
  });

  it("reports the mean run-queue delay per timeslice from /proc/schedstat", async () => {
    const { report } = await scxNodeReport();
    expect(report.runQueue).toEqual({
      meanRunDelayUs: 22.5,
      timeslices: 400,
      perCpu: [
        { cpu: 0, meanRunDelayUs: 20, timeslices: 100 },
        { cpu: 1, meanRunDelayUs: 30, timeslices: 200 },
        { cpu: 2, meanRunDelayUs: null, timeslices: 0 },
        { cpu: 3, meanRunDelayUs: 10, timeslices: 100 },
      ],
    });
  });

  it("reports the load average and context switches per second", async () => {
    const { report } = await scxNodeReport();
    expect(report.loadAvg).toEqual({
      load1: 2.25,
      load5: 1.4,
      load15: 0.95,
      runnableTasks: 5,
      totalTasks: 252,
    });
    expect(report.contextSwitches).toEqual({ count: 2_500, perSec: 2_500 });
  });

  it("ranks processes by CPU over the interval, with names from comm", async () => {
    const { report } = await scxNodeReport({ topProcessCount: 10 });
    // 100 ticks elapsed per CPU, so N ticks is N % of one CPU. pid 500 was idle and pid 600
    // exited, so neither is listed; pid 700 started during the interval; pid 800 was reused
    // by a new process (4 ticks, not 4 minus the old process's 500).
    expect(report.topProcesses).toEqual([
      { pid: 300, name: "my (odd) app", cpuTicks: 100, cpuPct: 100 },
      { pid: 200, name: "postgres", cpuTicks: 70, cpuPct: 70 },
      { pid: 700, name: "burst", cpuTicks: 20, cpuPct: 20 },
      { pid: 400, name: "kworker/0:1", cpuTicks: 5, cpuPct: 5 },
      { pid: 1, name: "systemd", cpuTicks: 4, cpuPct: 4 },
      { pid: 800, name: "fresh", cpuTicks: 4, cpuPct: 4 },
    ]);
  });

  it("lists no more processes than topProcessCount", async () => {
    const { report } = await scxNodeReport({ topProcessCount: 2 });
    expect(report.topProcesses?.map((process) => process.pid)).toEqual([300, 200]);
  });

  it("reports null sections, not errors, on a kernel without PSI or schedstat", async () => {
    const tree = await copyFixture("plain-node");
    const timing = fakeTiming(async () => {
      await tree.write(
        "proc/stat",
        "cpu 350 0 100 1750 0 0 0 0 0 0\ncpu0 175 0 50 875 0 0 0 0 0 0\ncpu1 175 0 50 875 0 0 0 0 0 0\nctxt 1100\n",
      );
    });
    const report = await collectTelemetry({ ...tree, intervalMs: 500, topProcessCount: 3, timing });
    expect(report.pressure).toBeNull();
    expect(report.runQueue).toBeNull();
    expect(report.cpu?.total.busyPct).toBe(25);
    expect(report.contextSwitches).toEqual({ count: 100, perSec: 200 });
    expect(report.topProcesses).toEqual([]);
    expect(report.warnings).toEqual([]);
  });

  it("gives null CPU utilisation when no tick elapsed between the samples", async () => {
    const tree = await copyFixture("plain-node");
    const report = await collectTelemetry({
      ...tree,
      intervalMs: 100,
      topProcessCount: 3,
      timing: fakeTiming(),
    });
    expect(report.cpu).toBeNull();
    expect(report.contextSwitches).toEqual({ count: 0, perSec: 0 });
  });

  it("warns once about a malformed file read in both samples and still reports the rest", async () => {
    const tree = await copyFixture("scx-node");
    await tree.write("proc/pressure/cpu", "some avg10=oops\n");
    const timing = fakeTiming(() =>
      tree.overlay("scx-node.after").then(() => tree.write("proc/pressure/cpu", "garbage\n")),
    );
    const report = await collectTelemetry({
      ...tree,
      intervalMs: 1_000,
      topProcessCount: 1,
      timing,
    });
    expect(report.pressure).toBeNull();
    expect(report.cpu?.total.busyPct).toBe(45);
    expect(report.warnings.map((warning) => warning.source)).toEqual([
      `${tree.procRoot}/pressure/cpu`,
      `${tree.procRoot}/pressure/cpu`,
    ]);
    expect(report.warnings.map((warning) => warning.message)).toEqual([
      'malformed: some avg10: expected a decimal number, got "oops"',
      'malformed: unexpected line "garbage"',
    ]);
  });

  it("warns about a missing /proc/stat (wrong root) and reports no CPU data", async () => {
    const tree = await copyFixture("plain-node");
    await tree.remove("proc/stat");
    const report = await collectTelemetry({
      ...tree,
      intervalMs: 100,
      topProcessCount: 3,
      timing: fakeTiming(),
    });
    expect(report.cpu).toBeNull();
    expect(report.contextSwitches).toBeNull();
    expect(report.topProcesses).toEqual([]);
    expect(report.warnings).toEqual([{ source: `${tree.procRoot}/stat`, message: "missing" }]);
  });

  it("reports process names as read from comm, falling back to stat's name when comm is gone", async () => {
    const tree = await copyFixture("plain-node");
    await tree.write(
      "proc/43/stat",
      pidStatLine({ pid: 43, comm: "worker", utimeTicks: 0, stimeTicks: 0, startTimeTicks: 9 }),
    );
    await tree.write("proc/43/comm", "worker-renamed\n");
    const warnings = new Warnings();
    const before = await readTelemetrySample(tree, warnings, () => 0);
    await tree.write(
      "proc/42/stat",
      pidStatLine({ pid: 42, comm: "init", utimeTicks: 11, stimeTicks: 10, startTimeTicks: 5 }),
    );
    await tree.write(
      "proc/43/stat",
      pidStatLine({ pid: 43, comm: "worker", utimeTicks: 2, stimeTicks: 0, startTimeTicks: 9 }),
    );
    await tree.remove("proc/42/comm");
    const after = await readTelemetrySample(tree, warnings, () => 1_000);
    const report = await reportBetween(before, after, { ...tree, topProcessCount: 5, warnings });
    expect(report.topProcesses?.map(({ pid, name }) => ({ pid, name }))).toEqual([
      { pid: 43, name: "worker-renamed" },
      { pid: 42, name: "init" },
    ]);
  });
});
