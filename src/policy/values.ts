/**
 * Cedar values as the relevance check (`relevance.ts`) sees them, with Cedar's equality and
 * `like`. Only what a request of ours can hold is modelled: strings, Longs (as safe integers),
 * booleans, entity references, sets and records. Anything else is `UNKNOWN`, which the check
 * treats as "might be anything, or an error".
 */

/** A value the check cannot compute, or that Cedar might fail to compute (an error). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

export class EntityRef {
  constructor(
    readonly type: string,
    readonly id: string,
  ) {}
}

export class CedarSet {
  constructor(readonly items: readonly Value[]) {}
}

export class CedarRecord {
  constructor(readonly attrs: ReadonlyMap<string, Value>) {}
}

export type Value = string | number | boolean | EntityRef | CedarSet | CedarRecord;

/**
 * Cedar's `==`: structural, never an error; values of different types are simply unequal.
 * Sets compare as sets (order and repeats do not matter).
 *
 * @example equals(new EntityRef("Tenant", "t"), new EntityRef("Tenant", "t")) // true
 */
export function equals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a instanceof EntityRef) return b instanceof EntityRef && a.type === b.type && a.id === b.id;
  if (a instanceof CedarSet) {
    return (
      b instanceof CedarSet &&
      a.items.every((x) => contains(b, x)) &&
      b.items.every((y) => contains(a, y))
    );
  }
  if (a instanceof CedarRecord) {
    if (!(b instanceof CedarRecord) || a.attrs.size !== b.attrs.size) return false;
    for (const [k, v] of a.attrs) {
      const w = b.attrs.get(k);
      if (w === undefined || !equals(v, w)) return false;
    }
    return true;
  }
  return false; // distinct primitives (=== failed above), or a primitive against an object
}

/** Cedar's `set.contains(x)`. */
export function contains(set: CedarSet, x: Value): boolean {
  return set.items.some((item) => equals(item, x));
}

/** A `like` pattern in Cedar's JSON form: `"Wildcard"` or `{ Literal: "…" }` elements. */
export type PatternElem = "Wildcard" | { Literal: string };

/**
 * Compiles a `like` pattern to a matcher. `*` matches any run of characters, newlines
 * included; everything else matches itself. The common shapes (`"ns.*"`, `"*.get"`, no
 * wildcard) skip the regular expression: the check runs for every statement on every call.
 *
 * @example likeMatcher(["Wildcard", { Literal: ".get" }])("proc.get") // true
 */
export function likeMatcher(pattern: readonly PatternElem[]): (s: string) => boolean {
  // Adjacent literals (Cedar's JSON gives one per character) joined; null stands for `*`.
  const parts: Array<string | null> = [];
  for (const e of pattern) {
    const last = parts.length - 1;
    if (e === "Wildcard") {
      if (parts[last] !== null || last < 0) parts.push(null);
    } else if (e.Literal !== "") {
      if (typeof parts[last] === "string") parts[last] += e.Literal;
      else parts.push(e.Literal);
    }
  }
  const [a, b, c] = parts;
  const n = parts.length;
  if (n === 1 && a !== null) return (s) => s === a;
  if (n === 1) return () => true;
  if (n === 2 && a != null && b === null) return (s) => s.startsWith(a);
  if (n === 2 && a === null && b != null) return (s) => s.endsWith(b);
  if (n === 3 && a === null && b != null && c === null) return (s) => s.includes(b);
  const source = parts
    .map((p) => (p === null ? ".*" : p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  const re = new RegExp(`^${source}$`, "su");
  return (s) => re.test(s);
}

/** Strings JSON and Cedar can carry: no unpaired UTF-16 surrogate. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
