import { describe, expect, it } from "vitest";
import { formatCpuList, MAX_CPU_ID, parseCpuList } from "../src/parsers/cpulist.js";
import { ParseError } from "../src/parsers/errors.js";
import { parseLoadAvg } from "../src/parsers/loadavg.js";
import { parseMemInfo } from "../src/parsers/meminfo.js";
import { parsePidStat } from "../src/parsers/pid-stat.js";
import { parsePressure } from "../src/parsers/pressure.js";
import { parseProcStat } from "../src/parsers/proc-stat.js";
import { parseSchedExtState } from "../src/parsers/sched-ext.js";
import { parseSchedstat } from "../src/parsers/schedstat.js";
import { parseSingleLine, parseTopologyId, parseUnsignedFile } from "../src/parsers/tokens.js";
import { pidStatLine } from "./helpers.js";

describe("parseCpuList", () => {
  it("expands ranges and single ids into sorted distinct ids", () => {
    expect(parseCpuList("8,0-2,5,1\n")).toEqual([0, 1, 2, 5, 8]);
  });

  it("reads an empty list as no CPUs", () => {
    expect(parseCpuList("\n")).toEqual([]);
  });

  it.each(["0-", "a", "3-1", "0--2", "1,,2", " -1"])("rejects %j", (text) => {
    expect(() => parseCpuList(text)).toThrow(ParseError);
  });

  it("accepts the highest CPU id and rejects the next, bounding range expansion", () => {
    expect(parseCpuList(`${MAX_CPU_ID}`)).toEqual([MAX_CPU_ID]);
    expect(() => parseCpuList(`0-${MAX_CPU_ID + 1}`)).toThrow(/exceeds/);
  });

  it("formats ids back into the kernel's list form", () => {
    expect(formatCpuList([0, 1, 2, 5, 7, 8])).toBe("0-2,5,7-8");
    expect(formatCpuList([])).toBe("");
    expect(formatCpuList(parseCpuList("0-3,6,9-10"))).toBe("0-3,6,9-10");
  });
});

describe("parseProcStat", () => {
  const text = [
    "cpu  1000 100 500 8000 200 10 40 50 30 0",
    "cpu0 600 100 300 4000 100 5 20 25 30 0",
    "cpu1 400 0 200 4000 100 5 20 25 0 0",
    "intr 1234 0 0",
    "ctxt 500000",
    "btime 1795259704",
    "",
  ].join("\n");

  it("reads the aggregate line, each CPU line and the context switch counter", () => {
    const stat = parseProcStat(text);
    expect(stat.total).toEqual({
      userTicks: 1000,
      niceTicks: 100,
      systemTicks: 500,
      idleTicks: 8000,
      iowaitTicks: 200,
      irqTicks: 10,
      softirqTicks: 40,
      stealTicks: 50,
    });
    expect([...stat.perCpu.keys()]).toEqual([0, 1]);
    expect(stat.perCpu.get(1)?.userTicks).toBe(400);
    expect(stat.contextSwitches).toBe(500000);
  });

  it("fills columns that old kernels do not print with zero", () => {
    const stat = parseProcStat("cpu 1 2 3 4\n");
    expect(stat.total.iowaitTicks).toBe(0);
    expect(stat.total.idleTicks).toBe(4);
    expect(stat.contextSwitches).toBeNull();
  });

  it.each([
    ["no aggregate line", "cpu0 1 2 3 4\n"],
    ["too few columns", "cpu 1 2 3\n"],
    ["a negative counter", "cpu 1 2 -3 4\n"],
    ["a non-numeric counter", "cpu 1 2 x 4\n"],
    ["a duplicated cpu line", "cpu 1 2 3 4\ncpu0 1 2 3 4\ncpu0 1 2 3 4\n"],
    ["a ctxt without value", "cpu 1 2 3 4\nctxt\n"],
    ["an empty file", ""],
  ])("rejects %s", (_case, malformed) => {
    expect(() => parseProcStat(malformed)).toThrow(ParseError);
  });
});

