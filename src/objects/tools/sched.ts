/**
 * The scheduler control plane's tools as they run in the calling process's object (the gate
 * has allowed them): each calls the `…In` function the HTTPS route and the MCP tool reach
 * through the gate, scoped to the process's tenant and acting as the process. A refusal (a
 * missing node, a failed static check, no verifier connected) is an error the model reads,
 * with the field paths at fault.
 */

import { ApiError } from "../../api/problem.js";
import type { SchedToolName } from "../../kernel/agent/builtin-tools.js";
import { SCHED_TOOL_VERSIONS } from "../../kernel/agent/tools/sched.js";
import type { ToolCall } from "../../llm/types.js";
import type { Scope } from "../../schedcp/call-scope.js";
import { listNodesIn } from "../../schedcp/fleet-calls.js";
import { getVersionIn, listPoliciesIn, policyDetailIn } from "../../schedcp/policy-reads.js";
import { createPolicyIn, recordOutcomeIn } from "../../schedcp/policy-writes.js";
import { groupProfileIn, nodeProfileIn } from "../../schedcp/profile-calls.js";
import { rolloutStatusIn, startRolloutIn } from "../../schedcp/rollout-calls.js";
import { verifyVersionIn } from "../../schedcp/verify-calls.js";
import { openDb } from "../../store/db.js";
import { type CallOutcome, resultOf, type ToolHandlers, type ToolInvocation } from "./types.js";

/** Runs a handler body, turning the API's refusals into an error the model reads. */
async function guarded(call: ToolCall, body: () => Promise<unknown>): Promise<CallOutcome> {
  try {
    return resultOf(call, await body());
  } catch (error) {
    if (error instanceof ApiError) {
      return resultOf(
        call,
        {
          error: error.message,
          code: error.code,
          ...(error.errors ? { errors: error.errors } : {}),
          ...error.extra,
        },
        true,
      );
    }
    throw error;
  }
}

function context({ h, record }: ToolInvocation) {
  const scope: Scope = { tenantId: record.tenantId, actor: record.id };
  return { env: h.processEnv, db: openDb(h.processEnv.DB), scope };
}

export const SCHED_TOOL_HANDLERS: ToolHandlers<SchedToolName> = {
  fleet_nodes: (inv, args) =>
    guarded(inv.call, () => {
      const { db, scope } = context(inv);
      return listNodesIn(db, scope.tenantId, { ...args, labels: args.labels ?? {} });
    }),

  fleet_profile: (inv, args) =>
    guarded(inv.call, () => {
      const { env, db, scope } = context(inv);
      if (args.nodeId !== undefined) {
        return nodeProfileIn(env, db, scope.tenantId, { id: args.nodeId, reports: args.reports });
      }
      return groupProfileIn(env, db, scope.tenantId, {
        selector: {
          labels: args.labels ?? {},
          ...(args.role === undefined ? {} : { role: args.role }),
        },
        reports: args.reports,
        selectorPath: "labels",
      });
    }),

  policy_search: (inv, args) =>
    guarded(inv.call, () => {
      const { env, db, scope } = context(inv);
      return listPoliciesIn(env, db, scope, args);
    }),

  policy_get: (inv, args) =>
    guarded(inv.call, () => {
      const { env, db, scope } = context(inv);
      return policyDetailIn(env, db, scope, {
        id: args.id,
        version: args.version,
        versionsLimit: SCHED_TOOL_VERSIONS,
        includeSource: args.includeSource,
      });
    }),

  policy_submit: (inv, args) =>
    guarded(inv.call, () => {
      const { env, db, scope } = context(inv);
      return createPolicyIn(env, db, scope, args);
    }),

  policy_verify: (inv, args) =>
    guarded(inv.call, () => {
      const { env, db, scope } = context(inv);
      return verifyVersionIn(env, db, scope, { ...args, version: String(args.version) });
    }),

  policy_status: (inv, args) =>
    guarded(inv.call, async () => {
      const { env, db, scope } = context(inv);
      const v = await getVersionIn(env, db, scope, {
        id: args.id,
        version: String(args.version),
      });
      // The source and parameters are the model's own input: leave them out of its context.
      const { source: _source, ...rest } = v;
      return rest;
    }),

  // The rollout call parses its input with the API's schema: field errors read alike.
  rollout_start: (inv, args) =>
    guarded(inv.call, () => {
      const { env, db, scope } = context(inv);
      return startRolloutIn(env, db, scope, args);
    }),

  rollout_status: (inv, args) =>
    guarded(inv.call, () => {
      const { env, scope } = context(inv);
      return rolloutStatusIn(env, scope, args);
    }),

  policy_record_outcome: (inv, args) =>
    guarded(inv.call, () => {
      const { env, db, scope } = context(inv);
      return recordOutcomeIn(env, db, scope, { ...args, version: String(args.version) });
    }),
};
