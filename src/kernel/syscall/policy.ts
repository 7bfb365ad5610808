/**
 * The policy decision every system call gets, whatever engine makes it (Cedar here). The gate
 * builds a `PolicyRequest`; the engine answers allow, deny or require-approval, naming the
 * policies that decided, so the decision can be explained and audited.
 */

export const RISK_LEVELS = ["low", "medium", "high", "critical"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export type Effect = "allow" | "deny" | "require_approval";

export interface PolicyRequest {
  tenantId: string;
  /** Who calls: a process (acting through the agent loop or an agent key) or an API key. */
  principal: {
    type: "Process" | "Key";
    id: string;
    /** The process's agent type name (null for a key acting directly). */
    agentType: string | null;
    /** The key's role (null for a process). */
    role: string | null;
  };
  /** The capability's full name, `namespace.name`, e.g. `proc.spawn`. */
  capability: string;
  /** What the call acts on, e.g. `{ type: "Process", id: "proc_…" }`; the tenant when nothing else. */
  resource: { type: string; id: string };
  context: {
    risk: RiskLevel;
    /** An entitlement of the tenant (for the principal's agent type or `*`) covers the call. */
    entitled: boolean;
    /** An entitlement names this capability exactly (not by a `namespace.*` wildcard). */
    explicitGrant: boolean;
    /** A person approved this very call (set when an approved call is replayed). */
    approved: boolean;
    /** Tokens the principal may still spend (a large number when it has no budget). */
    budgetTokensLeft: number;
    /** 0–23, UTC: for policies that allow some calls only in working hours. */
    hourOfDayUtc: number;
    /** Data-classification labels of the resource, e.g. `pii`. */
    dataLabels: string[];
  };
}

export interface PolicyDecision {
  effect: Effect;
  /** Ids of the policies that decided (Cedar's determining policies). */
  policyIds: string[];
  /** Evaluation errors, if any policy failed to evaluate (such a policy is skipped). */
  errors: string[];
}

/** Something that decides policy requests; the Cedar engine implements it. */
export interface PolicyEngine {
  decide(request: PolicyRequest): PolicyDecision;
}
