/**
 * Which statements can matter to a request: the index in front of Cedar.
 *
 * Why: Cedar's WebAssembly build spends a few microseconds on every statement of the set on
 * every call, whatever the statement says (bench/gate: ~3 µs each, so ~300 µs at 100), while a
 * typical call is decided by one to three of them. So before calling Cedar the engine drops the
 * statements that Cedar would certainly find false WITHOUT an error for this request, and
 * evaluates only the rest. Those dropped contribute nothing to Cedar's answer (not its decision,
 * not the determining policies, not the errors), so the answer over the rest is the same.
 *
 * A statement is compiled, once, from Cedar's JSON form into closures that evaluate its
 * condition in the order Cedar does (scope, then `when`/`unless` clauses, left to right,
 * short-circuiting). Every operation the closures do not model exactly, and every one that could
 * fail in Cedar (arithmetic overflow, extension functions, tags, a missing attribute, a type
 * error), yields UNKNOWN, and a statement is dropped only on a definite `false` reached through
 * definite, error-free steps. Where it is unsure it keeps the statement: doubt costs time (Cedar
 * evaluates one more statement), never a different answer. test/policy/relevance.test.ts holds
 * the engine to Cedar over the whole set on generated requests.
 */

import type { CedarRequest, CedarValue } from "./request.js";
import {
  CedarRecord,
  CedarSet,
  contains,
  EntityRef,
  equals,
  likeMatcher,
  type PatternElem,
  UNKNOWN,
  type Unknown,
  type Value,
} from "./values.js";

interface EntityData {
  type: string;
  id: string;
  attrs: ReadonlyMap<string, Value>;
  /** Every entity it is `in`, transitively (itself excluded). */
  ancestors: readonly EntityRef[];
}

/** A request as the compiled checks read it. */
export interface RequestEnv {
  principal: EntityRef;
  action: EntityRef;
  resource: EntityRef;
  context: CedarRecord;
  /** The entity data the request gives (the principal, maybe the resource): at most a few. */
  entities: readonly EntityData[];
}

type Eval = (env: RequestEnv) => Value | Unknown;

/** A compiled statement: false only when Cedar would certainly find it false, without error. */
export type MayApply = (env: RequestEnv) => boolean;

function fromJson(v: CedarValue): Value {
  if (Array.isArray(v)) return new CedarSet(v);
  if (typeof v === "object") return new EntityRef(v.__entity.type, v.__entity.id);
  return v;
}

function attrsOf(json: Record<string, CedarValue>): Map<string, Value> {
  const attrs = new Map<string, Value>();
  for (const k in json) attrs.set(k, fromJson(json[k]!));
  return attrs;
}

/**
 * The request as the checks see it: the same values Cedar will be given.
 *
 * @example requestEnv(built.request).principal // EntityRef { type: "Process", id: "proc_1" }
 */
export function requestEnv(req: CedarRequest): RequestEnv {
  const entities = req.entities.map(
    (e): EntityData => ({
      type: e.uid.type,
      id: e.uid.id,
      attrs: attrsOf(e.attrs),
      ancestors: e.parents.map((p) => new EntityRef(p.type, p.id)),
    }),
  );
  // Transitive closure, as Cedar computes it: a parent's own parents, when it is given too.
  // (Ours are one level deep, a member and its tenant; the loop keeps the check honest.)
  for (const e of entities) {
    const all = e.ancestors as EntityRef[];
    for (let i = 0; i < all.length; i++) {
      const up = dataOf(entities, all[i]!)?.ancestors ?? [];
      for (const a of up) if (!all.some((x) => equals(x, a)) && !isSelf(e, a)) all.push(a);
    }
  }
  return {
    principal: new EntityRef(req.principal.type, req.principal.id),
    action: new EntityRef(req.action.type, req.action.id),
    resource: new EntityRef(req.resource.type, req.resource.id),
    context: new CedarRecord(attrsOf(req.context)),
    entities,
  };
}

const isSelf = (e: EntityData, uid: EntityRef): boolean => e.type === uid.type && e.id === uid.id;

function dataOf(entities: readonly EntityData[], uid: EntityRef): EntityData | undefined {
  for (const e of entities) if (isSelf(e, uid)) return e;
  return undefined;
}

function asObject(x: unknown): Record<string, unknown> | null {
  return typeof x === "object" && x !== null && !Array.isArray(x)
    ? (x as Record<string, unknown>)
    : null;
}

