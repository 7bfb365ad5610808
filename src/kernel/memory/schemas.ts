/**
 * The fields of a memory as every surface takes them (HTTPS, MCP, agent-loop tools): one
 * definition, so the three validate the same way.
 */

import { z } from "zod";
import {
  MAX_MEMORY_CHARS,
  MAX_MEMORY_QUERY_CHARS,
  MAX_MEMORY_RESULTS,
  MAX_MEMORY_TAGS,
  MEMORY_TAG_PATTERN,
} from "./limits.js";

export const MemoryContentSchema = z
  .string()
  .max(MAX_MEMORY_CHARS)
  .refine((s) => s.trim().length > 0, { message: "must not be empty or blank" })
  .meta({ description: `What to remember, 1 to ${MAX_MEMORY_CHARS} characters` });

export const MemoryTagSchema = z
  .string()
  .regex(MEMORY_TAG_PATTERN, "a tag: 1-32 of a-z 0-9 _ . : -, starting with a letter or digit");

export const MemoryTagsSchema = z
  .array(MemoryTagSchema)
  .max(MAX_MEMORY_TAGS)
  .meta({ description: `Up to ${MAX_MEMORY_TAGS} tags, searched with the content` });

export const MemoryQueryTextSchema = z
  .string()
  .max(MAX_MEMORY_QUERY_CHARS)
  .meta({ description: "Words to search for (plain text: FTS syntax is not interpreted)" });

export const MemoryLimitSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_MEMORY_RESULTS)
  .meta({ description: `Most results, 1 to ${MAX_MEMORY_RESULTS}` });

/** What is written: the same object on every surface. */
export const MemoryWriteFields = {
  content: MemoryContentSchema,
  tags: MemoryTagsSchema.default([]),
};
