/** HTTP `Range: bytes=…` for one range (RFC 9110 §14.1.2); several ranges are served whole. */

export type RangeRequest =
  | { kind: "whole" }
  | { kind: "range"; offset: number; length: number }
  | { kind: "unsatisfiable" };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

/**
 * Resolves a Range header against a size in bytes. A header this does not understand (another
 * unit, several ranges) is ignored, as the RFC allows: the whole body is served.
 *
 * @example parseRange("bytes=0-9", 100) // { kind: "range", offset: 0, length: 10 }
 * @example parseRange("bytes=-10", 100) // { kind: "range", offset: 90, length: 10 }
 */
export function parseRange(header: string | undefined, sizeBytes: number): RangeRequest {
  if (header === undefined) return { kind: "whole" };
  const m = SINGLE.exec(header.trim());
  if (!m) return { kind: "whole" };
  const [, first, last] = m as unknown as [string, string, string];
  if (first === "" && last === "") return { kind: "whole" };
  if (first === "") {
    // Suffix range: the last N bytes.
    const n = Number(last);
    if (n === 0 || sizeBytes === 0) return { kind: "unsatisfiable" };
    const length = Math.min(n, sizeBytes);
    return { kind: "range", offset: sizeBytes - length, length };
  }
  const start = Number(first);
  if (start >= sizeBytes) return { kind: "unsatisfiable" };
  const end = last === "" ? sizeBytes - 1 : Math.min(Number(last), sizeBytes - 1);
  if (end < start) return { kind: "whole" };
  return { kind: "range", offset: start, length: end - start + 1 };
}
