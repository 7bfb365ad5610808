/**
 * The one entry every client-made system call passes: the HTTPS routes and the MCP tools call
 * `gateSyscall` before they act. Who the caller acts as decides which gate applies:
 *
 *   - a tenant key acts as itself: role, then the key gate (capability registry, entitlements,
 *     Cedar with the key as principal);
 *   - an agent key acts as its process: the process's own gate, in its object (capabilities,
 *     tool-call budget, rate limits, Cedar with the process as principal), counted and logged
 *     there, and audited under the process's id.
 */

import { type KeyPrincipal, requireActor } from "../api/authorize.js";
import type { Principal } from "../api/context.js";
import { ApiError } from "../api/problem.js";
import type { Env } from "../env.js";
import type { PolicyRequest } from "../kernel/syscall/policy.js";
import type { KeyRole } from "../store/api-keys.js";
import type { Db } from "../store/db.js";
import { processStub } from "./agent-process.js";
import type { CallerSyscallResult } from "./caller-syscall.js";
import { gateKeyCall } from "./key-gate.js";

/** Who an allowed call runs as. */
export type Acting =
  | { as: "key"; principal: KeyPrincipal; tenantId: string; actor: string; policyIds: string[] }
  | {
      as: "process";
      principal: KeyPrincipal;
      tenantId: string;
      /** The process the agent key acts as: the call's actor. */
      processId: string;
      actor: string;
      policyIds: string[];
    };

/**
 * Decides one system call for `caller`; returns who it runs as, or throws the `ApiError` that
 * says why not (403 `capability_denied`, `budget_exhausted`, `policy_denied`,
 * `approval_required`; 429 `rate_limited`; 409 `process_ended`).
 *
 * @example const acting = await gateSyscall(env, db, caller, "ws.write", WRITE_ROLES, { type: "Process", id })
 */
export async function gateSyscall(
  env: Env,
  db: Db,
  caller: Principal | undefined,
  capability: string,
  roles: readonly KeyRole[],
  resource: PolicyRequest["resource"],
): Promise<Acting> {
  const principal = requireActor(caller, roles);
  if (principal.processId === null) {
    const policyIds = await gateKeyCall(db, principal, capability, resource);
    return {
      as: "key",
      principal,
      tenantId: principal.tenantId,
      actor: principal.actor,
      policyIds,
    };
  }
  const processId = principal.processId;
  const result = await processStub(env, processId).callerSyscall(principal.tenantId, {
    capability,
    resource,
    keyId: principal.keyId,
  });
  if (!result.ok) throw refusal(capability, processId, result);
  return {
    as: "process",
    principal,
    tenantId: principal.tenantId,
    processId,
    actor: processId,
    policyIds: result.policyIds,
  };
}

function refusal(
  capability: string,
  processId: string,
  result: Extract<CallerSyscallResult, { ok: false }>,
): ApiError {
  const extra = { capability, processId, policyIds: result.policyIds };
  switch (result.code) {
    case "not_found":
      // The key outlived its process's record: nothing to act as.
      return new ApiError("not_found", `no process ${processId}`);
    case "unknown_call":
      return new ApiError("capability_denied", result.reason, { extra });
    default:
      return new ApiError(result.code, result.reason, { extra });
  }
}
