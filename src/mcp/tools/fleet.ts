/**
 * Fleet tools: the tenant's nodes, one node, a node's or a label group's workload profile with
 * recommended policies, and a node's rollout and performance history. Thin adapters over the same calls the
 * HTTPS routes make (src/schedcp/fleet-calls.ts, profile-calls.ts); all read-only.
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { fieldError } from "../../api/problem.js";
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, PageQuerySchema } from "../../api/schemas.js";
import { NodeDetailSchema, NodeListQuerySchema, NodePageSchema } from "../../api/schemas-fleet.js";
import {
  GroupNodeSchema,
  NodeSelectorViewSchema,
  ProfileFields,
} from "../../api/schemas-profile.js";
import { HistoryPageSchema } from "../../api/schemas-sched.js";
import { getNodeAs, listNodesAs } from "../../schedcp/fleet-calls.js";
import { PROFILE_LIMITS } from "../../schedcp/profile.js";
import { groupProfileAs, nodeProfileAs } from "../../schedcp/profile-calls.js";
import { LabelsSchema, NodeIdSchema, NodeRoleSchema } from "../../schedcp/protocol/index.js";
import { nodeHistoryAs } from "../../schedcp/rollout-calls.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";

const LimitSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_PAGE_LIMIT)
  .default(DEFAULT_PAGE_LIMIT)
  .meta({ description: `Page size, 1 to ${MAX_PAGE_LIMIT}` });

const NodeIdArg = NodeIdSchema.meta({ description: "The node's id" });

export const ListNodesInput = z.strictObject({
  labels: LabelsSchema.optional().meta({ description: "Only nodes carrying every label" }),
  role: NodeListQuerySchema.shape.role,
  status: NodeListQuerySchema.shape.status,
  includeRevoked: z.boolean().default(false).meta({ description: "List revoked nodes too" }),
  limit: LimitSchema,
  cursor: PageQuerySchema.shape.cursor,
});

export const NodeIdInput = z.strictObject({ id: NodeIdArg });

export const NodeHistoryInput = z.strictObject({
  id: NodeIdArg,
  limit: LimitSchema,
  cursor: PageQuerySchema.shape.cursor,
});

export const WorkloadProfileInput = z.strictObject({
  nodeId: NodeIdSchema.optional().meta({ description: "Profile this node" }),
  labels: LabelsSchema.optional().meta({
    description: "Or profile the group of nodes carrying every label (with `role`, of that role)",
  }),
  role: NodeRoleSchema.optional(),
  reports: z
    .number()
    .int()
    .min(PROFILE_LIMITS.windowReportsMin)
    .max(PROFILE_LIMITS.windowReportsMax)
    .default(PROFILE_LIMITS.windowReportsDefault)
    .meta({
      description: `Newest telemetry reports per node, ${PROFILE_LIMITS.windowReportsMin} to ${PROFILE_LIMITS.windowReportsMax}`,
    }),
});

/** A node's profile or a group's: what both hold, and each one's own fields, optional. */
export const WorkloadProfileOutput = {
  kind: z.enum(["node", "group"]),
  nodeId: NodeIdSchema.optional(),
  status: z.enum(["online", "offline"]).optional(),
  selector: NodeSelectorViewSchema.optional(),
  target: z.string().optional(),
  nodes: z.array(GroupNodeSchema).optional(),
  agreement: z.number().optional(),
  ...ProfileFields,
};

/**
 * Registers `list_nodes`, `get_node`, `workload_profile` and `node_history` on `server`.
 *
 * @example registerFleetTools(server, ctx)
 */
export function registerFleetTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "list_nodes",
    {
      title: "List fleet nodes",
      description:
        "Your tenant's Linux nodes by id, filtered by labels, role and status: what runs on each (a sched_ext policy, or the kernel's default) and when it was last seen. Pass `nextCursor` back as `cursor` for the next page.",
      inputSchema: ListNodesInput,
      outputSchema: NodePageSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "list_nodes", {}, async () => {
        const page = await listNodesAs(ctx.env, ctx.db, ctx.caller.principal, {
          ...args,
          labels: args.labels ?? {},
        });
        const online = page.items.filter((n) => n.status === "online").length;
        const more = page.nextCursor ? " (more: pass nextCursor as cursor)" : "";
        return {
          structured: page,
          summary: `${page.items.length} nodes, ${online} online${more}.`,
        };
      }),
  );

  server.registerTool(
    "get_node",
    {
      title: "Get a fleet node",
      description:
        "One node: its facts (kernel, sched_ext support and state, CPUs and topology, memory), status, labels, what runs, and its last telemetry report.",
      inputSchema: NodeIdInput,
      outputSchema: NodeDetailSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "get_node", {}, async () => {
        const node = await getNodeAs(ctx.env, ctx.db, ctx.caller.principal, args);
        const running = node.running
          ? `${node.running.policyId}@${node.running.version}`
          : "the kernel's default scheduler";
        return {
          structured: node,
          summary: `${node.id} (${node.role}) is ${node.status}, running ${running}.`,
        };
      }),
  );

  server.registerTool(
    "workload_profile",
    {
      title: "Workload profile of a node or label group",
      description:
        "Classifies the newest telemetry of a node (`nodeId`) or of a label group (`labels`, `role`) as cpu-bound-batch, latency-sensitive, mixed, io-bound or idle, with every signal, the thresholds it was held to and the top processes, and recommends policies from the repository with the reasons. `class` is null when there is no telemetry yet.",
      inputSchema: WorkloadProfileInput,
      outputSchema: WorkloadProfileOutput,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "workload_profile", {}, async () => {
        if (args.nodeId !== undefined && (args.labels !== undefined || args.role !== undefined)) {
          throw fieldError("nodeId", "give a nodeId or a selector (labels, role), not both");
        }
        const profile =
          args.nodeId !== undefined
            ? await nodeProfileAs(ctx.env, ctx.db, ctx.caller.principal, {
                id: args.nodeId,
                reports: args.reports,
              })
            : await groupProfileAs(ctx.env, ctx.db, ctx.caller.principal, {
                selector: {
                  labels: args.labels ?? {},
                  ...(args.role === undefined ? {} : { role: args.role }),
                },
                reports: args.reports,
                selectorPath: "labels",
              });
        const who = profile.kind === "node" ? profile.nodeId : `group ${profile.target}`;
        const top = profile.recommendations.recommendations[0];
        const pick = top ? ` Best fit: ${top.name} (score ${top.score}).` : "";
        return {
          structured: profile,
          summary: `${who}: ${profile.summary} (confidence ${profile.confidence}).${pick}`,
        };
      }),
  );

  server.registerTool(
    "node_history",
    {
      title: "A node's rollout and performance history",
      description:
        "A node's history across every policy, newest first: each rollout transition (assigned, active, reverted, failed, with the reason) and each recorded outcome (workload class, metrics before and after). Pass `nextCursor` back as `cursor` for older ones.",
      inputSchema: NodeHistoryInput,
      outputSchema: HistoryPageSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "node_history", {}, async () => {
        const page = await nodeHistoryAs(ctx.env, ctx.db, ctx.caller.principal, args);
        const more = page.nextCursor ? " (more: pass nextCursor as cursor)" : "";
        return {
          structured: page,
          summary: `${page.items.length} history items of ${args.id}${more}.`,
        };
      }),
  );
}
