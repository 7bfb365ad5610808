/**
 * A statement's capability guard, and the engine's index of statements by capability.
 *
 * Why: the relevance check (relevance.ts) runs every statement of the set on every call, and
 * most tenant statements are about one capability or a namespace of them: capabilities are data
 * the policies name by value (schema.ts: `context.capability == "proc.spawn"`, `like "ext.*"`).
 * Such a statement's FIRST condition tests the capability, right after the scope, which cannot
 * fail in Cedar (it only compares entities). So when the test is false, Cedar finds the
 * statement false without an error, whatever else the request holds: for a given capability,
 * the statements whose guard rejects it need no check at all. The candidates per capability are
 * computed once and remembered; a call checks only those.
 */

import { MAX_INDEXED_CAPABILITIES } from "./limits.js";
import { likeMatcher, type PatternElem } from "./values.js";

/** True when the statement may apply to a call of this capability. */
export type Guard = (capability: string) => boolean;

function asObject(x: unknown): Record<string, unknown> | null {
  return typeof x === "object" && x !== null && !Array.isArray(x)
    ? (x as Record<string, unknown>)
    : null;
}

/** `context.capability`, in Cedar's JSON form. */
function isCapability(x: unknown): boolean {
  const dot = asObject(asObject(x)?.["."]);
  return asObject(dot?.left)?.Var === "context" && dot?.attr === "capability";
}

function stringValue(x: unknown): string | null {
  const v = asObject(x)?.Value;
  return typeof v === "string" ? v : null;
}

/**
 * A test of the capability alone that cannot fail in Cedar (the context always has a String
 * `capability`): `== "…"` either way round, `like "…"`, or `||` of such tests.
 */
function capabilityTest(expr: unknown): Guard | null {
  const o = asObject(expr);
  const eq = asObject(o?.["=="]);
  if (eq) {
    const literal = isCapability(eq.left)
      ? stringValue(eq.right)
      : isCapability(eq.right)
        ? stringValue(eq.left)
        : null;
    return literal === null ? null : (c) => c === literal;
  }
  const like = asObject(o?.like);
  if (like && isCapability(like.left) && Array.isArray(like.pattern)) {
    const ok = like.pattern.every(
      (e) => e === "Wildcard" || typeof asObject(e)?.Literal === "string",
    );
    return ok ? likeMatcher(like.pattern as PatternElem[]) : null;
  }
  const or = asObject(o?.["||"]);
  if (or) {
    const left = capabilityTest(or.left);
    const right = capabilityTest(or.right);
    return left && right ? (c) => left(c) || right(c) : null;
  }
  return null;
}

/**
 * The capability guard of a statement in Cedar's JSON form, or null when its first condition
 * is not such a test. `when { T }` and `when { T && … }` need T; `unless { T }` and
 * `unless { T || … }` need T false.
 *
 * @example guardOf(policyToJson('forbid (principal, action, resource) when { context.capability like "ext.*" };'))!("proc.spawn") // false
 */
export function guardOf(policy: unknown): Guard | null {
  const conditions = asObject(policy)?.conditions;
  if (!Array.isArray(conditions)) return null;
  const first = asObject(conditions[0]);
  const body = asObject(first?.body);
  if (!body) return null;
  if (first?.kind === "when") {
    const and = asObject(body["&&"]);
    return capabilityTest(and ? and.left : body);
  }
  if (first?.kind === "unless") {
    const or = asObject(body["||"]);
    const test = capabilityTest(or ? or.left : body);
    return test ? (c) => !test(c) : null;
  }
  return null;
}

/**
 * The statements worth checking for a call of `capability`: those without a guard and those
 * whose guard admits it, in set order. Remembered per capability; past
 * MAX_INDEXED_CAPABILITIES the oldest is forgotten (recomputing it costs one guard call per
 * statement, so first in, first out is enough).
 *
 * @example const candidates = capabilityIndex(statements.map(guardOf)); candidates("proc.spawn") // [0, 1, 2, 3, 7]
 */
export function capabilityIndex(
  guards: ReadonlyArray<Guard | null>,
): (capability: string) => readonly number[] {
  const known = new Map<string, readonly number[]>();
  return (capability) => {
    let candidates = known.get(capability);
    if (!candidates) {
      candidates = guards.flatMap((g, i) => (g === null || g(capability) ? [i] : []));
      if (known.size >= MAX_INDEXED_CAPABILITIES) known.delete(known.keys().next().value!);
      known.set(capability, candidates);
    }
    return candidates;
  };
}
