/**
 * The Cedar policy engine: the built-in policies plus a tenant's, parsed once into the Cedar
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
 */

import type { PolicyDecision, PolicyEngine, PolicyRequest } from "../kernel/syscall/policy.js";
import type { Cedar } from "./cedar.js";
import { DEFAULT_POLICIES } from "./defaults.js";
import { type CedarRequest, toCedarRequest } from "./request.js";
import { acquireSlot, cedarState, claim, holds, releaseSlot } from "./slots.js";
import { type PolicyDiagnostic, type PolicyStatement, splitStatements } from "./validate.js";

/** A stored policy as the engine takes it: the id decisions cite, and its Cedar text. */
export interface PolicySource {
  id: string;
  text: string;
}

export interface CedarEngine extends PolicyEngine {
  /** Every statement id in the set, built-ins first. */
  readonly policyIds: readonly string[];
  /** Gives the parsed set's memory back to the pool; `decide` still works (it re-parses). */
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

/**
 * An engine over the built-in policies and `tenantPolicies` (already validated on write; a
 * source that no longer parses throws `PolicySetError`). Parses once; `decide` only evaluates.
 *
 * @example
 *   const engine = buildCedarEngine(cedar, [{ id: "no-nights", text: "forbid (…) when { context.hourOfDayUtc < 6 };" }]);
 *   engine.decide(request) // { effect: "deny", policyIds: ["no-nights"], errors: [] }
 */
export function buildCedarEngine(
  cedar: Cedar,
  tenantPolicies: readonly PolicySource[],
): CedarEngine {
  const state = cedarState(cedar);
  const statements = [...builtins(cedar)];
  const failures: Array<PolicyDiagnostic & { source: string }> = [];
  for (const source of tenantPolicies) {
    const split = splitStatements(cedar, source.text, source.id);
    if (split.ok) statements.push(...split.statements);
    else failures.push(...split.diagnostics.map((d) => ({ ...d, source: source.id })));
  }
  const staticPolicies: Record<string, string> = {};
  for (const s of statements) {
    if (Object.hasOwn(staticPolicies, s.id)) {
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
    staticPolicies[s.id] = s.text;
  }
  if (failures.length > 0) throw new PolicySetError(failures);
  const approvalIds = new Set(statements.filter((s) => s.approval).map((s) => s.id));

  const slot = acquireSlot(state);
  const owner = Symbol(slot);
  const parse = (): void => {
    const answer = cedar.preparsePolicySet(slot, { staticPolicies });
    if (answer.type === "failure") {
      throw new PolicySetError(
        answer.errors.map((e) => ({
          code: "parse_error",
          message: e.message,
          help: e.help,
          statement: null,
          policyId: null,
          line: null,
          column: null,
          source: "(set)",
        })),
      );
    }
    claim(state, slot, owner);
  };
  parse();

  const evaluate = (request: CedarRequest): Answer => {
    if (!holds(state, slot, owner)) parse();
    const answer = cedar.statefulIsAuthorized({ ...request, preparsedPolicySetId: slot });
    if (answer.type === "failure") {
      // The request does not fit the schema: fail closed, saying why.
      return {
        decision: "deny",
        reason: [],
        errors: answer.errors.map((e) => `request: ${e.message}`),
      };
    }
    const { decision, diagnostics } = answer.response;
    return {
      decision,
      // Cedar reports them in hash order; sorted, the same decision always reads the same.
      reason: [...diagnostics.reason].sort(),
      errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
    };
  };

  return {
    policyIds: statements.map((s) => s.id),
    release: () => releaseSlot(state, slot, owner),
    decide(request: PolicyRequest): PolicyDecision {
      const built = toCedarRequest(request);
      if (!built.ok) return { effect: "deny", policyIds: [], errors: [built.error] };
      const first = evaluate(built.request);
      if (first.decision === "allow") {
        return { effect: "allow", policyIds: first.reason, errors: first.errors };
      }
      const onlyApproval =
        first.reason.length > 0 && first.reason.every((id) => approvalIds.has(id));
      if (!onlyApproval || request.context.approved) {
        return { effect: "deny", policyIds: first.reason, errors: first.errors };
      }
      // Would a person's approval be enough? Only if the same call, approved, is allowed.
      const approved = evaluate({
        ...built.request,
        context: { ...built.request.context, approved: true },
      });
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
    release: () => {},
    decide: () => ({
      effect: "deny",
      policyIds: [],
      errors: [`policy set unavailable: ${reason}`],
    }),
  };
}
