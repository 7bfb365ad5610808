/**
 * Every built-in tool's handler, one group per file, checked complete against `BUILTIN_TOOLS`
 * by the type below: a tool declared without a handler does not compile.
 */

import {
  BUILTIN_TOOLS,
  type BuiltinToolName,
  isBuiltinTool,
} from "../../kernel/agent/builtin-tools.js";
import { BOARD_TOOL_HANDLERS } from "./board.js";
import { BUS_TOOL_HANDLERS } from "./bus.js";
import { MEMORY_TOOL_HANDLERS } from "./memory.js";
import { PROCESS_TOOL_HANDLERS } from "./process.js";
import { SCHED_TOOL_HANDLERS } from "./sched.js";
import type { CallOutcome, ToolHandler, ToolHandlers, ToolInvocation } from "./types.js";
import { WORKSPACE_TOOL_HANDLERS } from "./workspace.js";

const HANDLERS: ToolHandlers<BuiltinToolName> = {
  ...PROCESS_TOOL_HANDLERS,
  ...WORKSPACE_TOOL_HANDLERS,
  ...BUS_TOOL_HANDLERS,
  ...BOARD_TOOL_HANDLERS,
  ...MEMORY_TOOL_HANDLERS,
  ...SCHED_TOOL_HANDLERS,
};

/**
 * Validates a built-in tool call's arguments and runs it; a call the model got wrong comes back
 * as an error naming the field, for the model to read.
 */
export async function runBuiltinTool(
  inv: ToolInvocation,
): Promise<{ outcome?: CallOutcome; error?: string }> {
  const name = inv.call.name;
  if (!isBuiltinTool(name)) return { error: `${name} is not a built-in tool` };
  const parsed = BUILTIN_TOOLS[name].args.safeParse(inv.call.arguments);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      error: `invalid arguments: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "rejected"}`,
    };
  }
  const handler = HANDLERS[name] as ToolHandler<BuiltinToolName>;
  return { outcome: await handler(inv, parsed.data as never) };
}
