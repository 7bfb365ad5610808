/**
 * The system-call gate for calls made with an API key (the HTTPS routes and MCP tools that
 * change a process): the same capability registry, entitlements and Cedar policies a process's
 * own calls meet, with the key as principal. A key's call cannot wait for a person, so a
 * policy that asks for approval refuses it, saying so.
 */

import type { KeyPrincipal } from "../api/authorize.js";
import { ApiError } from "../api/problem.js";
import { matchEntitlement } from "../kernel/syscall/entitlement.js";
import { policyRequest } from "../kernel/syscall/gate.js";
import type { PolicyRequest } from "../kernel/syscall/policy.js";
import type { Db } from "../store/db.js";
import { gateContextFor, grantsFor } from "./gate-context.js";

/**
 * Decides `capability` for `principal` on `resource`; returns the deciding policy ids when
 * allowed, throws a 403 `ApiError` (`policy_denied` or `approval_required`) when not.
 *
 * @example await gateKeyCall(db, principal, "proc.signal", { type: "Process", id: "proc_…" })
 */
export async function gateKeyCall(
  db: Db,
  principal: KeyPrincipal,
  capability: string,
  resource: PolicyRequest["resource"],
  nowMs = Date.now(),
): Promise<string[]> {
  const ctx = await gateContextFor(db, principal.tenantId, nowMs);
  const cap = ctx.capabilities.get(capability);
  const entitlement = matchEntitlement(
    capability,
    cap?.risk ?? "critical",
    cap?.provider === "builtin",
    grantsFor(ctx.grants, null),
  );
  const decision = ctx.policy.decide(
    policyRequest({
      tenantId: principal.tenantId,
      principal: { type: "Key", id: principal.keyId, agentType: null, role: principal.role },
      capability,
      resource,
      risk: cap?.risk ?? "critical",
      entitlement,
      approved: false,
      // A key has no token budget of its own; the processes it acts on carry theirs.
      budgetTokensLeft: Number.MAX_SAFE_INTEGER,
      dataLabels: [],
      nowMs,
    }),
  );
  if (decision.effect === "allow") return decision.policyIds;
  const cited = decision.policyIds.join(", ");
  if (decision.effect === "require_approval") {
    throw new ApiError(
      "approval_required",
      `policy ${cited} requires a person's approval for ${capability}; a call made with an API key cannot wait for one`,
      { extra: { capability, policyIds: decision.policyIds } },
    );
  }
  throw new ApiError(
    "policy_denied",
    `${capability} denied by policy ${cited || "(no policy permits it)"}`,
    {
      extra: { capability, policyIds: decision.policyIds },
    },
  );
}
