/**
 * The memory tools as they run in the calling process's object (the gate has allowed them):
 * `memory_write` is idempotent per (process, step, call), so a step repeated after a crash
 * writes its memory once; `memory_search` returns the best matches with their provenance.
 */

import { MEMORY_TOOL_CONTENT_CHARS } from "../../kernel/memory/limits.js";
import { openDb } from "../../store/db.js";
import { recall, remember } from "../memory-calls.js";
import { resultOf, type ToolHandlers } from "./types.js";

function cut(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

export const MEMORY_TOOL_HANDLERS: ToolHandlers<"memory_write" | "memory_search"> = {
  memory_write: async ({ h, record, call, stepNo, index }, args) => {
    const out = await remember(openDb(h.processEnv.DB), {
      tenantId: record.tenantId,
      agentType: record.type.name,
      processId: record.id,
      step: stepNo,
      source: "explicit",
      content: args.content,
      tags: [...new Set(args.tags)],
      dedupeKey: `tool:${record.id}:${stepNo}:${index}`,
    });
    if (!out.ok) return resultOf(call, { error: out.reason }, true);
    return resultOf(call, { memoryId: out.memory.id, created: out.created });
  },

  memory_search: async ({ h, record, call }, args) => {
    const out = await recall(openDb(h.processEnv.DB), {
      tenantId: record.tenantId,
      agentType: record.type.name,
      text: args.query,
      tag: args.tag,
      limit: args.limit,
    });
    if (!out.ok) {
      return resultOf(call, { error: "query: must contain at least one word" }, true);
    }
    return resultOf(call, {
      results: out.items.map((m) => ({
        ...m,
        content: cut(m.content, MEMORY_TOOL_CONTENT_CHARS),
      })),
    });
  },
};
