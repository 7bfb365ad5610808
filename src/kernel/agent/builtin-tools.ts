/**
 * The agent loop's built-in tools: the system calls a process makes by answering with a tool
 * call. Each names the capability it needs; the gate checks it before the tool runs.
 */

import { z } from "zod";
import type { ModelTool } from "../../llm/types.js";
import { BOARD_TOOLS } from "./tools/board.js";
import { BUS_TOOLS } from "./tools/bus.js";
import { MEMORY_TOOLS } from "./tools/memory.js";
import { PROCESS_TOOLS } from "./tools/process.js";
import { SCHED_TOOLS } from "./tools/sched.js";
import { WORKSPACE_TOOLS } from "./tools/workspace.js";

export { MAX_SLEEP_MS } from "./tools/process.js";

/**
 * Every built-in tool, by the name the model calls it. One group per area, one file each under
 * `tools/`; a group's tools run through `src/objects/tools/` (one handler file per group).
 */
export const BUILTIN_TOOLS = {
  ...PROCESS_TOOLS,
  ...WORKSPACE_TOOLS,
  ...BUS_TOOLS,
  ...BOARD_TOOLS,
  ...MEMORY_TOOLS,
  ...SCHED_TOOLS,
} as const;

export type BuiltinToolName = keyof typeof BUILTIN_TOOLS;
/** The scheduler control plane's tools (the `sched-agent` type's plan). */
export type SchedToolName = keyof typeof SCHED_TOOLS;

/** True when `name` is a built-in tool. */
export function isBuiltinTool(name: string): name is BuiltinToolName {
  return Object.hasOwn(BUILTIN_TOOLS, name);
}

/** The tools a process with `capabilities` is offered: only those it may call. */
export function toolsFor(capabilities: readonly string[]): ModelTool[] {
  return (Object.keys(BUILTIN_TOOLS) as BuiltinToolName[])
    .filter((name) => capabilities.includes(BUILTIN_TOOLS[name].capability))
    .map((name) => ({
      name,
      description: BUILTIN_TOOLS[name].description,
      inputSchema: z.toJSONSchema(BUILTIN_TOOLS[name].args) as Record<string, unknown>,
    }));
}

/**
 * The capability a model-facing tool name calls: built-ins by their short name (`sleep` →
 * `proc.sleep`), external tools as `namespace__tool` (model APIs allow no dots in tool names)
 * or directly as `namespace.tool`.
 *
 * @example capabilityOfTool("ext__echo") // "ext.echo"
 */
export function capabilityOfTool(toolName: string): string {
  if (isBuiltinTool(toolName)) return BUILTIN_TOOLS[toolName].capability;
  const sep = toolName.indexOf("__");
  if (sep > 0) return `${toolName.slice(0, sep)}.${toolName.slice(sep + 2)}`;
  return toolName;
}

/** The model-facing name of an external capability (`ext.echo` → `ext__echo`). */
export function toolNameOfCapability(capability: string): string {
  const dot = capability.indexOf(".");
  return dot > 0 ? `${capability.slice(0, dot)}__${capability.slice(dot + 1)}` : capability;
}
