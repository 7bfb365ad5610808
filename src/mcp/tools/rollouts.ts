/**
 * Verification and rollout tools: send a version to a verifier node, start a rollout (canaries
 * first), stop it, roll it back, and follow it. Thin adapters over the rollout engine's calls,
 * which are built on the `rollout` branch (`verifyVersionAs`, `startRolloutAs`,
 * `rolloutStatusAs`, `stopRolloutAs`, `rollbackRolloutAs` in src/schedcp/, each
 * `(env, db, caller, input)` like policy-calls.ts, each passing the call gate itself).
 *
 * NOT REGISTERED YET: until those calls exist, server.ts does not call `registerRolloutTools`
 * and no client sees these tools. Wiring them is three lines, once the branches meet:
 *
 *   import * as rolloutCalls from "../schedcp/rollout-calls.js";            // server.ts
 *   registerRolloutTools(server, ctx, { ...rolloutCalls, schemas: {…} });   // server.ts
 *   ...ROLLOUT_TOOL_ACCESS in TOOL_ACCESS, ...ROLLOUT_AUDIT_ACTIONS in MCP_AUDIT_ACTIONS
 *
 * and replacing the input schemas below by the rollout routes' request schemas, if they differ.
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { READ_ROLES, WRITE_ROLES } from "../../api/authorize.js";
import type { Env } from "../../env.js";
import type { Caller } from "../../objects/process-calls.js";
import { NodeTargetSchema } from "../../schedcp/fleet/targets.js";
import {
  GuardSchema,
  PolicyVersionSchema,
  SchedPolicyIdSchema,
} from "../../schedcp/protocol/index.js";
import { RolloutIdSchema, RolloutSpecSchema } from "../../schedcp/rollout.js";
import type { Db } from "../../store/db.js";
import type { McpContext } from "../context.js";
import type { ToolAccess } from "../gate.js";
import { READ_ONLY, runTool } from "./run.js";

export const VerifyPolicyInput = z.strictObject({
  id: SchedPolicyIdSchema,
  version: PolicyVersionSchema,
});

export const DeployPolicyInput = z.strictObject({
  id: SchedPolicyIdSchema,
  version: PolicyVersionSchema,
  target: NodeTargetSchema.meta({
    description: "`{ nodeIds: [...] }` or `{ selector: { labels, role? } }`",
  }),
  canaryFraction: RolloutSpecSchema.shape.canaryFraction.optional(),
  healthWindowMs: RolloutSpecSchema.shape.healthWindowMs.optional(),
  guards: z.array(GuardSchema).max(4).optional(),
});

export const RolloutIdInput = z.strictObject({ id: RolloutIdSchema });

export const RolloutSignalInput = z.strictObject({
  id: RolloutIdSchema,
  reason: z.string().min(1).max(1_024),
});

export type DeployPolicyArgs = z.infer<typeof DeployPolicyInput>;

type Call<I> = (env: Env, db: Db, caller: Caller, input: I) => Promise<Record<string, unknown>>;

/** The rollout engine's calls and the schemas of their results, as the `rollout` branch exports them. */
export interface RolloutCalls {
  verifyVersionAs: Call<{ id: string; version: number }>;
  startRolloutAs: Call<DeployPolicyArgs>;
  rolloutStatusAs: Call<{ id: string }>;
  stopRolloutAs: Call<{ id: string; reason: string }>;
  rollbackRolloutAs: Call<{ id: string; reason: string }>;
  schemas: { verification: z.ZodObject; rollout: z.ZodObject };
}

/** What each of these tools needs of its caller (merged into TOOL_ACCESS when registered). */
export const ROLLOUT_TOOL_ACCESS: Record<string, ToolAccess> = {
  verify_policy: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  deploy_policy: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  stop_rollout: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  rollback_rollout: { roles: WRITE_ROLES, processScoped: false, write: true, asProcess: true },
  rollout_status: { roles: READ_ROLES, processScoped: false, write: false, asProcess: true },
};

