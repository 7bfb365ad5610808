/** Agent-type and audit tools: read-only views over the same calls as the HTTPS API. */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { listAgentTypeViews, queryAuditLog } from "../../objects/process-calls.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";
import { AgentTypeListOutput, AuditPageOutput, EmptyInput, QueryAuditInput } from "./schemas.js";

/**
 * Registers `list_agent_types` and `query_audit` on `server`.
 *
 * @example registerRegistryTools(server, ctx)
 */
export function registerRegistryTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "list_agent_types",
    {
      title: "List agent types",
      description:
        "The built-in agent types and your tenant's own, every version, newest first: what spawn_process can start.",
      inputSchema: EmptyInput,
      outputSchema: AgentTypeListOutput,
      annotations: READ_ONLY,
    },
    () =>
      runTool(ctx, "list_agent_types", {}, async () => {
        const list = await listAgentTypeViews(ctx.env, ctx.db, ctx.caller.principal);
        const names = [...new Set(list.items.map((t) => t.name))].join(", ");
        return { structured: list, summary: `${list.items.length} agent type versions: ${names}.` };
      }),
  );

  server.registerTool(
    "query_audit",
    {
      title: "Query the audit log",
      description:
        "Who did what to which resource, newest first, filtered by actor, action and time (tenant admins see their tenant).",
      inputSchema: QueryAuditInput,
      outputSchema: AuditPageOutput,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "query_audit", {}, async () => {
        const page = await queryAuditLog(ctx.env, ctx.db, ctx.caller.principal, args);
        const more = page.nextCursor ? " (more: pass nextCursor as cursor)" : "";
        return { structured: page, summary: `${page.items.length} audit records${more}.` };
      }),
  );
}