/** An entity reference in either JSON form, `{ __entity: { type, id } }` or `{ type, id }`. */
function entityRef(x: unknown): EntityRef | null {
  const o = asObject(x);
  const u = asObject(o?.__entity) ?? o;
  return typeof u?.type === "string" && typeof u.id === "string"
    ? new EntityRef(u.type, u.id)
    : null;
}

/** A literal (`{ Value: … }`); Longs beyond 2^53 are not modelled (JSON already rounded them). */
function literal(x: unknown): Value | Unknown {
  if (typeof x === "string" || typeof x === "boolean") return x;
  if (typeof x === "number") return Number.isSafeInteger(x) ? x : UNKNOWN;
  if (Array.isArray(x)) {
    const items = x.map(literal);
    return items.every((i) => i !== UNKNOWN) ? new CedarSet(items as Value[]) : UNKNOWN;
  }
  const o = asObject(x);
  if (!o) return UNKNOWN;
  if ("__entity" in o) return entityRef(o) ?? UNKNOWN;
  const attrs = new Map<string, Value>();
  for (const [k, v] of Object.entries(o)) {
    const value = k.startsWith("__") ? UNKNOWN : literal(v); // escapes: __extn, __expr
    if (value === UNKNOWN) return UNKNOWN;
    attrs.set(k, value);
  }
  return new CedarRecord(attrs);
}

function getAttr(v: Value, attr: string, env: RequestEnv): Value | Unknown {
  if (v instanceof CedarRecord) return v.attrs.get(attr) ?? UNKNOWN;
  if (v instanceof EntityRef) return dataOf(env.entities, v)?.attrs.get(attr) ?? UNKNOWN;
  return UNKNOWN;
}

function hasAttr(v: Value, attr: string, env: RequestEnv): boolean | Unknown {
  if (v instanceof CedarRecord) return v.attrs.has(attr);
  if (v instanceof EntityRef) {
    const data = dataOf(env.entities, v);
    return data ? data.attrs.has(attr) : false; // an entity with no data has no attributes
  }
  return UNKNOWN;
}

/** `x in y`: y is x, or one of its ancestors; an entity with no data has none. */
function isIn(x: Value | Unknown, y: Value | Unknown, env: RequestEnv): boolean | Unknown {
  if (!(x instanceof EntityRef)) return UNKNOWN;
  const targets = y instanceof CedarSet ? y.items : [y];
  if (!targets.every((t) => t instanceof EntityRef)) return UNKNOWN;
  const ancestors = dataOf(env.entities, x)?.ancestors ?? [];
  return targets.some((t) => equals(x, t as Value) || ancestors.some((a) => equals(a, t as Value)));
}

const known = (v: Value | Unknown): v is Value => v !== UNKNOWN;
const always =
  (v: Value | Unknown): Eval =>
  () =>
    v;

function binary(arg: unknown, op: (a: Value, b: Value) => Value | Unknown): Eval {
  const o = asObject(arg);
  if (!o) return always(UNKNOWN);
  const left = compileExpr(o.left);
  const right = compileExpr(o.right);
  return (env) => {
    const a = left(env);
    const b = right(env);
    return known(a) && known(b) ? op(a, b) : UNKNOWN;
  };
}

const longs =
  (cmp: (a: number, b: number) => boolean) =>
  (a: Value, b: Value): boolean | Unknown =>
    typeof a === "number" && typeof b === "number" ? cmp(a, b) : UNKNOWN;

const sets =
  (f: (a: CedarSet, b: CedarSet) => boolean) =>
  (a: Value, b: Value): boolean | Unknown =>
    a instanceof CedarSet && b instanceof CedarSet ? f(a, b) : UNKNOWN;

/**
 * Compiles one expression of Cedar's JSON policy format. Operations not listed evaluate to
 * UNKNOWN: arithmetic (it can overflow), tags, extension functions, slots.
 */
