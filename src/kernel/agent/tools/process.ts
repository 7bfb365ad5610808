/**
 * The process tools: finishing, sleeping, spawning children and waiting for them. Each tool
 * names the capability it needs; the gate checks it before the tool runs.
 */

import { z } from "zod";
import { PROCESS_LIMITS } from "../../process/record.js";
import type { ToolSpec } from "./spec.js";

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

export const PROCESS_TOOLS = {
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
} as const satisfies Record<string, ToolSpec>;
