import { ParseError } from "./errors.js";
import { fields, parseDecimal, parseUnsigned } from "./tokens.js";

const FORMAT = "/proc/loadavg";

/** `/proc/loadavg`: run-queue length averaged over 1, 5 and 15 minutes, and task counts. */
export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  /** Tasks currently runnable (the number before the slash). */
  runnableTasks: number;
  /** Tasks (threads) that exist (the number after the slash). */
  totalTasks: number;
}

/**
 * Parses `/proc/loadavg` (`0.19 0.18 0.08 1/84 3050`).
 *
 * @example
 * parseLoadAvg("0.19 0.18 0.08 1/84 3050\n").totalTasks; // 84
 */
export function parseLoadAvg(text: string): LoadAvg {
  const tokens = fields(text);
  if (tokens.length !== 5) throw new ParseError(FORMAT, `expected 5 fields, got ${tokens.length}`);
  const [load1, load5, load15, tasks] = tokens;
  const [runnable, total, extra] = (tasks ?? "").split("/");
  if (extra !== undefined) throw new ParseError(FORMAT, `bad task counts ${JSON.stringify(tasks)}`);
  return {
    load1: parseDecimal(load1, FORMAT, "load1"),
    load5: parseDecimal(load5, FORMAT, "load5"),
    load15: parseDecimal(load15, FORMAT, "load15"),
    runnableTasks: parseUnsigned(runnable, FORMAT, "runnable tasks"),
    totalTasks: parseUnsigned(total, FORMAT, "total tasks"),
  };
}
