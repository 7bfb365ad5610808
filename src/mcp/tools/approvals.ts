/**
 * The human gate over MCP: list the calls policy parked for a person, and approve (the call
 * runs exactly once) or deny (it fails with the reason) one. The same calls as
 * `/v1/approvals`, with the same audit rows.
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { cursorKey } from "../../api/pagination.js";
import { ApiError } from "../../api/problem.js";
import { ApprovalSchema, DecisionBodySchema } from "../../api/routes/approvals.js";
import { MAX_PAGE_LIMIT } from "../../api/schemas.js";
import { decideApproval, listApprovals } from "../../objects/approvals.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";

const ListApprovalsInput = z.strictObject({
  status: z.enum(["pending", "approved", "denied", "expired"]).optional(),
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).default(20),
  cursor: z.string().max(256).optional(),
});
const DecideInput = DecisionBodySchema.extend({
  id: z.string().min(1).max(64).meta({ description: "The approval id, `apr_…`" }),
});
const ApprovalPageOutput = { items: z.array(ApprovalSchema), nextCursor: z.string().nullable() };

function tenantOf(ctx: McpContext): string {
  const p = ctx.caller.principal;
  if (p.kind !== "key")
    throw new ApiError("forbidden", "approvals belong to a tenant: use one of its keys");
  return p.tenantId;
}

/**
 * Registers `list_approvals`, `approve_call` and `deny_call` on `server`.
 *
 * @example registerApprovalTools(server, ctx)
 */
export function registerApprovalTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "list_approvals",
    {
      title: "List approval requests",
      description:
        "Calls that policy parked for a person's decision, newest first; filter by status (pending first of all).",
      inputSchema: ListApprovalsInput.shape,
      outputSchema: ApprovalPageOutput,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "list_approvals", {}, async () => {
        const structured = await listApprovals(ctx.db, tenantOf(ctx), {
          status: args.status,
          beforeId: cursorKey(args.cursor),
          limit: args.limit,
        });
        const pending = structured.items.filter((a) => a.status === "pending").length;
        return {
          structured,
          summary: `${structured.items.length} approval requests, ${pending} pending.`,
        };
      }),
  );

  for (const decision of ["approve", "deny"] as const) {
    const tool = decision === "approve" ? "approve_call" : "deny_call";
    server.registerTool(
      tool,
      {
        title: decision === "approve" ? "Approve a parked call" : "Deny a parked call",
        description:
          decision === "approve"
            ? "Approve a pending request: the parked call runs exactly once, as the process that made it."
            : "Deny a pending request: the parked call fails with your reason and never runs.",
        inputSchema: DecideInput.shape,
        outputSchema: ApprovalSchema.shape,
        annotations: {
          readOnlyHint: false,
          // Approving lets a high-risk call run; denying only stops one.
          destructiveHint: decision === "approve",
          idempotentHint: false,
          openWorldHint: false,
        },
      },
      (args) =>
        runTool(ctx, tool, {}, async () => {
          const acting = ctx.caller.principal;
          const view = await decideApproval(
            ctx.env,
            ctx.db,
            tenantOf(ctx),
            args.id,
            decision,
            args.reason ?? null,
            acting.actor,
          );
          return {
            structured: view as unknown as Record<string, unknown>,
            summary: `${view.capability} for ${view.processId ?? "a key"}: ${view.status}.`,
            target: view.id,
            detail: { capability: view.capability, processId: view.processId },
          };
        }),
    );
  }
}
