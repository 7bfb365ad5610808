/**
 * The agent loop's built-in tools: the system calls a process makes by answering with a tool
 * call. Each names the capability it needs; the gate checks it before the tool runs.
 */

import { z } from "zod";
import type { ModelTool } from "../../llm/types.js";
import { PROCESS_LIMITS } from "../process/record.js";

/** Longest a process may sleep in one call: a day. */
export const MAX_SLEEP_MS = 24 * 3_600_000;

export const FinishArgsSchema = z.strictObject({
  result: z.unknown().meta({ description: "The outcome of the goal (any JSON)" }),
});
export const SleepArgsSchema = z.strictObject({
  ms: z.number().int().min(1).max(MAX_SLEEP_MS),
});
export const SpawnArgsSchema = z.strictObject({
  type: z.string().min(1).max(63),
  goal: z.string().min(1).max(PROCESS_LIMITS.goalChars),
  version: z.string().max(64).optional(),
  /** Turns for a child that runs the `scripted` model. */
  script: z.array(z.unknown()).max(256).optional(),
});
export const WaitArgsSchema = z.strictObject({
  /** The child to wait for; without it, the next child to end (as POSIX `wait()`). */
  processId: z.string().min(1).max(64).optional(),
});

export const BUILTIN_TOOLS = {
  finish: {
    capability: "proc.finish",
    description: "Finish the goal with a result; the process exits.",
    args: FinishArgsSchema,
  },
  sleep: {
    capability: "proc.sleep",
    description: "Sleep for `ms` milliseconds without holding model capacity.",
    args: SleepArgsSchema,
  },
  spawn: {
    capability: "proc.spawn",
    description: "Spawn a child process of an agent type with a goal; returns its id.",
    args: SpawnArgsSchema,
  },
  wait: {
    capability: "proc.wait",
    description:
      "Wait until a child process ends (the one named, or else the next of this process's children to end); returns its id, status and result.",
    args: WaitArgsSchema,
  },
} as const;

export type BuiltinToolName = keyof typeof BUILTIN_TOOLS;

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
