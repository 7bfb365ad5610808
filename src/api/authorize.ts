/**
 * Who may do what. Roles within a tenant: `admin` manages keys and reads the audit log,
 * `operator` runs processes, `reader` only reads. An agent key reaches its own process only.
 * The system administrator creates tenants and keys but runs no processes itself.
 */

import type { KeyRole } from "../store/api-keys.js";
import type { Principal } from "./context.js";
import { ApiError } from "./problem.js";

export type KeyPrincipal = Extract<Principal, { kind: "key" }>;

export const READ_ROLES: readonly KeyRole[] = ["admin", "operator", "reader"];
export const WRITE_ROLES: readonly KeyRole[] = ["admin", "operator"];
export const ADMIN_ROLES: readonly KeyRole[] = ["admin"];

/** The principal, or 401 when authentication did not run (a wiring bug, not a client error). */
export function principalOf(principal: Principal | undefined): Principal {
  if (!principal) throw new ApiError("unauthenticated", "missing bearer token");
  return principal;
}

/**
 * A tenant key holding one of `roles`; 403 otherwise. Agent keys are refused here: they may
 * use only the routes that name their own process (see `requireProcessAccess`).
 */
export function requireTenantKey(
  principal: Principal | undefined,
  roles: readonly KeyRole[],
): KeyPrincipal {
  const p = principalOf(principal);
  if (p.kind === "system") {
    throw new ApiError(
      "forbidden",
      "the system administrator acts on a tenant through one of its keys: create one with POST /v1/keys",
    );
  }
  if (p.processId !== null) {
    throw new ApiError("forbidden", "an agent key may act only on its own process");
  }
  if (!roles.includes(p.role)) {
    throw new ApiError(
      "forbidden",
      `this call needs the role ${roles.join(" or ")}; the key is ${p.role}`,
    );
  }
  return p;
}

/**
 * Access to one process: a tenant key with one of `roles`, or the agent key of that very
 * process (whose changes are that process's own system calls, gated as such by the caller:
 * see `gateSyscall`). Another process's agent key gets 404, as a missing process.
 */
export function requireProcessAccess(
  principal: Principal | undefined,
  processId: string,
  roles: readonly KeyRole[],
): KeyPrincipal {
  const p = principalOf(principal);
  if (p.kind === "key" && p.processId !== null) {
    if (p.processId !== processId) throw new ApiError("not_found", `no process ${processId}`);
    return p;
  }
  return requireTenantKey(p, roles);
}

/**
 * A tenant key with one of `roles`, or an agent key: the call is then its process's own system
 * call (spawning a child, for one), which `gateSyscall` checks against that process.
 */
export function requireActor(
  principal: Principal | undefined,
  roles: readonly KeyRole[],
): KeyPrincipal {
  const p = principalOf(principal);
  if (p.kind === "key" && p.processId !== null) return p;
  return requireTenantKey(p, roles);
}

/** The system administrator or a tenant admin; returns the tenant the caller may act in. */
export function requireKeyManager(
  principal: Principal | undefined,
  requestedTenantId: string | undefined,
): { tenantId: string | undefined; principal: Principal } {
  const p = principalOf(principal);
  if (p.kind === "system") return { tenantId: requestedTenantId, principal: p };
  requireTenantKey(p, ADMIN_ROLES);
  if (requestedTenantId && requestedTenantId !== p.tenantId) {
    throw new ApiError("forbidden", "a tenant admin manages only its own tenant's keys");
  }
  return { tenantId: p.tenantId, principal: p };
}
