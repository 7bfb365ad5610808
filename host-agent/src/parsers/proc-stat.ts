import { ParseError } from "./errors.js";
import { fields, lines, parseUnsigned } from "./tokens.js";

const FORMAT = "/proc/stat";

/**
 * Cumulative CPU time by state, in USER_HZ ticks. `guest` and `guest_nice` are left out on
 * purpose: the kernel already counts them inside `user` and `nice`, so adding them would
 * count guest time twice.
 */
export interface CpuTimes {
  userTicks: number;
  niceTicks: number;
  systemTicks: number;
  idleTicks: number;
  iowaitTicks: number;
  irqTicks: number;
  softirqTicks: number;
  stealTicks: number;
}

/** The parts of `/proc/stat` the telemetry uses. */
export interface ProcStat {
  /** The aggregate `cpu` line: all online CPUs together. */
  total: CpuTimes;
  /** `cpuN` lines by CPU id; offline CPUs have no line. */
  perCpu: ReadonlyMap<number, CpuTimes>;
  /** `ctxt`: context switches since boot. */
  contextSwitches: number | null;
}

/** The column order of a `cpu` line, as documented in proc(5). */
const COLUMNS = [
  "userTicks",
  "niceTicks",
  "systemTicks",
  "idleTicks",
  "iowaitTicks",
  "irqTicks",
  "softirqTicks",
  "stealTicks",
] as const satisfies readonly (keyof CpuTimes)[];

/** Kernels before 2.6 printed only user, nice, system and idle. */
const MIN_COLUMNS = 4;

/**
 * Parses `/proc/stat`: the aggregate and per-CPU time lines and the context-switch counter.
 *
 * @example
 * const stat = parseProcStat("cpu 10 0 5 85 0 0 0 0 0 0\ncpu0 10 0 5 85 0 0 0 0 0 0\nctxt 42\n");
 * stat.perCpu.get(0)?.idleTicks; // 85
 */
export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | null = null;
  const perCpu = new Map<number, CpuTimes>();
  let contextSwitches: number | null = null;
  for (const line of lines(text)) {
    const [key, ...values] = fields(line);
    if (key === undefined) continue;
    if (key === "cpu") {
      if (total !== null) throw new ParseError(FORMAT, "two aggregate cpu lines");
      total = parseCpuTimes(key, values);
    } else if (/^cpu\d+$/.test(key)) {
      const cpu = parseUnsigned(key.slice(3), FORMAT, "cpu id");
      if (perCpu.has(cpu)) throw new ParseError(FORMAT, `two lines for ${key}`);
      perCpu.set(cpu, parseCpuTimes(key, values));
    } else if (key === "ctxt") {
      contextSwitches = parseUnsigned(values[0], FORMAT, "ctxt");
    }
  }
  if (total === null) throw new ParseError(FORMAT, "no aggregate cpu line");
  return { total, perCpu, contextSwitches };
}

function parseCpuTimes(key: string, values: string[]): CpuTimes {
  if (values.length < MIN_COLUMNS) {
    throw new ParseError(FORMAT, `${key}: expected at least ${MIN_COLUMNS} columns`);
  }
  const times: CpuTimes = {
    userTicks: 0,
    niceTicks: 0,
    systemTicks: 0,
    idleTicks: 0,
    iowaitTicks: 0,
    irqTicks: 0,
    softirqTicks: 0,
    stealTicks: 0,
  };
  COLUMNS.forEach((column, index) => {
    const token = values[index];
    if (token !== undefined) times[column] = parseUnsigned(token, FORMAT, `${key} ${column}`);
  });
  return times;
}
