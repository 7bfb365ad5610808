import { ParseError } from "./errors.js";

const UNSIGNED = /^\d+$/;
const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * Parses a kernel counter (a run of decimal digits) into a number.
 *
 * Counters above 2^53 lose their lowest bits as doubles; the telemetry only ever uses deltas
 * of them, where an error of a few units in 2^53 is far below what is reported.
 *
 * @example
 * parseUnsigned("516413", "/proc/stat", "ctxt"); // 516413
 */
export function parseUnsigned(token: string | undefined, format: string, what: string): number {
  if (token === undefined || !UNSIGNED.test(token)) {
    throw new ParseError(format, `${what}: expected an unsigned integer, got ${describe(token)}`);
  }
  return Number(token);
}

/**
 * Parses a non-negative decimal such as a load average (`0.19`) or a PSI average (`1.85`).
 *
 * @example
 * parseDecimal("2.54", "/proc/pressure/cpu", "avg60"); // 2.54
 */
export function parseDecimal(token: string | undefined, format: string, what: string): number {
  if (token === undefined || !DECIMAL.test(token)) {
    throw new ParseError(format, `${what}: expected a decimal number, got ${describe(token)}`);
  }
  return Number(token);
}

/** Splits a line on runs of whitespace, dropping empty tokens at either end. */
export function fields(line: string): string[] {
  return line
    .trim()
    .split(/\s+/)
    .filter((token) => token.length > 0);
}

/** Non-empty lines of a kernel file, without trailing whitespace. */
export function lines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.length > 0);
}

function describe(token: string | undefined): string {
  return token === undefined ? "nothing" : JSON.stringify(token);
}

/**
 * Parses a one-line text attribute such as `/sys/kernel/sched_ext/root/ops` (the loaded
 * scheduler's name) or `/proc/sys/kernel/osrelease`. An empty value is malformed.
 *
 * @example
 * parseSingleLine("fifo\n", "/sys/kernel/sched_ext/root/ops"); // "fifo"
 */
export function parseSingleLine(text: string, format: string): string {
  const value = text.trim();
  if (value === "" || value.includes("\n")) {
    throw new ParseError(format, `expected one non-empty line, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * Parses a sysfs file holding one unsigned integer, such as `sched_ext/enable_seq`.
 *
 * @example
 * parseUnsignedFile("3\n", "/sys/kernel/sched_ext/enable_seq"); // 3
 */
export function parseUnsignedFile(text: string, format: string): number {
  return parseUnsigned(text.trim(), format, "value");
}

/**
 * Parses a CPU topology id (`physical_package_id`, `core_id`). Some platforms and VMs print
 * `-1` when the firmware gives no id; that is "unknown", returned as `null`.
 *
 * @example
 * parseTopologyId("-1\n", "core_id"); // null
 */
export function parseTopologyId(text: string, format: string): number | null {
  const value = text.trim();
  if (value === "-1") return null;
  return parseUnsigned(value, format, "id");
}
