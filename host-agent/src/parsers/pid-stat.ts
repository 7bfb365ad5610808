import { ParseError } from "./errors.js";
import { fields, parseUnsigned } from "./tokens.js";

const FORMAT = "/proc/[pid]/stat";

/** The parts of `/proc/[pid]/stat` used to rank processes by CPU. */
export interface PidStat {
  pid: number;
  /** The name in parentheses, truncated by the kernel to 15 bytes. */
  comm: string;
  state: string;
  /** Time in user mode, all threads, in USER_HZ ticks. */
  utimeTicks: number;
  /** Time in kernel mode, all threads, in USER_HZ ticks. */
  stimeTicks: number;
  /** Start time after boot; with the pid it identifies a process across pid reuse. */
  startTimeTicks: number;
}

/**
 * Parses `/proc/[pid]/stat`. The name may contain spaces and parentheses, so it is taken as
 * everything between the first `(` and the last `)`, and fields are counted after that.
 *
 * @example
 * parsePidStat("42 (my (odd) name) S 1 42 42 0 -1 4194560 0 0 0 0 7 3 0 0 20 0 1 0 900 0").utimeTicks; // 7
 */
export function parsePidStat(text: string): PidStat {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) throw new ParseError(FORMAT, "no (comm) field");
  const pid = parseUnsigned(text.slice(0, open).trim(), FORMAT, "pid");
  const rest = fields(text.slice(close + 1));
  // rest[0] is field 3 (state), so field N of proc(5) is rest[N - 3].
  const field = (n: number, what: string): number => parseUnsigned(rest[n - 3], FORMAT, what);
  const state = rest[0];
  if (state === undefined) throw new ParseError(FORMAT, "no state field");
  return {
    pid,
    comm: text.slice(open + 1, close),
    state,
    utimeTicks: field(14, "utime"),
    stimeTicks: field(15, "stime"),
    startTimeTicks: field(22, "starttime"),
  };
}
