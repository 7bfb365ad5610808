/**
 * What of a request a statement can read, so the engine sends Cedar only that.
 *
 * Why: the WebAssembly binding converts every value of the request on every call, and that
 * conversion dominates a small call (bench/gate: each context attribute costs microseconds, an
 * entity with an entity-typed attribute tens). A statement that never names `context.risk`
 * cannot tell whether it was sent, and one that reads no entity attribute and uses no `in`
 * never looks at the entity data: leaving them out changes nothing Cedar can observe.
 */

import { CONTEXT_ATTRIBUTES } from "./schema.js";

export interface Footprint {
  /** The context attributes it names, or null when it may read the whole record. */
  contextKeys: ReadonlySet<string> | null;
  /** Whether it may read entity data: an attribute of an entity, `has`, `in`, tags. */
  entities: boolean;
}

const isContextVar = (x: unknown): boolean =>
  typeof x === "object" && x !== null && (x as { Var?: unknown }).Var === "context";

const knownContextKey = (key: string): boolean => Object.hasOwn(CONTEXT_ATTRIBUTES, key);

/**
 * The footprint of a statement in Cedar's JSON form. Conservative: anything it cannot read
 * exactly (`context` used as a whole, an attribute the schema does not name, which Cedar would
 * report with its own message) takes the whole context.
 *
 * @example footprintOf(policyToJson('permit (principal, action, resource) when { context.entitled };'))
 *   // { contextKeys: Set { "entitled" }, entities: false }
 */
export function footprintOf(policy: unknown): Footprint {
  const keys = new Set<string>();
  let wholeContext = false;
  let entities = false;

  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (typeof node !== "object" || node === null) return;
    const o = node as Record<string, unknown>;
    for (const [op, arg] of Object.entries(o)) {
      if (op === "Value") continue; // a literal: data, not an expression
      if (op === "Record" && typeof arg === "object" && arg !== null) {
        walk(Object.values(arg)); // field names are data, not operators
        continue;
      }
      if (op === "Var" && arg === "context") wholeContext = true;
      if (op === "in" || op === "getTag" || op === "hasTag") entities = true;
      if (op === "is" && typeof arg === "object" && arg !== null && "in" in arg) entities = true;
      if (op === "." || op === "has") {
        const { left, attr } = arg as { left?: unknown; attr?: unknown };
        const first = Array.isArray(attr) ? attr[0] : attr;
        if (isContextVar(left) && typeof first === "string" && knownContextKey(first)) {
          keys.add(first);
          if (op === "." || !Array.isArray(attr) || attr.length === 1) continue;
        }
        if (!isContextVar(left)) entities = true;
      }
      walk(arg);
    }
  };

  const p = policy as Record<string, unknown>;
  for (const scope of [p.principal, p.action, p.resource]) {
    const op = (scope as { op?: unknown } | undefined)?.op;
    if (op === "in" || (op === "is" && typeof scope === "object" && "in" in (scope as object))) {
      entities = true;
    }
  }
  walk(p.conditions);
  return { contextKeys: wholeContext ? null : keys, entities };
}

/**
 * The footprint of several statements together (a slice of the set).
 *
 * @example mergeFootprints([a, b]).contextKeys // a's keys ∪ b's keys, or null if either is null
 */
export function mergeFootprints(prints: readonly Footprint[]): Footprint {
  const keys = new Set<string>();
  let whole = false;
  let entities = false;
  for (const p of prints) {
    if (p.contextKeys === null) whole = true;
    else for (const k of p.contextKeys) keys.add(k);
    entities ||= p.entities;
  }
  return { contextKeys: whole ? null : keys, entities };
}
