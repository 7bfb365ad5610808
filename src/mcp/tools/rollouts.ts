/**
 * Rollout tools: start a rollout of a signed version (canaries first), follow it, stop it,
 * roll it back. Thin adapters over the calls `/v1/rollouts` makes (src/schedcp/rollout-calls.ts),
 * with the API's request and response schemas. An agent key acts as its process: starting a
 * rollout is `sched.deploy`, high risk, so its gate asks a person first.
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { RolloutSchema } from "../../api/schemas-rollouts.js";
import {
  RolloutCommandSchema,
  RolloutCreateSchema,
  type RolloutView,
  rollbackRolloutAs,
  rolloutStatusAs,
  startRolloutAs,
  stopRolloutAs,
} from "../../schedcp/rollout-calls.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";

const RolloutIdArg = z.string().min(1).max(64).meta({ description: "The rollout's id, `rol_…`" });

/** The API's request body (without its component id, which would make the schema a `$ref`). */
export const DeployPolicyInput = z.strictObject(RolloutCreateSchema.shape);

export const RolloutIdInput = z.strictObject({ id: RolloutIdArg });
export const RolloutCommandInput = z.strictObject({
  id: RolloutIdArg,
  ...RolloutCommandSchema.shape,
});

function summaryOf(r: RolloutView): string {
  const canaries = r.nodes.filter((n) => n.canary).length;
  const reason = r.phaseReason ? ` (${r.phaseReason})` : "";
  return `Rollout ${r.rolloutId} of ${r.policyId}@${r.version} is ${r.phase}${reason}: ${r.nodes.length} nodes, ${canaries} canaries.`;
}

/**
 * Registers `deploy_policy`, `rollout_status`, `stop_rollout` and `rollback_rollout` on `server`.
 *
 * @example registerRolloutTools(server, ctx)
 */
export function registerRolloutTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "deploy_policy",
    {
      title: "Roll a policy version out",
      description:
        "Starts a rollout of a `signed` version to nodes (`target`: `nodeIds` or `labels`): `canaryFraction` of them first; after `healthWindowMs`, if every canary's telemetry stayed within the guards, the rest; a regression, ejection, failed load or lost node rolls every node back. Follow it with rollout_status.",
      inputSchema: DeployPolicyInput,
      outputSchema: RolloutSchema.shape,
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(ctx, "deploy_policy", { id: args.policyId }, async () => {
        const rollout = await startRolloutAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return {
          structured: { ...rollout },
          summary: summaryOf(rollout),
          target: rollout.rolloutId,
          detail: {
            policyId: rollout.policyId,
            version: rollout.version,
            nodes: rollout.nodes.length,
          },
        };
      }),
  );

  server.registerTool(
    "rollout_status",
    {
      title: "A rollout's status",
      description:
        "A rollout's phase (canary, promoting, completed, stopped, rolling_back, rolled_back) and why, the health window, and each node's state and failure.",
      inputSchema: RolloutIdInput,
      outputSchema: RolloutSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "rollout_status", {}, async () => {
        const rollout = await rolloutStatusAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return { structured: { ...rollout }, summary: summaryOf(rollout) };
      }),
  );

  for (const [tool, title, description, call] of [
    [
      "stop_rollout",
      "Stop a rollout",
      "Stops promotion: nodes that run the version keep it, no other node gets it (rollback_rollout takes it off them too). Refused outside canary and promoting.",
      stopRolloutAs,
    ],
    [
      "rollback_rollout",
      "Roll a rollout back",
      "Reverts every node of the rollout to what it ran before, also after completion. Refused when it is already rolling back or rolled back.",
      rollbackRolloutAs,
    ],
  ] as const) {
    server.registerTool(
      tool,
      {
        title,
        description,
        inputSchema: RolloutCommandInput,
        outputSchema: RolloutSchema.shape,
        annotations: {
          readOnlyHint: false,
          destructiveHint: true,
          idempotentHint: false,
          openWorldHint: false,
        },
      },
      (args) =>
        runTool(ctx, tool, args, async () => {
          const rollout = await call(ctx.env, ctx.db, ctx.caller.principal, args);
          return {
            structured: { ...rollout },
            summary: summaryOf(rollout),
            detail: { phase: rollout.phase },
          };
        }),
    );
  }
}