describe("parsePressure", () => {
  it("reads the some and full lines", () => {
    const pressure = parsePressure(
      "some avg10=1.85 avg60=2.54 avg300=2.30 total=11043449\nfull avg10=0.00 avg60=0.10 avg300=0.00 total=7\n",
    );
    expect(pressure).toEqual({
      some: { avg10Pct: 1.85, avg60Pct: 2.54, avg300Pct: 2.3, totalUs: 11043449 },
      full: { avg10Pct: 0, avg60Pct: 0.1, avg300Pct: 0, totalUs: 7 },
    });
  });

  it("gives a null full line on kernels that only print some", () => {
    expect(parsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n").full).toBeNull();
  });

  it.each([
    ["no some line", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"],
    ["a missing average", "some avg10=0.00 avg300=0.00 total=0\n"],
    ["a negative total", "some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n"],
    ["an unknown line", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nhalf avg10=1\n"],
    ["a field without =", "some avg10 avg60=0.00 avg300=0.00 total=0\n"],
    ["an empty file", ""],
  ])("rejects %s", (_case, malformed) => {
    expect(() => parsePressure(malformed)).toThrow(ParseError);
  });
});

describe("parseSchedstat", () => {
  const text = [
    "version 17",
    "timestamp 4295122502",
    "cpu0 0 0 9 3 5 2 1000 500 7",
    "domain0 SMT 00000003 1 2 3 4 5 6 7 8 9 10",
    "cpu1 0 0 9 3 5 2 2000 800 4",
    "domain0 SMT 00000003 1 2 3",
    "",
  ].join("\n");

  it("reads run time, run delay and timeslices per CPU and skips domain lines", () => {
    const schedstat = parseSchedstat(text);
    expect(schedstat.version).toBe(17);
    expect(schedstat.perCpu.get(0)).toEqual({ runTimeNs: 1000, runDelayNs: 500, timeslices: 7 });
    expect(schedstat.perCpu.get(1)).toEqual({ runTimeNs: 2000, runDelayNs: 800, timeslices: 4 });
  });

  it.each([
    ["a cpu line with 8 fields", "version 15\ncpu0 0 0 9 3 5 2 1000 500\n"],
    ["a cpu line with 10 fields", "version 15\ncpu0 0 0 9 3 5 2 1000 500 7 1\n"],
    ["a non-numeric delay", "version 15\ncpu0 0 0 9 3 5 2 1000 x 7\n"],
    ["no cpu lines", "version 15\ntimestamp 1\n"],
    ["a duplicated cpu", "cpu0 0 0 9 3 5 2 1000 500 7\ncpu0 0 0 9 3 5 2 1000 500 7\n"],
  ])("rejects %s", (_case, malformed) => {
    expect(() => parseSchedstat(malformed)).toThrow(ParseError);
  });
});

describe("parseLoadAvg", () => {
  it("reads the three averages and the task counts", () => {
    expect(parseLoadAvg("0.19 0.18 0.08 1/84 3050\n")).toEqual({
      load1: 0.19,
      load5: 0.18,
      load15: 0.08,
      runnableTasks: 1,
      totalTasks: 84,
    });
  });

  it.each([
    "0.19 0.18 0.08 1/84",
    "0.19 0.18 x 1/84 3050",
    "0.19 0.18 0.08 184 3050",
    "0.1 0.1 0.1 1/2/3 9",
    "",
  ])("rejects %j", (malformed) => {
    expect(() => parseLoadAvg(malformed)).toThrow(ParseError);
  });
});

describe("parseMemInfo", () => {
  it("converts kB (KiB) to bytes and leaves unitless counts alone", () => {
    const memory = parseMemInfo(
      "MemTotal:       2048 kB\nMemFree:        1024 kB\nMemAvailable:   1536 kB\nHugePages_Total:       0\nSwapTotal:         0 kB\nSwapFree:          0 kB\n",
    );
    expect(memory).toEqual({
      totalBytes: 2048 * 1024,
      freeBytes: 1024 * 1024,
      availableBytes: 1536 * 1024,
      swapTotalBytes: 0,
      swapFreeBytes: 0,
    });
  });

  it("gives null for fields older kernels lack", () => {
    const memory = parseMemInfo("MemTotal: 2048 kB\nMemFree: 1024 kB\n");
    expect(memory.availableBytes).toBeNull();
    expect(memory.swapTotalBytes).toBeNull();
  });

  it.each([
    ["no MemTotal", "MemFree: 1024 kB\n"],
    ["an unknown unit", "MemTotal: 2 MB\nMemFree: 1 MB\n"],
    ["a line without colon", "MemTotal 2048 kB\nMemFree: 1 kB\n"],
    ["a non-numeric amount", "MemTotal: lots kB\nMemFree: 1 kB\n"],
  ])("rejects %s", (_case, malformed) => {
    expect(() => parseMemInfo(malformed)).toThrow(ParseError);
  });
});

describe("parsePidStat", () => {
  it("reads utime, stime and start time after a name holding spaces and parentheses", () => {
    const line = pidStatLine({
      pid: 42,
      comm: "a) b (c",
      utimeTicks: 7,
      stimeTicks: 3,
      startTimeTicks: 900,
    });
    expect(parsePidStat(line)).toEqual({
      pid: 42,
      comm: "a) b (c",
      state: "S",
      utimeTicks: 7,
      stimeTicks: 3,
      startTimeTicks: 900,
    });
  });

  it.each([
    ["no parentheses", "42 name S 1 2 3"],
    ["a truncated line", "42 (name) S 1 42 42 0 -1 4194560 0 0 0 0 7"],
    ["a non-numeric pid", "x (name) S 1 42 42 0 -1 4194560 0 0 0 0 7 3 0 0 20 0 1 0 900 0"],
    ["a negative utime", "42 (name) S 1 42 42 0 -1 4194560 0 0 0 0 -7 3 0 0 20 0 1 0 900 0"],
    ["nothing after the name", "42 (name)"],
  ])("rejects %s", (_case, malformed) => {
    expect(() => parsePidStat(malformed)).toThrow(ParseError);
  });
});

describe("sched_ext and one-value files", () => {
  it.each(["enabled", "disabled", "enabling", "disabling"])("reads the state %s", (state) => {
    expect(parseSchedExtState(`${state}\n`)).toBe(state);
  });

  it("rejects an unknown sched_ext state", () => {
    expect(() => parseSchedExtState("on\n")).toThrow(/unknown state "on"/);
  });

  it("reads a one-line value and rejects an empty or multi-line one", () => {
    expect(parseSingleLine("fifo\n", "ops")).toBe("fifo");
    expect(() => parseSingleLine("\n", "ops")).toThrow(ParseError);
    expect(() => parseSingleLine("a\nb\n", "ops")).toThrow(ParseError);
  });

  it("reads -1 topology ids as unknown and rejects other negative ids", () => {
    expect(parseTopologyId("3\n", "core_id")).toBe(3);
    expect(parseTopologyId("-1\n", "core_id")).toBeNull();
    expect(() => parseTopologyId("-2\n", "core_id")).toThrow(ParseError);
  });

  it("reads an unsigned file and rejects a decimal", () => {
    expect(parseUnsignedFile("3\n", "enable_seq")).toBe(3);
    expect(() => parseUnsignedFile("3.5\n", "enable_seq")).toThrow(ParseError);
  });
});
