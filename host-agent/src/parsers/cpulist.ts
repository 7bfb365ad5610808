import { ParseError } from "./errors.js";
import { parseUnsigned } from "./tokens.js";

/** Highest CPU id accepted: the kernel's largest NR_CPUS (x86 MAXSMP) is 8192. */
export const MAX_CPU_ID = 8191;

const FORMAT = "cpulist";

/**
 * Parses a kernel CPU list such as `/sys/devices/system/cpu/online` (`0-3,8,10-11`) into
 * sorted, distinct CPU ids. An empty list (a set with no CPUs, as in `offline`) is `[]`.
 *
 * @example
 * parseCpuList("0-2,5\n"); // [0, 1, 2, 5]
 */
export function parseCpuList(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const ids = new Set<number>();
  for (const part of trimmed.split(",")) {
    const bounds = part.split("-");
    if (bounds.length > 2) throw new ParseError(FORMAT, `bad range ${JSON.stringify(part)}`);
    const first = cpuId(bounds[0]);
    const last = bounds.length === 2 ? cpuId(bounds[1]) : first;
    if (last < first) throw new ParseError(FORMAT, `range ${JSON.stringify(part)} runs backwards`);
    for (let id = first; id <= last; id += 1) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

function cpuId(token: string | undefined): number {
  const id = parseUnsigned(token, FORMAT, "cpu id");
  // The bound keeps a corrupt or hostile file from making us expand a range of billions.
  if (id > MAX_CPU_ID) throw new ParseError(FORMAT, `cpu id ${id} exceeds ${MAX_CPU_ID}`);
  return id;
}

/**
 * Formats CPU ids in the kernel's list format, collapsing runs into ranges; the inverse of
 * {@link parseCpuList} for sorted, distinct ids.
 *
 * @example
 * formatCpuList([0, 1, 2, 5]); // "0-2,5"
 */
export function formatCpuList(ids: readonly number[]): string {
  const ranges: { first: number; last: number }[] = [];
  for (const id of ids) {
    const current = ranges.at(-1);
    if (current !== undefined && id === current.last + 1) current.last = id;
    else ranges.push({ first: id, last: id });
  }
  return ranges
    .map(({ first, last }) => (first === last ? `${first}` : `${first}-${last}`))
    .join(",");
}
