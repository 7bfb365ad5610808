/**
 * Long-term memory in D1: one row per memory, per (tenant, agent type). The full-text index
 * over it (`memories_fts`, an external-content FTS5 table kept in sync by triggers) lives in a
 * custom migration, as drizzle cannot describe virtual tables.
 */

import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const memories = sqliteTable(
  "memories",
  {
    /**
     * The FTS5 rowid (an alias of SQLite's rowid, so it never changes under VACUUM as an
     * implicit rowid may): the full-text index refers to rows by it.
     */
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    /** `mem_` + UUIDv7: the id clients see. */
    id: text("id").notNull().unique(),
    tenantId: text("tenant_id").notNull(),
    /** The agent type's name (every version shares one memory). */
    agentType: text("agent_type").notNull(),
    /** The process that wrote it, or null when a tenant key wrote it without one. */
    processId: text("process_id"),
    /** The step of the writing process, when the agent loop wrote it. */
    step: integer("step"),
    source: text("source", { enum: ["explicit", "process_end"] }).notNull(),
    /** The text searched and returned. */
    content: text("content").notNull(),
    /** Tags, space-separated (each `[a-z0-9_.:-]`), indexed with the content. */
    tags: text("tags").notNull().default(""),
    /**
     * Makes a repeated write a no-op: `end:{processId}` for the process-end memory,
     * `tool:{processId}:{step}:{call}` for a tool call a crashed step runs again.
     */
    dedupeKey: text("dedupe_key"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    index("memories_tenant_type_idx").on(t.tenantId, t.agentType, t.seq),
    uniqueIndex("memories_dedupe_uq").on(t.tenantId, t.dedupeKey),
  ],
);