export function compileExpr(expr: unknown): Eval {
  const o = asObject(expr);
  const entries = o ? Object.entries(o) : [];
  if (entries.length !== 1) return always(UNKNOWN);
  const [op, arg] = entries[0]!;
  const a = asObject(arg);
  switch (op) {
    case "Value":
      return always(literal(arg));
    case "Var":
      switch (arg) {
        case "principal":
          return (env) => env.principal;
        case "action":
          return (env) => env.action;
        case "resource":
          return (env) => env.resource;
        case "context":
          return (env) => env.context;
      }
      return always(UNKNOWN);
    case "!": {
      const f = compileExpr(a?.arg);
      return (env) => {
        const v = f(env);
        return typeof v === "boolean" ? !v : UNKNOWN;
      };
    }
    case "==":
    case "!=": {
      const same = op === "==";
      // The common shape, `context.x == "literal"`: for a primitive literal, Cedar's equality is
      // `===` (values of different types are unequal).
      const right = asObject(a?.right);
      const lit = right && "Value" in right ? literal(right.Value) : UNKNOWN;
      if (lit !== UNKNOWN && typeof lit !== "object") {
        const left = compileExpr(a?.left);
        return (env) => {
          const v = left(env);
          return v === UNKNOWN ? UNKNOWN : (v === lit) === same;
        };
      }
      return binary(arg, (x, y) => equals(x, y) === same);
    }
    case "<":
      return binary(
        arg,
        longs((x, y) => x < y),
      );
    case "<=":
      return binary(
        arg,
        longs((x, y) => x <= y),
      );
    case ">":
      return binary(
        arg,
        longs((x, y) => x > y),
      );
    case ">=":
      return binary(
        arg,
        longs((x, y) => x >= y),
      );
    case "contains":
      return binary(arg, (s, x) => (s instanceof CedarSet ? contains(s, x) : UNKNOWN));
    case "containsAll":
      return binary(
        arg,
        sets((s, t) => t.items.every((x) => contains(s, x))),
      );
    case "containsAny":
      return binary(
        arg,
        sets((s, t) => t.items.some((x) => contains(s, x))),
      );
    case "in": {
      const left = compileExpr(a?.left);
      const right = compileExpr(a?.right);
      return (env) => isIn(left(env), right(env), env);
    }
    case "&&":
    case "||": {
      // Cedar evaluates the right side only when the left does not decide; both must be Booleans.
      const left = compileExpr(a?.left);
      const right = compileExpr(a?.right);
      const decides = op === "||";
      return (env) => {
        const l = left(env);
        if (l === decides) return decides;
        if (typeof l !== "boolean") return UNKNOWN;
        const r = right(env);
        return typeof r === "boolean" ? r : UNKNOWN;
      };
    }
    case "isEmpty": {
      const f = compileExpr(a?.arg);
      return (env) => {
        const v = f(env);
        return v instanceof CedarSet ? v.items.length === 0 : UNKNOWN;
      };
    }
    case ".": {
      const attr = a?.attr;
      if (typeof attr !== "string") return always(UNKNOWN);
      if (asObject(a?.left)?.Var === "context")
        return (env) => env.context.attrs.get(attr) ?? UNKNOWN;
      const left = compileExpr(a?.left);
      return (env) => {
        const v = left(env);
        return known(v) ? getAttr(v, attr, env) : UNKNOWN;
      };
    }
    case "has": {
      const left = compileExpr(a?.left);
      const path = typeof a?.attr === "string" ? [a.attr] : a?.attr;
      if (!Array.isArray(path) || path.length === 0 || !path.every((p) => typeof p === "string"))
        return always(UNKNOWN);
      // `x has a.b` is `x has a && x.a has b`.
      return (env) => {
        let v = left(env);
        for (let i = 0; i < path.length; i++) {
          if (!known(v)) return UNKNOWN;
          const has = hasAttr(v, path[i] as string, env);
          if (has !== true) return has;
          if (i < path.length - 1) v = getAttr(v, path[i] as string, env);
        }
        return true;
      };
    }
    case "like": {
      const left = compileExpr(a?.left);
      const pattern = a?.pattern;
      if (!Array.isArray(pattern) || !pattern.every(isPatternElem)) return always(UNKNOWN);
      const matches = likeMatcher(pattern);
      return (env) => {
        const v = left(env);
        return typeof v === "string" ? matches(v) : UNKNOWN;
      };
    }
    case "is": {
      const left = compileExpr(a?.left);
      const type = a?.entity_type;
      if (typeof type !== "string") return always(UNKNOWN);
      const within = a && "in" in a ? compileExpr(a.in) : null;
      return (env) => {
        const v = left(env);
        if (!(v instanceof EntityRef)) return UNKNOWN;
        if (v.type !== type) return false;
        return within ? isIn(v, within(env), env) : true;
      };
    }
    case "if-then-else": {
      const cond = compileExpr(a?.if);
      const then = compileExpr(a?.then);
      const otherwise = compileExpr(a?.else);
      return (env) => {
        const c = cond(env);
        if (c === true) return then(env);
        if (c === false) return otherwise(env);
        return UNKNOWN;
      };
    }
    case "Set": {
      if (!Array.isArray(arg)) return always(UNKNOWN);
      const items = arg.map(compileExpr);
      return (env) => {
        const values: Value[] = [];
        for (const f of items) {
          const v = f(env);
          if (!known(v)) return UNKNOWN;
          values.push(v);
        }
        return new CedarSet(values);
      };
    }
    case "Record": {
      if (!a) return always(UNKNOWN);
      const fields = Object.entries(a).map(([k, e]) => [k, compileExpr(e)] as const);
      return (env) => {
        const attrs = new Map<string, Value>();
        for (const [k, f] of fields) {
          const v = f(env);
          if (!known(v)) return UNKNOWN;
          attrs.set(k, v);
        }
        return new CedarRecord(attrs);
      };
    }
    default:
      return always(UNKNOWN);
  }
}

