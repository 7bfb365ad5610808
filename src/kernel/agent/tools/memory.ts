/**
 * The long-term memory tools: write a memory for this process's agent type, and search that
 * agent type's memories by full text. Each names the capability the gate checks.
 */

import { z } from "zod";
import { DEFAULT_MEMORY_TOOL_RESULTS, MEMORY_TOOL_CONTENT_CHARS } from "../../memory/limits.js";
import {
  MemoryLimitSchema,
  MemoryQueryTextSchema,
  MemoryTagSchema,
  MemoryWriteFields,
} from "../../memory/schemas.js";
import type { ToolSpec } from "./spec.js";

export const MemoryWriteArgsSchema = z.strictObject(MemoryWriteFields);
export const MemorySearchArgsSchema = z.strictObject({
  query: MemoryQueryTextSchema,
  limit: MemoryLimitSchema.default(DEFAULT_MEMORY_TOOL_RESULTS),
  tag: MemoryTagSchema.optional(),
});

export const MEMORY_TOOLS = {
  memory_write: {
    capability: "memory.write",
    description:
      "Remember something for later runs of this agent type (long-term memory); returns the memory's id.",
    args: MemoryWriteArgsSchema,
  },
  memory_search: {
    capability: "memory.read",
    description: `Search this agent type's long-term memory by words; best matches first, each with where it came from (content cut at ${MEMORY_TOOL_CONTENT_CHARS} characters).`,
    args: MemorySearchArgsSchema,
  },
} as const satisfies Record<string, ToolSpec>;
