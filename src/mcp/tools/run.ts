/**
 * The frame every tool call runs in: the gate, the system call, the audit row, and the result
 * as structured content plus text (a one-line summary, then the same data as JSON for clients
 * that read only text, as the MCP spec recommends).
 */

import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { auditMcpCall } from "../audit.js";
import type { McpContext } from "../context.js";
import { toApiError, toolError } from "../errors.js";
import { actingAs, gateMcpCall } from "../gate.js";

/** The annotations of a tool that only reads: safe to call, and to call again. */
export const READ_ONLY = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;

export interface ToolSuccess {
  structured: Record<string, unknown>;
  summary: string;
  /** The audited target when it is not `args.id` (e.g. a new process). */
  target?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

/**
 * Runs one tool call through the gate and records it; any failure becomes an `isError` result.
 *
 * @example return runTool(ctx, "get_process", args, async () => ({ structured: record, summary: "…" }))
 */
export async function runTool(
  ctx: McpContext,
  tool: string,
  args: { id?: string | undefined },
  call: () => Promise<ToolSuccess>,
): Promise<CallToolResult> {
  let acting = actingAs(ctx.caller);
  try {
    acting = await gateMcpCall(ctx, tool, args);
    const ok = await call();
    await auditMcpCall(ctx, acting, tool, {
      status: 200,
      target: ok.target ?? args.id ?? null,
      detail: ok.detail,
    });
    return {
      content: [
        { type: "text", text: ok.summary },
        { type: "text", text: JSON.stringify(ok.structured) },
      ],
      structuredContent: ok.structured,
    };
  } catch (thrown) {
    const error = toApiError(thrown, ctx.requestId);
    await auditMcpCall(ctx, acting, tool, {
      status: error.status,
      target: args.id ?? null,
      detail: { code: error.code },
    });
    return toolError(error);
  }
}
