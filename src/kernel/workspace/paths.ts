/**
 * Workspace paths: `reports/2026/week-47.md`. Segments separated by `/`, none empty, none `.`
 * or `..`, no control characters, well-formed UTF-8, bounded length. A share may name a path
 * or a prefix ending in `/` (everything under it).
 */

import { PATH_MAX_BYTES, SEGMENT_MAX_BYTES } from "./limits.js";

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

const encoder = new TextEncoder();
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Checks a file path or key.
 *
 * @example checkPath("notes/a.txt") // { ok: true, path: "notes/a.txt" }
 * @example checkPath("../etc") // { ok: false, reason: "…" }
 */
export function checkPath(path: string): PathCheck {
  if (path.length === 0) return { ok: false, reason: "must not be empty" };
  if (LONE_SURROGATE.test(path)) return { ok: false, reason: "must be well-formed UTF-8" };
  if (encoder.encode(path).length > PATH_MAX_BYTES) {
    return { ok: false, reason: `must be at most ${PATH_MAX_BYTES} bytes of UTF-8` };
  }
  if (CONTROL.test(path)) return { ok: false, reason: "must not contain control characters" };
  if (path.includes("\\")) return { ok: false, reason: "must use / as separator, not \\" };
  for (const segment of path.split("/")) {
    if (segment.length === 0) {
      return { ok: false, reason: "must not start or end with / nor contain //" };
    }
    if (segment === "." || segment === "..") {
      return { ok: false, reason: "must not contain . or .. segments" };
    }
    if (encoder.encode(segment).length > SEGMENT_MAX_BYTES) {
      return { ok: false, reason: `each segment must be at most ${SEGMENT_MAX_BYTES} bytes` };
    }
  }
  return { ok: true, path };
}

/**
 * Checks a share target: a path, or a prefix ending in `/` (whose part before the slash is a
 * valid path).
 *
 * @example checkSharePath("reports/") // { ok: true, path: "reports/" }
 */
export function checkSharePath(path: string): PathCheck {
  if (!path.endsWith("/")) return checkPath(path);
  const inner = checkPath(path.slice(0, -1));
  return inner.ok ? { ok: true, path } : inner;
}

/** A list prefix: empty (everything) or any string a path may start with. */
export function checkPrefix(prefix: string): PathCheck {
  if (prefix.length === 0) return { ok: true, path: prefix };
  if (LONE_SURROGATE.test(prefix) || CONTROL.test(prefix)) {
    return { ok: false, reason: "must be well-formed UTF-8 without control characters" };
  }
  if (encoder.encode(prefix).length > PATH_MAX_BYTES) {
    return { ok: false, reason: `must be at most ${PATH_MAX_BYTES} bytes of UTF-8` };
  }
  return { ok: true, path: prefix };
}

/**
 * True when a share of `sharePath` covers `path`: the same path, or a prefix share (ending in
 * `/`) that `path` lies under.
 *
 * @example shareCovers("reports/", "reports/a.md") // true
 */
export function shareCovers(sharePath: string, path: string): boolean {
  return sharePath.endsWith("/") ? path.startsWith(sharePath) : sharePath === path;
}
