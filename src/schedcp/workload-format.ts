/** Rounding and formatting shared by the workload analysis modules. */

/** Rounded to two decimals, as profiles show values; null stays null. */
export function round2(value: number): number;
export function round2(value: number | null): number | null;
export function round2(value: number | null): number | null {
  return value === null ? null : Math.round(value * 100) / 100;
}
/** The plain mean; 0 for no values. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length;
}
/** A 0-1 share as a whole percentage for summaries, e.g. "67%". */
export function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}
/** A value for a summary line: two decimals, "?" when unknown. */
export function fmt(value: number | null): string {
  return value === null ? "?" : String(round2(value));
}
