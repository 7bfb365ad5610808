/**
 * Resources: a process record and its event log, addressed as `edgekernel://process/{id}` and
 * `edgekernel://process/{id}/events`. Listing offers the caller's most recent processes (an
 * agent key sees only its own). Reads pass the same gate as tools.
 */

import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Variables } from "@modelcontextprotocol/sdk/shared/uriTemplate.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { MAX_PAGE_LIMIT } from "../api/schemas.js";
import { getProcess, listProcessEvents, listProcesses } from "../objects/process-calls.js";
import type { McpContext } from "./context.js";
import { toApiError } from "./errors.js";
import { gateMcpCall } from "./gate.js";

/** JSON-RPC error code for an unknown resource (MCP 2025-11-25, resources). */
export const RESOURCE_NOT_FOUND = -32002;
/** How many recent processes `resources/list` offers. */
export const RESOURCE_LIST_LIMIT = 20;

const JSON_TYPE = "application/json";

/**
 * The resource URI of a process.
 *
 * @example processUri("proc_…") // "edgekernel://process/proc_…"
 */
export function processUri(id: string): string {
  return `edgekernel://process/${id}`;
}

function idOf(variables: Variables): string {
  const id = variables.id;
  return Array.isArray(id) ? (id[0] ?? "") : (id ?? "");
}

/** Runs a read through the gate and maps refusals onto JSON-RPC errors. */
async function read(
  ctx: McpContext,
  gateName: string,
  uri: URL,
  id: string,
  load: () => Promise<unknown>,
) {
  try {
    await gateMcpCall(ctx, gateName, { id });
    const data = await load();
    return { contents: [{ uri: uri.href, mimeType: JSON_TYPE, text: JSON.stringify(data) }] };
  } catch (thrown) {
    const error = toApiError(thrown, ctx.requestId);
    if (error.code === "not_found") {
      throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri.href}`, { uri: uri.href });
    }
    throw new McpError(-32600, `${error.code}: ${error.message}`, { code: error.code });
  }
}

/** The caller's recent processes as resources; empty for callers that cannot list. */
async function recentProcesses(ctx: McpContext) {
  const p = ctx.caller.principal;
  if (p.kind === "key" && p.processId !== null) {
    return {
      resources: [{ uri: processUri(p.processId), name: p.processId, mimeType: JSON_TYPE }],
    };
  }
  try {
    const page = await listProcesses(ctx.env, ctx.db, p, {
      labels: [],
      limit: RESOURCE_LIST_LIMIT,
    });
    return {
      resources: page.items.map((item) => ({
        uri: processUri(item.id),
        name: item.id,
        title: `${item.type.name}@${item.type.version} (${item.status})`,
        mimeType: JSON_TYPE,
      })),
    };
  } catch {
    return { resources: [] };
  }
}

/**
 * Registers the process resource templates on `server`.
 *
 * @example registerResources(server, ctx)
 */
export function registerResources(server: McpServer, ctx: McpContext): void {
  server.registerResource(
    "process-events",
    new ResourceTemplate("edgekernel://process/{id}/events", { list: undefined }),
    {
      title: "Process event log",
      description: `A process's event log, oldest first (the first ${MAX_PAGE_LIMIT} events and a nextCursor)`,
      mimeType: JSON_TYPE,
    },
    (uri, variables) => {
      const id = idOf(variables);
      return read(ctx, "resource:process-events", uri, id, () =>
        listProcessEvents(ctx.env, ctx.db, ctx.caller.principal, { id, limit: MAX_PAGE_LIMIT }),
      );
    },
  );
  server.registerResource(
    "process",
    new ResourceTemplate("edgekernel://process/{id}", { list: () => recentProcesses(ctx) }),
    {
      title: "Process record",
      description: "A process's record: status, budget and usage, stats, result",
      mimeType: JSON_TYPE,
    },
    (uri, variables) => {
      const id = idOf(variables);
      return read(ctx, "resource:process", uri, id, () =>
        getProcess(ctx.env, ctx.db, ctx.caller.principal, { id }),
      );
    },
  );
}
