import { ParseError } from "./errors.js";
import { fields, lines, parseUnsigned } from "./tokens.js";

const FORMAT = "/proc/schedstat";

/** Run-queue counters of one CPU, cumulative since boot. */
export interface CpuSchedstat {
  /** Field 7: time tasks spent running on this CPU. */
  runTimeNs: number;
  /** Field 8: time tasks spent runnable but waiting for this CPU. */
  runDelayNs: number;
  /** Field 9: timeslices run on this CPU. */
  timeslices: number;
}

/** The per-CPU part of `/proc/schedstat`. */
export interface Schedstat {
  version: number | null;
  perCpu: ReadonlyMap<number, CpuSchedstat>;
}

/** Every `cpuN` line since schedstat version 15 has exactly these nine fields. */
const CPU_FIELDS = 9;

/**
 * Parses `/proc/schedstat`. Only `cpuN` lines are read; `domainN` lines (whose layout changes
 * between versions 15, 16 and 17) are skipped.
 *
 * @example
 * parseSchedstat("version 15\ntimestamp 1\ncpu0 0 0 9 3 5 2 1000 500 7\n").perCpu.get(0)?.timeslices; // 7
 */
export function parseSchedstat(text: string): Schedstat {
  let version: number | null = null;
  const perCpu = new Map<number, CpuSchedstat>();
  for (const line of lines(text)) {
    const [key, ...values] = fields(line);
    if (key === "version") {
      version = parseUnsigned(values[0], FORMAT, "version");
    } else if (key !== undefined && /^cpu\d+$/.test(key)) {
      if (values.length !== CPU_FIELDS) {
        throw new ParseError(FORMAT, `${key}: expected ${CPU_FIELDS} fields, got ${values.length}`);
      }
      const cpu = parseUnsigned(key.slice(3), FORMAT, "cpu id");
      if (perCpu.has(cpu)) throw new ParseError(FORMAT, `two lines for ${key}`);
      perCpu.set(cpu, {
        runTimeNs: parseUnsigned(values[6], FORMAT, `${key} run time`),
        runDelayNs: parseUnsigned(values[7], FORMAT, `${key} run delay`),
        timeslices: parseUnsigned(values[8], FORMAT, `${key} timeslices`),
      });
    }
  }
  if (perCpu.size === 0) throw new ParseError(FORMAT, "no cpu lines");
  return { version, perCpu };
}
