/**
 * Request and response schemas of the memory routes, over the kernel's memory field schemas so
 * the HTTPS API, MCP and the agent loop's tools validate the same way.
 */

import { z } from "zod";
import { DEFAULT_MEMORY_RESULTS, MAX_MEMORY_RESULTS } from "../kernel/memory/limits.js";
import {
  MemoryQueryTextSchema,
  MemoryTagSchema,
  MemoryTagsSchema,
  MemoryWriteFields,
} from "../kernel/memory/schemas.js";
import { AgentTypeNameSchema } from "../kernel/process/record.js";

export const MemoryWriteRequestSchema = z
  .strictObject(MemoryWriteFields)
  .meta({ id: "MemoryWriteRequest" });

const LimitQuery = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_MEMORY_RESULTS)
  .default(DEFAULT_MEMORY_RESULTS)
  .meta({ description: `Most results, 1 to ${MAX_MEMORY_RESULTS}` });

export const MemorySearchQuerySchema = z.object({
  q: MemoryQueryTextSchema,
  limit: LimitQuery,
  tag: MemoryTagSchema.optional().meta({ description: "Only memories with this tag" }),
});

export const TenantMemoryQuerySchema = z.object({
  q: MemoryQueryTextSchema.optional().meta({
    description: "Words to search for; without it, the newest memories",
  }),
  agentType: AgentTypeNameSchema.optional(),
  limit: LimitQuery,
});

export const MemoryProvenanceSchema = z
  .object({
    memoryId: z.string(),
    agentType: z.string(),
    processId: z.string().nullable(),
    step: z.number().int().nullable(),
    source: z.enum(["explicit", "process_end"]),
    createdAt: z.string(),
  })
  .meta({ id: "MemoryProvenance" });

export const MemorySchema = z
  .object({
    id: z.string().meta({ example: "mem_0193…" }),
    content: z.string(),
    tags: MemoryTagsSchema,
    provenance: MemoryProvenanceSchema,
  })
  .meta({ id: "Memory" });

export const MemoryHitSchema = MemorySchema.extend({
  snippet: z.string().meta({ description: "The matching part, terms marked with [ ]" }),
  score: z.number().meta({ description: "bm25 relevance, negated: higher is better" }),
}).meta({ id: "MemoryHit" });

export const MemoryHitListSchema = z
  .object({ items: z.array(MemoryHitSchema) })
  .meta({ id: "MemoryHitList" });

export const TenantMemoryListSchema = z
  .object({
    items: z.array(
      MemorySchema.extend({ snippet: z.string().optional(), score: z.number().optional() }),
    ),
  })
  .meta({ id: "TenantMemoryList" });
