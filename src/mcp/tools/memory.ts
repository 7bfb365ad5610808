/**
 * Memory tools: search and write a process's long-term memory (its agent type's, in your
 * tenant). Thin adapters over the functions the HTTPS routes call (src/objects/memory-calls.ts).
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { MemoryHitListSchema, MemorySchema } from "../../api/schemas-memory.js";
import { DEFAULT_MEMORY_RESULTS } from "../../kernel/memory/limits.js";
import {
  MemoryLimitSchema,
  MemoryQueryTextSchema,
  MemoryTagSchema,
  MemoryWriteFields,
} from "../../kernel/memory/schemas.js";
import { ProcessIdSchema } from "../../kernel/process/record.js";
import { searchMemoryAs, writeMemoryAs } from "../../objects/memory-calls.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";

const ProcessIdArg = ProcessIdSchema.meta({
  description: "The process whose agent type's memory to use, `proc_…`",
});

export const SearchMemoryInput = z.strictObject({
  id: ProcessIdArg,
  query: MemoryQueryTextSchema,
  limit: MemoryLimitSchema.default(DEFAULT_MEMORY_RESULTS),
  tag: MemoryTagSchema.optional(),
});
export const WriteMemoryInput = z.strictObject({ id: ProcessIdArg, ...MemoryWriteFields });

/**
 * Registers `search_memory` and `write_memory` on `server`.
 *
 * @example registerMemoryTools(server, ctx)
 */
export function registerMemoryTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "search_memory",
    {
      title: "Search long-term memory",
      description:
        "Full-text search of a process's agent type's long-term memory, best match first (bm25), each result with its provenance (which process wrote it, when, how). The query is plain words.",
      inputSchema: SearchMemoryInput,
      outputSchema: MemoryHitListSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "search_memory", args, async () => {
        const out = await searchMemoryAs(ctx.env, ctx.db, ctx.caller.principal, {
          id: args.id,
          q: args.query,
          limit: args.limit,
          tag: args.tag,
        });
        const best = out.items[0];
        return {
          structured: out,
          summary: `${out.items.length} memories matched${best ? `; best: ${best.id} "${best.snippet}"` : ""}.`,
        };
      }),
  );

  server.registerTool(
    "write_memory",
    {
      title: "Write a long-term memory",
      description:
        "Remember something for a process's agent type: later processes of that type can find it with search_memory.",
      inputSchema: WriteMemoryInput,
      outputSchema: MemorySchema.shape,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(ctx, "write_memory", args, async () => {
        const memory = await writeMemoryAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return {
          structured: memory,
          summary: `Wrote memory ${memory.id} for agent type ${memory.provenance.agentType}.`,
          detail: { memoryId: memory.id, agentType: memory.provenance.agentType },
        };
      }),
  );
}
