/**
 * The policies every tenant gets, evaluated together with the tenant's own. Their ids are
 * stable: decisions, audit rows and approvals cite them. A tenant cannot remove or weaken them
 * (Cedar's forbid always wins over permit); it can only add permits and forbids of its own.
 *
 * Require-approval: Cedar only permits or forbids, so a forbid annotated `@approval("required")`
 * and written `unless { context.approved }` means "needs a person". See `engine.ts` for how a
 * denial becomes `require_approval`.
 */

export interface BuiltinPolicy {
  id: string;
  description: string;
  text: string;
}

export const DEFAULT_POLICIES: readonly BuiltinPolicy[] = [
  {
    id: "default-permit-entitled",
    description: "A call an entitlement of the tenant covers is permitted (unless forbidden).",
    text: `@id("default-permit-entitled")
permit (principal, action == Action::"call", resource)
when { context.entitled };`,
  },
  {
    id: "high-risk-needs-approval",
    description: "A high-risk call waits for a person's approval.",
    text: `@id("high-risk-needs-approval")
@approval("required")
forbid (principal, action == Action::"call", resource)
when { context.risk == "high" }
unless { context.approved };`,
  },
  {
    id: "critical-denied-unless-granted",
    description:
      "A critical call is denied unless an entitlement names that capability exactly (not by a namespace wildcard).",
    text: `@id("critical-denied-unless-granted")
forbid (principal, action == Action::"call", resource)
when { context.risk == "critical" }
unless { context.explicitGrant };`,
  },
  {
    id: "budget-guard",
    description: "No call once the principal's token budget is spent.",
    text: `@id("budget-guard")
forbid (principal, action == Action::"call", resource)
when { context.budgetTokensLeft <= 0 };`,
  },
];

/** The ids of the built-in policies; a tenant's policy may not take one of them as its name. */
export const BUILTIN_POLICY_IDS: ReadonlySet<string> = new Set(DEFAULT_POLICIES.map((p) => p.id));
