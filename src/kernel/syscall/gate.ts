/**
 * The system-call gate: one decision for every call a process (or a key) makes, in a fixed
 * order — does the call exist, does the principal hold the capability, is there tool-call
 * budget, is it within its entitlement's rate limit, and what does policy say (allow, deny,
 * or require a person's approval). Pure: the caller gathers the inputs and records the result.
 */

import type { ProcessRecord } from "../process/record.js";
import type { EntitlementMatch } from "./entitlement.js";
import type { PolicyEngine, PolicyRequest, RiskLevel } from "./policy.js";

export type GateDecision =
  | { allow: true; capability: string; policyIds: string[] }
  | { allow: false; approval: true; capability: string; reason: string; policyIds: string[] }
  | {
      allow: false;
      approval?: false;
      code:
        | "unknown_call"
        | "capability_denied"
        | "budget_exhausted"
        | "rate_limited"
        | "policy_denied";
      reason: string;
      policyIds: string[];
    };

export interface GateInput {
  record: ProcessRecord;
  /** The capability's full name (`proc.sleep`, `ext.echo`), or the unknown name called. */
  name: string;
  /** What the registry knows of it; undefined when no such capability exists. */
  capability: { risk: RiskLevel } | undefined;
  /** Whether the call counts against `maxToolCalls` (finishing does not: it is the exit). */
  counted: boolean;
  callsThisStep: number;
  entitlement: EntitlementMatch;
  /** Calls of this capability by this principal in the last minute. */
  callsLastMinute: number;
  /** The tenant's policy engine; null skips policy (used only where no engine can exist). */
  policy: PolicyEngine | null;
  /** A person approved this very call. */
  approved: boolean;
  resource: PolicyRequest["resource"];
  dataLabels: string[];
  nowMs: number;
}

/**
 * Decides one call.
 *
 * @example gate({ record, name: "proc.sleep", capability: { risk: "low" }, counted: true, … })
 */
export function gate(input: GateInput): GateDecision {
  const { record, name } = input;
  const none: string[] = [];
  if (!input.capability) {
    return {
      allow: false,
      code: "unknown_call",
      reason: `no capability named ${name}`,
      policyIds: none,
    };
  }
  if (!record.capabilities.includes(name)) {
    return {
      allow: false,
      code: "capability_denied",
      reason: `${name} is not among this process's capabilities`,
      policyIds: none,
    };
  }
  if (input.counted && record.usage.toolCalls + input.callsThisStep >= record.budget.maxToolCalls) {
    return {
      allow: false,
      code: "budget_exhausted",
      reason: `tool-call budget of ${record.budget.maxToolCalls} spent`,
      policyIds: none,
    };
  }
  const limit = input.entitlement.callsPerMin;
  if (limit !== null && input.callsLastMinute >= limit) {
    return {
      allow: false,
      code: "rate_limited",
      reason: `rate limit of ${limit} calls/min for ${name} reached`,
      policyIds: none,
    };
  }
  if (!input.policy) return { allow: true, capability: name, policyIds: none };
  const spent = record.usage.tokensIn + record.usage.tokensOut;
  const processLeft = record.budget.maxTokens - spent;
  const grantLeft =
    input.entitlement.budgetTokens === null ? processLeft : input.entitlement.budgetTokens - spent;
  const decision = input.policy.decide(
    policyRequest({
      tenantId: record.tenantId,
      principal: { type: "Process", id: record.id, agentType: record.type.name, role: null },
      capability: name,
      resource: input.resource,
      risk: input.capability.risk,
      entitlement: input.entitlement,
      approved: input.approved,
      budgetTokensLeft: Math.min(processLeft, grantLeft),
      dataLabels: input.dataLabels,
      nowMs: input.nowMs,
    }),
  );
  if (decision.effect === "allow")
    return { allow: true, capability: name, policyIds: decision.policyIds };
  if (decision.effect === "require_approval") {
    return {
      allow: false,
      approval: true,
      capability: name,
      reason: `policy ${decision.policyIds.join(", ")} requires a person's approval`,
      policyIds: decision.policyIds,
    };
  }
  return {
    allow: false,
    code: "policy_denied",
    reason: `denied by policy ${decision.policyIds.join(", ") || "(no policy permits it)"}`,
    policyIds: decision.policyIds,
  };
}

/** What a policy request is built from, whoever the principal is. */
export interface PolicyRequestInput {
  tenantId: string;
  principal: PolicyRequest["principal"];
  capability: string;
  resource: PolicyRequest["resource"];
  risk: RiskLevel;
  entitlement: Pick<EntitlementMatch, "entitled" | "explicitGrant">;
  approved: boolean;
  budgetTokensLeft: number;
  dataLabels: string[];
  nowMs: number;
}

/**
 * The request the policy engine decides, as both gates (a process's own calls, and calls made
 * with an API key) build it.
 *
 * @example policy.decide(policyRequest({ tenantId, principal, capability: "proc.signal", … }))
 */
export function policyRequest(input: PolicyRequestInput): PolicyRequest {
  return {
    tenantId: input.tenantId,
    principal: input.principal,
    capability: input.capability,
    resource: input.resource,
    context: {
      risk: input.risk,
      entitled: input.entitlement.entitled,
      explicitGrant: input.entitlement.explicitGrant,
      approved: input.approved,
      budgetTokensLeft: input.budgetTokensLeft,
      hourOfDayUtc: new Date(input.nowMs).getUTCHours(),
      dataLabels: input.dataLabels,
    },
  };
}
