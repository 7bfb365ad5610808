/**
 * Audit rows for MCP calls that change state. They use the same action names as the HTTPS
 * API (`process.spawn`, `process.pause`, …) so one filter finds a change whichever surface
 * made it; `detail.via` is `"mcp"` and `detail.tool` names the tool.
 */

import { writeAudit } from "../store/audit.js";
import type { McpContext } from "./context.js";
import type { Acting } from "./gate.js";

/** The audit action of each state-changing tool. */
export const MCP_AUDIT_ACTIONS: Record<string, string> = {
  spawn_process: "process.spawn",
  pause_process: "process.pause",
  resume_process: "process.resume",
  terminate_process: "process.terminate",
  write_memory: "memory.write",
  approve_call: "approval.approve",
  deny_call: "approval.deny",
  blackboard_put: "blackboard.put",
  blackboard_delete: "blackboard.delete",
  artifact_put: "artifact.create",
  send_message: "message.send",
  publish: "topic.publish",
  subscribe: "topic.subscribe",
  write_file: "workspace.file.write",
  delete_file: "workspace.file.delete",
  share_path: "workspace.share",
  revoke_share: "workspace.revoke",
  submit_policy: "sched_policy.create",
  submit_version: "sched_policy.version_create",
  verify_policy: "sched_policy.verify",
  record_outcome: "sched_policy.outcome_record",
  deploy_policy: "rollout.start",
  stop_rollout: "rollout.stop",
  rollback_rollout: "rollout.rollback",
};

export interface McpCallOutcome {
  /** The HTTP status the same call over HTTPS would have answered with. */
  status: number;
  target: string | null;
  detail?: Record<string, unknown> | undefined;
}

/**
 * Writes the audit row of one state-changing tool call (a no-op for read-only tools). Like the
 * API, a refusal (401/403) is `deny`, any other failure `error`.
 *
 * @example await auditMcpCall(ctx, acting, "terminate_process", { status: 200, target: "proc_…" })
 */
export async function auditMcpCall(
  ctx: McpContext,
  acting: Acting,
  tool: string,
  outcome: McpCallOutcome,
): Promise<void> {
  const action = MCP_AUDIT_ACTIONS[tool];
  if (!action) return;
  const { status } = outcome;
  try {
    await writeAudit(
      ctx.db,
      {
        tenantId: acting.tenantId,
        actor: acting.actor,
        actorRole: acting.actorRole,
        action,
        target: outcome.target,
        decision: status < 400 ? "allow" : status === 401 || status === 403 ? "deny" : "error",
        status,
        requestId: ctx.requestId,
        detail: { ...acting.detail, tool, ...outcome.detail },
      },
      Date.now(),
    );
  } catch (error) {
    // The change itself is durable already; losing its audit row is logged loudly.
    console.error("audit write failed", action, ctx.requestId, error);
  }
}
