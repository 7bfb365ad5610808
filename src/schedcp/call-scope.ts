/**
 * The gate every call of the scheduler control plane passes first (fleet, profiles, policy
 * repository), and the scope it yields: a tenant key acts as itself with its role checked and
 * the key gate's policies applied; an agent key acts as its process, whose own gate checks the
 * capability, counts the call and logs it. The agent loop runs its tools after its own gate and
 * builds the scope from its record instead.
 */

import { requireTenantKey } from "../api/authorize.js";
import type { Env } from "../env.js";
import { gateSyscall } from "../objects/call-gate.js";
import type { Caller } from "../objects/process-calls.js";
import type { KeyRole } from "../store/api-keys.js";
import type { Db } from "../store/db.js";

/** The tenant a call acts in and who acts (a key, or a process for an agent key). */
export interface Scope {
  tenantId: string;
  actor: string;
}

/**
 * Passes the call gate for `capability` (tenant keys also need one of `roles`); returns the
 * scope, or throws the gate's `ApiError`.
 *
 * @example const scope = await gateScope(env, db, caller, "fleet.observe", READ_ROLES)
 */
export async function gateScope(
  env: Env,
  db: Db,
  caller: Caller,
  capability: string,
  roles: readonly KeyRole[],
): Promise<Scope> {
  const tenantId = caller?.kind === "key" ? caller.tenantId : "";
  const acting = await gateSyscall(env, db, caller, capability, roles, {
    type: "Tenant",
    id: tenantId,
  });
  return { tenantId: acting.tenantId, actor: acting.actor };
}

/**
 * Like `gateScope` for the rollout calls: a tenant key is checked for its role only, because
 * the key gate's `high-risk-needs-approval` refuses every key call of a high-risk capability (a
 * key cannot wait for a person) and a person using their own key is that approval. An agent key
 * still passes its process's gate, where a high-risk call needs a person's approval.
 *
 * @example const scope = await personOrProcessScope(env, db, caller, "sched.deploy", WRITE_ROLES)
 */
export async function personOrProcessScope(
  env: Env,
  db: Db,
  caller: Caller,
  capability: string,
  roles: readonly KeyRole[],
): Promise<Scope> {
  if (caller?.kind === "key" && caller.processId === null) {
    const principal = requireTenantKey(caller, roles);
    return { tenantId: principal.tenantId, actor: principal.actor };
  }
  return gateScope(env, db, caller, capability, roles);
}
