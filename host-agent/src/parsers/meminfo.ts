import { ParseError } from "./errors.js";
import { lines, parseUnsigned } from "./tokens.js";

const FORMAT = "/proc/meminfo";
const BYTES_PER_KIB = 1024;

/** The memory facts a node reports, in bytes. */
export interface MemInfo {
  totalBytes: number;
  freeBytes: number;
  /** `MemAvailable` appeared in Linux 3.14; older kernels lack it. */
  availableBytes: number | null;
  swapTotalBytes: number | null;
  swapFreeBytes: number | null;
}

/**
 * Parses `/proc/meminfo`. `kB` in that file means KiB. `MemTotal` and `MemFree` are required.
 *
 * @example
 * parseMemInfo("MemTotal: 2048 kB\nMemFree: 1024 kB\n").totalBytes; // 2097152
 */
export function parseMemInfo(text: string): MemInfo {
  const values = new Map<string, number>();
  for (const line of lines(text)) {
    const match = /^([A-Za-z0-9_()]+):\s+(\S+)(?:\s+(\S+))?$/.exec(line);
    if (!match) throw new ParseError(FORMAT, `unreadable line ${JSON.stringify(line)}`);
    const [, key, amount, unit] = match;
    if (key === undefined) continue;
    const count = parseUnsigned(amount, FORMAT, key);
    if (unit !== undefined && unit !== "kB") {
      throw new ParseError(FORMAT, `${key}: unknown unit ${JSON.stringify(unit)}`);
    }
    values.set(key, unit === "kB" ? count * BYTES_PER_KIB : count);
  }
  const required = (key: string): number => {
    const value = values.get(key);
    if (value === undefined) throw new ParseError(FORMAT, `missing ${key}`);
    return value;
  };
  return {
    totalBytes: required("MemTotal"),
    freeBytes: required("MemFree"),
    availableBytes: values.get("MemAvailable") ?? null,
    swapTotalBytes: values.get("SwapTotal") ?? null,
    swapFreeBytes: values.get("SwapFree") ?? null,
  };
}
