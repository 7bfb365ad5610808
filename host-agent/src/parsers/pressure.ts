import { ParseError } from "./errors.js";
import { fields, lines, parseDecimal, parseUnsigned } from "./tokens.js";

const FORMAT = "/proc/pressure";

/** One line of a PSI file: the share of time tasks stalled, averaged over 10 s, 60 s, 300 s. */
export interface PressureLine {
  avg10Pct: number;
  avg60Pct: number;
  avg300Pct: number;
  /** Cumulative stall time since boot. */
  totalUs: number;
}

/** A PSI resource file such as `/proc/pressure/cpu`. */
export interface Pressure {
  some: PressureLine;
  /** The `full` line for CPU appeared in Linux 5.13; older kernels only print `some`. */
  full: PressureLine | null;
}

/**
 * Parses a PSI file (`some avg10=… avg60=… avg300=… total=…` and optionally `full …`).
 *
 * @example
 * parsePressure("some avg10=1.85 avg60=2.54 avg300=2.30 total=11043449\n").some.avg10Pct; // 1.85
 */
export function parsePressure(text: string): Pressure {
  let some: PressureLine | null = null;
  let full: PressureLine | null = null;
  for (const line of lines(text)) {
    const [kind, ...pairs] = fields(line);
    if (kind !== "some" && kind !== "full") {
      throw new ParseError(FORMAT, `unexpected line ${JSON.stringify(line)}`);
    }
    const parsed = parseLine(kind, pairs);
    if (kind === "some") some = parsed;
    else full = parsed;
  }
  if (some === null) throw new ParseError(FORMAT, "no some line");
  return { some, full };
}

function parseLine(kind: string, pairs: string[]): PressureLine {
  const values = new Map<string, string>();
  for (const pair of pairs) {
    const [key, value, extra] = pair.split("=");
    if (key === undefined || value === undefined || extra !== undefined) {
      throw new ParseError(FORMAT, `${kind}: bad field ${JSON.stringify(pair)}`);
    }
    values.set(key, value);
  }
  return {
    avg10Pct: parseDecimal(values.get("avg10"), FORMAT, `${kind} avg10`),
    avg60Pct: parseDecimal(values.get("avg60"), FORMAT, `${kind} avg60`),
    avg300Pct: parseDecimal(values.get("avg300"), FORMAT, `${kind} avg300`),
    totalUs: parseUnsigned(values.get("total"), FORMAT, `${kind} total`),
  };
}
