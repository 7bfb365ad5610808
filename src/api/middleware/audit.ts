/**
 * Writes one audit row for every state-changing call, after the response is decided and
 * before it is sent, so the row records the real outcome: allow (2xx), deny (401/403) or
 * error (any other failure, e.g. validation).
 */

import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { writeAudit } from "../../store/audit.js";
import type { AppEnv } from "../context.js";

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Audit action names, by method and route pattern. Stable: clients filter on them. */
export const AUDIT_ACTIONS: Record<string, string> = {
  "POST /v1/processes": "process.spawn",
  "POST /v1/processes/:id/pause": "process.pause",
  "POST /v1/processes/:id/resume": "process.resume",
  "POST /v1/processes/:id/terminate": "process.terminate",
  "DELETE /v1/processes/:id": "process.purge",
  "PUT /v1/blackboard/:key": "blackboard.put",
  "DELETE /v1/blackboard/:key": "blackboard.delete",
  "POST /v1/artifacts": "artifact.create",
  "DELETE /v1/artifacts/:id": "artifact.delete",
  "POST /v1/processes/:id/workspace/memory": "memory.write",
  "DELETE /v1/processes/:id/workspace/memory/:memoryId": "memory.delete",
  "PUT /v1/processes/:id/workspace/files/:path{.+}": "workspace.file.write",
  "DELETE /v1/processes/:id/workspace/files/:path{.+}": "workspace.file.delete",
  "PUT /v1/processes/:id/workspace/kv/:key{.+}": "workspace.kv.write",
  "DELETE /v1/processes/:id/workspace/kv/:key{.+}": "workspace.kv.delete",
  "POST /v1/processes/:id/workspace/shares": "workspace.share",
  "POST /v1/processes/:id/workspace/shares/revoke": "workspace.revoke",
  "POST /v1/agent-types": "agent_type.create",
  "POST /v1/tenants": "tenant.create",
  "POST /v1/keys": "key.create",
  "DELETE /v1/keys/:id": "key.revoke",
  "PUT /v1/scheduler/pools/:pool": "scheduler.configure",
  "PUT /v1/access-policies/:name": "access_policy.put",
  "DELETE /v1/access-policies/:name": "access_policy.delete",
  "POST /v1/policies": "sched_policy.create",
  "POST /v1/policies/:id/versions": "sched_policy.version_create",
  "POST /v1/policies/:id/versions/:version/clear-quarantine": "sched_policy.clear_quarantine",
  "POST /v1/policies/:id/versions/:version/outcomes": "sched_policy.outcome_record",
  "POST /v1/policies/:id/versions/:version/verify": "sched_policy.verify",
  "POST /v1/rollouts": "rollout.start",
  "POST /v1/rollouts/:id/stop": "rollout.stop",
  "POST /v1/rollouts/:id/rollback": "rollout.rollback",
  "POST /v1/approvals/:id/approve": "approval.approve",
  "POST /v1/approvals/:id/deny": "approval.deny",
  "POST /v1/entitlements": "entitlement.create",
  "DELETE /v1/entitlements/:id": "entitlement.delete",
  "POST /v1/capability-providers": "capability_provider.register",
  "POST /v1/messages": "message.send",
  "DELETE /v1/messages/:id": "message.ack",
  "POST /v1/messages/dead-letters/:id/replay": "message.replay",
  "POST /v1/topics/:topic/subscriptions": "topic.subscribe",
  "DELETE /v1/topics/:topic/subscriptions/:processId": "topic.unsubscribe",
  "POST /v1/topics/:topic/messages": "topic.publish",
  "POST /v1/fleet/enrollment-tokens": "fleet.enrollment_token.create",
  "POST /v1/fleet/enroll": "fleet.node.enroll",
  "DELETE /v1/fleet/nodes/:id": "fleet.node.revoke",
  "POST /v1/fleet/commands": "fleet.command",
  "PUT /v1/fleet/verify-jobs/:jobId/object": "fleet.verify_job.upload",
};

/** The audit middleware; mount it after request-id and before authentication. */
export function audit(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (!STATE_CHANGING.has(c.req.method)) return;
    const route = matchedRoutes(c)
      .filter((r) => r.method === c.req.method)
      .at(-1);
    const action = route ? AUDIT_ACTIONS[`${c.req.method} ${route.path}`] : undefined;
    if (!action) return; // unknown routes change nothing
    const principal = c.var.principal;
    const status = c.res.status;
    const note = c.var.audit;
    // An agent key acts as its process: the row names the process, the key goes in the detail.
    const asProcess = principal?.kind === "key" && principal.processId !== null;
    const detail =
      asProcess && principal?.kind === "key"
        ? { ...note.detail, keyId: principal.keyId }
        : note.detail;
    try {
      await writeAudit(
        c.var.db,
        {
          tenantId: note.tenantId ?? (principal?.kind === "key" ? principal.tenantId : null),
          actor:
            principal?.kind === "key" && principal.processId !== null
              ? principal.processId
              : (principal?.actor ?? note.actor ?? "anonymous"),
          actorRole: asProcess ? "process" : (principal?.role ?? note.actorRole ?? "none"),
          action,
          target: note.target ?? targetFromPath(c.req.path),
          decision: status < 400 ? "allow" : status === 401 || status === 403 ? "deny" : "error",
          status,
          requestId: c.var.requestId,
          detail,
        },
        Date.now(),
      );
    } catch (error) {
      // The change itself is durable already; losing its audit row is logged loudly.
      console.error("audit write failed", action, c.var.requestId, error);
    }
  };
}

/** `/v1/processes/proc_…/pause` → `proc_…`: the target when a call failed before its handler. */
function targetFromPath(path: string): string | null {
  return /^\/v1\/[a-z-]+\/([^/]+)/.exec(path)?.[1] ?? null;
}
