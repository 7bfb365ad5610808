/**
 * Whether a tenant's entitlements cover a capability for an agent type, and with what limits.
 * Built-in capabilities of low or medium risk are entitled to everyone: they are the agent
 * loop's own system calls. Everything else needs an entitlement row.
 */

import type { RiskLevel } from "./policy.js";

export interface EntitlementGrant {
  id: string;
  /** Full capability name or `namespace.*`. */
  capability: string;
  callsPerMin: number | null;
  budgetTokens: number | null;
}

export interface EntitlementMatch {
  entitled: boolean;
  /** A grant names the capability exactly (critical capabilities need one). */
  explicitGrant: boolean;
  /** The tightest limits among the matching grants (null: none). */
  callsPerMin: number | null;
  budgetTokens: number | null;
  grantIds: string[];
}

function tighter(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/**
 * Matches `capability` against `grants`.
 *
 * @example matchEntitlement("ext.echo", "medium", false, [{ id: "ent_1", capability: "ext.*", callsPerMin: 10, budgetTokens: null }])
 */
export function matchEntitlement(
  capability: string,
  risk: RiskLevel,
  builtin: boolean,
  grants: readonly EntitlementGrant[],
): EntitlementMatch {
  const namespace = capability.slice(0, capability.indexOf("."));
  const matching = grants.filter(
    (g) => g.capability === capability || g.capability === `${namespace}.*`,
  );
  const byDefault = builtin && (risk === "low" || risk === "medium");
  return {
    entitled: byDefault || matching.length > 0,
    explicitGrant: matching.some((g) => g.capability === capability),
    callsPerMin: matching.reduce<number | null>((acc, g) => tighter(acc, g.callsPerMin), null),
    budgetTokens: matching.reduce<number | null>((acc, g) => tighter(acc, g.budgetTokens), null),
    grantIds: matching.map((g) => g.id),
  };
}

/** Calls in the sliding minute ending at `nowMs`, from a log of call times. */
export function callsInLastMinute(callTimesMs: readonly number[], nowMs: number): number {
  return callTimesMs.filter((t) => t > nowMs - 60_000).length;
}
