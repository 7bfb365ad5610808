/**
 * The policy sets and requests bench/gate times Cedar on, and the same rules hand-written in
 * TypeScript as the baseline. Policy sets have N statements in all: the 4 built-in defaults
 * plus N − 4 tenant policies of a few realistic shapes (a capability off limits, working hours,
 * data labels, an agent type kept out of a namespace, a permit for an unentitled call, a token
 * reserve kept back from a namespace).
 * Deterministic: the same N gives the same set and the same requests.
 */

import type { PolicyRequest, RiskLevel } from "../../src/kernel/syscall/policy.js";
import type { PolicySource } from "../../src/policy/engine.js";

export const DEFAULT_POLICY_COUNT = 4;

/** One tenant rule, as Cedar text and as the equivalent TypeScript predicate. */
interface Rule {
  source: PolicySource;
  effect: "permit" | "forbid";
  matches: (r: PolicyRequest) => boolean;
}

function rule(i: number): Rule {
  const id = `bench-${i}`;
  const cap = `ns${i % 17}.tool${i}`;
  switch (i % 6) {
    case 0:
      return {
        source: {
          id,
          text: `forbid (principal, action, resource) when { context.capability == "${cap}" };`,
        },
        effect: "forbid",
        matches: (r) => r.capability === cap,
      };
    case 1: {
      const from = i % 8;
      const to = 16 + (i % 8);
      return {
        source: {
          id,
          text: `forbid (principal, action, resource) when { context.capability like "ns${i % 17}.*" } unless { context.hourOfDayUtc >= ${from} && context.hourOfDayUtc < ${to} };`,
        },
        effect: "forbid",
        matches: (r) =>
          r.capability.startsWith(`ns${i % 17}.`) &&
          !(r.context.hourOfDayUtc >= from && r.context.hourOfDayUtc < to),
      };
    }
    case 2: {
      const label = `label-${i}`;
      return {
        source: {
          id,
          text: `forbid (principal, action, resource) when { context.dataLabels.contains("${label}") && context.risk != "low" };`,
        },
        effect: "forbid",
        matches: (r) => r.context.dataLabels.includes(label) && r.context.risk !== "low",
      };
    }
    case 3: {
      const agentType = `agent-${i}`;
      return {
        source: {
          id,
          text: `forbid (principal is Process, action, resource) when { principal.agentType == "${agentType}" && context.capability like "ext.*" };`,
        },
        effect: "forbid",
        matches: (r) =>
          r.principal.type === "Process" &&
          r.principal.agentType === agentType &&
          r.capability.startsWith("ext."),
      };
    }
    case 5: {
      // Arithmetic, which the engine's relevance check does not evaluate: these reach Cedar.
      const reserve = 10_000 * (1 + (i % 7));
      return {
        source: {
          id,
          text: `forbid (principal, action, resource) when { context.capability like "ns${i % 17}.*" && context.budgetTokensLeft - ${reserve} < 0 };`,
        },
        effect: "forbid",
        matches: (r) =>
          r.capability.startsWith(`ns${i % 17}.`) && r.context.budgetTokensLeft - reserve < 0,
      };
    }
    default:
      return {
        source: {
          id,
          text: `permit (principal, action, resource) when { context.capability == "${cap}" && context.risk == "low" };`,
        },
        effect: "permit",
        matches: (r) => r.capability === cap && r.context.risk === "low",
      };
  }
}

/** N − 4 tenant rules, so that with the defaults the set holds `total` statements. */
export function tenantRules(total: number): Rule[] {
  return Array.from({ length: Math.max(0, total - DEFAULT_POLICY_COUNT) }, (_, i) => rule(i));
}

/**
 * The baseline: the defaults and the tenant rules as plain TypeScript, with the engine's
 * require-approval rule. What a hand-written gate would cost, with no policy language.
 */
export function baselineDecide(rules: readonly Rule[]) {
  return (r: PolicyRequest): "allow" | "deny" | "require_approval" => {
    const c = r.context;
    let forbidden = false;
    let permitted = c.entitled;
    for (const x of rules) {
      if (!x.matches(r)) continue;
      if (x.effect === "forbid") forbidden = true;
      else permitted = true;
    }
    if (c.risk === "critical" && !c.explicitGrant) forbidden = true;
    if (c.budgetTokensLeft <= 0) forbidden = true;
    const needsApproval = c.risk === "high" && !c.approved;
    if (forbidden || !permitted) return "deny";
    return needsApproval ? "require_approval" : "allow";
  };
}

const RISKS: readonly RiskLevel[] = ["low", "low", "low", "medium", "high", "critical"];

/**
 * A mix of `count` requests: mostly entitled low-risk calls (the common case), some that
 * match tenant rules, some high-risk (two evaluations: the engine checks approval would help),
 * some critical or out of budget.
 */
export function requestMix(count: number): PolicyRequest[] {
  return Array.from({ length: count }, (_, i) => {
    const process = i % 4 !== 3;
    return {
      tenantId: "ten_bench",
      principal: process
        ? { type: "Process", id: `proc_${i}`, agentType: `agent-${i % 20}`, role: null }
        : { type: "Key", id: `key_${i}`, agentType: null, role: "operator" },
      capability:
        i % 3 === 0 ? `ns${i % 17}.tool${i % 40}` : i % 3 === 1 ? "proc.spawn" : "ext.search",
      resource: { type: "Tenant", id: "ten_bench" },
      context: {
        risk: RISKS[i % RISKS.length] as RiskLevel,
        entitled: i % 7 !== 0,
        explicitGrant: i % 5 === 0,
        approved: false,
        budgetTokensLeft: i % 11 === 0 ? 0 : 50_000,
        hourOfDayUtc: (i * 5) % 24,
        dataLabels: i % 2 === 0 ? [`label-${i % 30}`] : [],
      },
    };
  });
}