/** Their audit actions (merged into MCP_AUDIT_ACTIONS when registered). */
export const ROLLOUT_AUDIT_ACTIONS: Record<string, string> = {
  verify_policy: "sched_policy.verify",
  deploy_policy: "rollout.start",
  stop_rollout: "rollout.stop",
  rollback_rollout: "rollout.rollback",
};

const CHANGES = { readOnlyHint: false, openWorldHint: false } as const;

function state(result: Record<string, unknown>): string {
  const value = result.phase ?? result.status ?? result.state;
  return typeof value === "string" ? value : "accepted";
}

/**
 * Registers the verification and rollout tools over `calls`.
 *
 * @example registerRolloutTools(server, ctx, { ...rolloutCalls, schemas })
 */
export function registerRolloutTools(
  server: McpServer,
  ctx: McpContext,
  calls: RolloutCalls,
): void {
  const principal = () => ctx.caller.principal;
  server.registerTool(
    "verify_policy",
    {
      title: "Verify a policy version",
      description:
        "Send a `checked` version to a verifier node: it compiles the source and loads it into a real sched_ext kernel in a throwaway VM, runs a workload under it and unloads it. Passing, the version is signed and may be deployed. Follow it with verification_status.",
      inputSchema: VerifyPolicyInput,
      outputSchema: calls.schemas.verification,
      annotations: { ...CHANGES, destructiveHint: false, idempotentHint: true },
    },
    (args) =>
      runTool(ctx, "verify_policy", { id: args.id }, async () => {
        const out = await calls.verifyVersionAs(ctx.env, ctx.db, principal(), args);
        return {
          structured: out,
          summary: `${args.id} version ${args.version}: verification ${state(out)}.`,
          detail: { version: args.version },
        };
      }),
  );

  server.registerTool(
    "deploy_policy",
    {
      title: "Start a rollout",
      description:
        "Roll a signed version out to nodes (ids or a label selector): a canary fraction first, promoted to the rest after a health window if the guards hold, rolled back automatically on regression or ejection.",
      inputSchema: DeployPolicyInput,
      outputSchema: calls.schemas.rollout,
      annotations: { ...CHANGES, destructiveHint: true, idempotentHint: false },
    },
    (args) =>
      runTool(ctx, "deploy_policy", { id: args.id }, async () => {
        const out = await calls.startRolloutAs(ctx.env, ctx.db, principal(), args);
        return {
          structured: out,
          summary: `Rollout of ${args.id}@${args.version}: ${state(out)}.`,
          target: typeof out.id === "string" ? out.id : args.id,
          detail: { version: args.version },
        };
      }),
  );

  for (const [tool, title, call] of [
    ["stop_rollout", "Stop a rollout", calls.stopRolloutAs],
    ["rollback_rollout", "Roll a rollout back", calls.rollbackRolloutAs],
  ] as const) {
    server.registerTool(
      tool,
      {
        title,
        description:
          tool === "stop_rollout"
            ? "Stop a rollout where it stands: nodes keep what they run, none is added."
            : "Take a rollout's policy off every node it reached, back to what each ran before.",
        inputSchema: RolloutSignalInput,
        outputSchema: calls.schemas.rollout,
        annotations: { ...CHANGES, destructiveHint: true, idempotentHint: true },
      },
      (args) =>
        runTool(ctx, tool, args, async () => {
          const out = await call(ctx.env, ctx.db, principal(), args);
          return { structured: out, summary: `Rollout ${args.id}: ${state(out)}.` };
        }),
    );
  }

  server.registerTool(
    "rollout_status",
    {
      title: "A rollout's status",
      description: "A rollout's phase, each node's state, and why it stands where it does.",
      inputSchema: RolloutIdInput,
      outputSchema: calls.schemas.rollout,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "rollout_status", {}, async () => {
        const out = await calls.rolloutStatusAs(ctx.env, ctx.db, principal(), args);
        return { structured: out, summary: `Rollout ${args.id}: ${state(out)}.` };
      }),
  );
}
