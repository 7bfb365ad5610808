/**
 * The Cedar policy engine: the built-in policies plus a tenant's, evaluated by the Cedar
 * module, deciding each `PolicyRequest` as allow, deny or require-approval.
 *
 * Require-approval, since Cedar only permits or forbids: a forbid annotated
 * `@approval("required")` and written `unless { context.approved }` means "not without a
 * person". When Cedar denies and EVERY determining policy (the forbids that matched) carries
 * that annotation, the call is evaluated once more as if approved; if that would be allowed,
 * the effect is `require_approval`, citing those forbids. Otherwise it is `deny`: with any
 * unannotated forbid among the determining ones (its ids), or when approval would not help
 * because nothing permits the call (the second evaluation's ids, often none). A deny citing no
 * policy means no permit applied: Cedar denies by default.
 *
 * Cost: Cedar's WebAssembly build pays per statement in the set and per value in the request on
 * every call, so each evaluation sends it only what can matter: the statements the relevance
 * check keeps (relevance.ts; guard.ts skips those about other capabilities), parsed as a slice
 * of the set (slices.ts), and of the request only what those statements read (footprint.ts).
 * The request is checked against the schema in TypeScript (conform.ts) rather than by Cedar on
 * each call. And when the relevance check knows every statement it kept to be true without an
 * error, Cedar's answer is already determined (deny citing the forbids among them, else allow
 * citing the permits), so the engine gives it without the WebAssembly call, whose fixed cost
 * (~50–60 µs on the bench machine, bench/gate/cedar.ts) is most of a decision. None of this
 * changes an answer: each step leaves out only what Cedar's answer does not depend on, and
 * test/policy/relevance.test.ts holds the engine to Cedar over the whole set.
 */

import type { PolicyDecision, PolicyEngine, PolicyRequest } from "../kernel/syscall/policy.js";
import type { Cedar } from "./cedar.js";
import { requestMisfit } from "./conform.js";
import { DEFAULT_POLICIES } from "./defaults.js";
import { footprintOf } from "./footprint.js";
import { capabilityIndex, guardOf } from "./guard.js";
import { compileApplies, type RequestEnv, requestEnv } from "./relevance.js";
import { ACTION_ENTITY, type CedarRequest, type CedarValue, toCedarRequest } from "./request.js";
import { sliceCache } from "./slices.js";
import { type PolicyDiagnostic, type PolicyStatement, splitStatements } from "./validate.js";

/** A stored policy as the engine takes it: the id decisions cite, and its Cedar text. */
export interface PolicySource {
  id: string;
  text: string;
}

export interface CedarEngine extends PolicyEngine {
  /** Every statement id in the set, built-ins first. */
  readonly policyIds: readonly string[];
  /**
   * Evaluations so far (a require-approval decision takes two) and how many of them the
   * relevance check settled without calling Cedar: what bench/gate reports beside the timings.
   */
  readonly counts: { evaluations: number; settled: number };
  /** Gives the parsed slices' memory back to the pool; `decide` still works (it re-parses). */
  release(): void;
}

/** A policy set that cannot be loaded: which source failed, with Cedar's diagnostics. */
export class PolicySetError extends Error {
  readonly diagnostics: Array<PolicyDiagnostic & { source: string }>;

  constructor(diagnostics: Array<PolicyDiagnostic & { source: string }>) {
    const first = diagnostics[0];
    super(first ? `policy ${first.source}: ${first.message}` : "the policy set does not load");
    this.name = "PolicySetError";
    this.diagnostics = diagnostics;
  }
}

const builtinStatements = new WeakMap<Cedar, PolicyStatement[]>();

function builtins(cedar: Cedar): PolicyStatement[] {
  let out = builtinStatements.get(cedar);
  if (!out) {
    out = DEFAULT_POLICIES.flatMap((p) => {
      const split = splitStatements(cedar, p.text, p.id);
      if (!split.ok)
        throw new PolicySetError(split.diagnostics.map((d) => ({ ...d, source: p.id })));
      return split.statements;
    });
    builtinStatements.set(cedar, out);
  }
  return out;
}

type Answer = { decision: "allow" | "deny"; reason: string[]; errors: string[] };

/** Cedar's answer over a set where nothing applies: deny by default, citing nothing. */
const NOTHING_APPLIES: Answer = { decision: "deny", reason: [], errors: [] };

function pick(context: Record<string, CedarValue>, keys: readonly string[] | null) {
  if (keys === null) return context;
  const out: Record<string, CedarValue> = {};
  for (const k of keys) out[k] = context[k]!;
  return out;
}

/** How an engine evaluates; the default is what the gate uses. */
export interface EngineOptions {
  /**
   * Settle calls whose kept statements all certainly hold without calling Cedar (default
   * true). Off, every evaluation with a statement left goes to Cedar: the baseline the bench
   * and the tests compare against.
   */
  settle?: boolean;
}

/**
 * An engine over the built-in policies and `tenantPolicies` (already validated on write; a
 * source that no longer parses throws `PolicySetError`). Parses and compiles the statements
 * once; `decide` evaluates, parsing a slice into Cedar only the first time it needs it.
 *
 * @example
 *   const engine = buildCedarEngine(cedar, [{ id: "no-nights", text: "forbid (…) when { context.hourOfDayUtc < 6 };" }]);
 *   engine.decide(request) // { effect: "deny", policyIds: ["no-nights"], errors: [] }
 */
