/**
 * The one gate every MCP tool call and resource read passes before it reaches a system call.
 * It enforces what the HTTPS API enforces per route: the role a tool needs, the caller's
 * tenant, and that an agent key reaches only its own process (as that process). Capability,
 * policy and budget checks belong to the system call itself (src/objects/call-gate.ts).
 */

import {
  ADMIN_ROLES,
  READ_ROLES,
  requireActor,
  requireProcessAccess,
  requireTenantKey,
  WRITE_ROLES,
} from "../api/authorize.js";
import type { KeyRole } from "../store/api-keys.js";
import type { McpCaller, McpContext } from "./context.js";

/** What a tool needs of its caller. */
export interface ToolAccess {
  roles: readonly KeyRole[];
  /** The tool names one process in `args.id`; an agent key may use it on its own process. */
  processScoped: boolean;
  /** It changes state: an agent key's change is its process's system call (gated as one). */
  write: boolean;
  /** An agent key may call it as its process (spawning a child). */
  asProcess?: boolean;
  /** The system administrator may call it too (it acts across tenants). */
  system?: boolean;
}

/** The access each tool and resource needs; a name missing here is refused. */
export const TOOL_ACCESS: Record<string, ToolAccess> = {
  spawn_process: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  list_processes: { roles: READ_ROLES, processScoped: false, write: false },
  get_process: { roles: READ_ROLES, processScoped: true, write: false },
  pause_process: { roles: WRITE_ROLES, processScoped: true, write: true },
  resume_process: { roles: WRITE_ROLES, processScoped: true, write: true },
  terminate_process: { roles: WRITE_ROLES, processScoped: true, write: true },
  search_memory: { roles: READ_ROLES, processScoped: true, write: false },
  write_memory: { roles: WRITE_ROLES, processScoped: true, write: true },
  list_agent_types: { roles: READ_ROLES, processScoped: false, write: false },
  query_audit: { roles: ADMIN_ROLES, processScoped: false, write: false, system: true },
  list_approvals: { roles: READ_ROLES, processScoped: false, write: false },
  approve_call: { roles: WRITE_ROLES, processScoped: false, write: true },
  deny_call: { roles: WRITE_ROLES, processScoped: false, write: true },
  blackboard_get: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  blackboard_list: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  blackboard_put: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  blackboard_delete: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  artifact_list: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  artifact_get: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  artifact_get_content: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  artifact_put: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  send_message: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  read_mailbox: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  publish: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  subscribe: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  // An agent key may reach another process's files through a share: the call decides (404 otherwise).
  read_file: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  list_files: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  write_file: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  delete_file: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  share_path: { roles: WRITE_ROLES, processScoped: true, write: true },
  revoke_share: { roles: WRITE_ROLES, processScoped: true, write: true },
  // The fleet and the policy repository: an agent key's calls are its process's system calls.
  list_nodes: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  get_node: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  workload_profile: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  node_history: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  search_policies: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  get_policy: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  verification_status: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  submit_policy: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  submit_version: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  verify_policy: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  record_outcome: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  deploy_policy: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  rollout_status: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
  stop_rollout: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  rollback_rollout: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  "resource:process": { roles: READ_ROLES, processScoped: true, write: false },
  "resource:process-events": { roles: READ_ROLES, processScoped: true, write: false },
};

/** Who a call is recorded as: an agent key acts as its process. */
export interface Acting {
  actor: string;
  actorRole: string;
  tenantId: string | null;
  /** Extra audit detail, e.g. the agent key behind a process actor. */
  detail: Record<string, unknown>;
}

/**
 * The audit identity of a caller: the process id for an agent key (with the key id in the
 * detail), otherwise the key (or `system:admin`).
 *
 * @example actingAs(ctx.caller).actor // "proc_…" for an agent key
 */
export function actingAs(caller: McpCaller): Acting {
  const p = caller.principal;
  const detail: Record<string, unknown> = { via: "mcp", credential: caller.credential };
  if (caller.oauthClientId) detail.oauthClientId = caller.oauthClientId;
  if (p.kind === "system") return { actor: p.actor, actorRole: p.role, tenantId: null, detail };
  if (p.processId !== null) {
    return {
      actor: p.processId,
      actorRole: p.role,
      tenantId: p.tenantId,
      detail: { ...detail, keyId: p.keyId },
    };
  }
  return { actor: p.actor, actorRole: p.role, tenantId: p.tenantId, detail };
}

/**
 * Decides whether this caller may make this call now; throws the API's `ApiError` (403
 * forbidden, or 404 for another process, exactly as over HTTPS) when not.
 *
 * @example await gateMcpCall(ctx, "terminate_process", { id: "proc_…" })
 */
export async function gateMcpCall(
  ctx: McpContext,
  toolName: string,
  args: { id?: string | undefined },
): Promise<Acting> {
  const access = TOOL_ACCESS[toolName];
  if (!access) throw new Error(`gate: no access rule for ${toolName}`);
  const principal = ctx.caller.principal;
  if (access.system && principal.kind === "system") return actingAs(ctx.caller);
  if (access.processScoped && args.id !== undefined) {
    requireProcessAccess(principal, args.id, access.roles);
  } else if (access.asProcess) {
    requireActor(principal, access.roles);
  } else {
    requireTenantKey(principal, access.roles);
  }
  // Capability, Cedar policy and budget checks happen in the system call itself (gateSyscall),
  // so the HTTPS API and MCP meet the same ones.
  return actingAs(ctx.caller);
}