function isPatternElem(x: unknown): x is PatternElem {
  return x === "Wildcard" || typeof asObject(x)?.Literal === "string";
}

/**
 * A scope constraint (`principal == …`, `in`, `is … in`, `action in [ … ]`) as an expression;
 * null for none (`principal`), which is always true.
 */
function compileScope(constraint: unknown, variable: Eval): Eval | null {
  const c = asObject(constraint);
  switch (c?.op) {
    case "All":
      return null;
    case "==": {
      const target = entityRef(c.entity);
      return target ? (env) => equals(variable(env) as Value, target) : always(UNKNOWN);
    }
    case "in": {
      const targets = Array.isArray(c.entities) ? c.entities.map(entityRef) : [entityRef(c.entity)];
      if (!targets.every((t) => t !== null)) return always(UNKNOWN);
      const set = new CedarSet(targets);
      return (env) => isIn(variable(env), set, env);
    }
    case "is": {
      const type = c.entity_type;
      if (typeof type !== "string") return always(UNKNOWN);
      const within = asObject(c.in);
      const target = within ? entityRef(within.entity) : null;
      if (within && !target) return always(UNKNOWN);
      return (env) => {
        const v = variable(env) as EntityRef;
        if (v.type !== type) return false;
        return target ? isIn(v, target, env) : true;
      };
    }
    default:
      return always(UNKNOWN);
  }
}

/**
 * What the compiled check knows of a statement for one request: Cedar would certainly find it
 * false (`no`) or true (`yes`), in both cases without an error, or it cannot say (`maybe`).
 */
export type Applies = "no" | "yes" | "maybe";

/**
 * Compiles a statement (Cedar's JSON form, from `policyToJson`) into its relevance check.
 *
 * @example compileStatement(json)(requestEnv(req)) // false: Cedar would find it false, error-free
 */
export function compileStatement(policy: unknown): MayApply {
  const applies = compileApplies(policy);
  return (env) => applies(env) !== "no";
}

/**
 * Compiles a statement into its three-valued check. `yes` is as strict as `no`: reached only
 * through definite, error-free steps, so Cedar's evaluation of the statement is that same
 * Boolean with no error, and an engine may settle a call whose remaining statements are all
 * `yes` without asking Cedar (engine.ts).
 *
 * @example compileApplies(json)(requestEnv(req)) // "yes": every step held, none could fail
 */
export function compileApplies(policy: unknown): (env: RequestEnv) => Applies {
  const p = asObject(policy);
  if (!p || !Array.isArray(p.conditions)) return () => "maybe";
  const scopes = [
    compileScope(p.principal, (env) => env.principal),
    compileScope(p.action, (env) => env.action),
    compileScope(p.resource, (env) => env.resource),
  ];
  const steps: Eval[] = [
    ...scopes.filter((f) => f !== null),
    ...p.conditions.map((clause): Eval => {
      const c = asObject(clause);
      const body = compileExpr(c?.body);
      if (c?.kind === "when") return body;
      if (c?.kind !== "unless") return always(UNKNOWN);
      return (env) => {
        const v = body(env);
        return typeof v === "boolean" ? !v : UNKNOWN;
      };
    }),
  ];
  // Cedar's condition is these steps joined by `&&`: the first false one ends it, error-free;
  // anything but a Boolean (UNKNOWN, or a value Cedar would reject) leaves the answer open.
  return (env) => {
    for (const step of steps) {
      const v = step(env);
      if (v === false) return "no";
      if (v !== true) return "maybe";
    }
    return "yes";
  };
}