export function buildCedarEngine(
  cedar: Cedar,
  tenantPolicies: readonly PolicySource[],
  options: EngineOptions = {},
): CedarEngine {
  const settle = options.settle ?? true;
  const statements = [...builtins(cedar)];
  const failures: Array<PolicyDiagnostic & { source: string }> = [];
  for (const source of tenantPolicies) {
    const split = splitStatements(cedar, source.text, source.id);
    if (split.ok) statements.push(...split.statements);
    else failures.push(...split.diagnostics.map((d) => ({ ...d, source: source.id })));
  }
  const seen = new Set<string>();
  for (const s of statements) {
    if (seen.has(s.id)) {
      failures.push({
        code: "duplicate_id",
        message: `two policies in the set have the id ${s.id}`,
        help: null,
        statement: s.position,
        policyId: s.id,
        line: null,
        column: null,
        source: s.id,
      });
    }
    seen.add(s.id);
  }
  if (failures.length > 0) throw new PolicySetError(failures);
  const approvalIds = new Set(statements.filter((s) => s.approval).map((s) => s.id));
  const applies = statements.map((s) => compileApplies(s.json));
  const ids = statements.map((s) => s.id);
  const forbids = statements.map((s) => s.effect === "forbid");
  const counts = { evaluations: 0, settled: 0 };
  const candidatesFor = capabilityIndex(statements.map((s) => guardOf(s.json)));
  const slices = sliceCache(
    cedar,
    statements.map((s) => ({ id: s.id, text: s.text, footprint: footprintOf(s.json) })),
  );

  /** Cedar's answer for `request`, whose `context.capability` is `capability`. */
  const evaluate = (request: CedarRequest, env: RequestEnv, capability: string): Answer => {
    counts.evaluations++;
    const kept: number[] = [];
    let allHold = true;
    for (const i of candidatesFor(capability)) {
      const a = applies[i]!(env);
      if (a === "no") continue;
      kept.push(i);
      if (a === "maybe") allHold = false;
    }
    if (kept.length === 0) {
      counts.settled++;
      return NOTHING_APPLIES;
    }
    if (settle && allHold) {
      counts.settled++;
      return settledAnswer(kept);
    }
    const found = slices.slice(kept);
    if (!found.ok) {
      // Every statement parsed on its own when the engine was built; fail closed regardless.
      return {
        decision: "deny",
        reason: [],
        errors: found.errors.map((e) => `policy set: ${e.message}`),
      };
    }
    const { slot, contextKeys, entities } = found.slice;
    const answer = cedar.statefulIsAuthorized({
      principal: request.principal,
      action: request.action,
      resource: request.resource,
      context: pick(request.context, contextKeys),
      entities: entities ? [...request.entities, ACTION_ENTITY] : [],
      preparsedPolicySetId: slot,
      validateRequest: false, // checked in TypeScript (conform.ts) before evaluating
    });
    if (answer.type === "failure") {
      // Cedar could not read the request (conform.ts lets none such through): fail closed.
      return {
        decision: "deny",
        reason: [],
        errors: answer.errors.map((e) => `request: ${e.message}`),
      };
    }
    const { decision, diagnostics } = answer.response;
    return {
      decision,
      // Cedar reports both in hash order; sorted, the same decision always reads the same.
      reason: [...diagnostics.reason].sort(),
      errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).sort(),
    };
  };

  /**
   * Cedar's answer when every statement in `kept` holds without error and no other can: a
   * forbid wins, and the determining policies are the forbids that hold, else the permits.
   */
  const settledAnswer = (kept: readonly number[]): Answer => {
    const forbidding = kept.filter((i) => forbids[i]);
    const determining = forbidding.length > 0 ? forbidding : kept;
    return {
      decision: forbidding.length > 0 ? "deny" : "allow",
      reason: determining.map((i) => ids[i]!).sort(),
      errors: [],
    };
  };

  return {
    policyIds: ids,
    counts,
    release: () => slices.release(),
    decide(request: PolicyRequest): PolicyDecision {
      const built = toCedarRequest(request);
      if (!built.ok) return { effect: "deny", policyIds: [], errors: [built.error] };
      // The request does not fit the schema: fail closed, saying why.
      const misfit = requestMisfit(built.request);
      if (misfit) return { effect: "deny", policyIds: [], errors: [`request: ${misfit}`] };
      const first = evaluate(built.request, requestEnv(built.request), request.capability);
      if (first.decision === "allow") {
        return { effect: "allow", policyIds: first.reason, errors: first.errors };
      }
      const onlyApproval =
        first.reason.length > 0 && first.reason.every((id) => approvalIds.has(id));
      if (!onlyApproval || request.context.approved) {
        return { effect: "deny", policyIds: first.reason, errors: first.errors };
      }
      // Would a person's approval be enough? Only if the same call, approved, is allowed.
      const asApproved = {
        ...built.request,
        context: { ...built.request.context, approved: true },
      };
      const approved = evaluate(asApproved, requestEnv(asApproved), request.capability);
      const errors = [...new Set([...first.errors, ...approved.errors])];
      return approved.decision === "allow"
        ? { effect: "require_approval", policyIds: first.reason, errors }
        : { effect: "deny", policyIds: approved.reason, errors };
    },
  };
}

/**
 * An engine that denies everything, saying why: what the gate gets when a tenant's stored set
 * cannot be loaded, so a broken set fails closed instead of failing the call with a 500.
 *
 * @example failClosedEngine("policy p: unexpected token").decide(req).effect // "deny"
 */
export function failClosedEngine(reason: string): CedarEngine {
  return {
    policyIds: [],
    counts: { evaluations: 0, settled: 0 },
    release: () => {},
    decide: () => ({
      effect: "deny",
      policyIds: [],
      errors: [`policy set unavailable: ${reason}`],
    }),
  };
}
