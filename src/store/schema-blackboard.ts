/**
 * The tenant-wide blackboard in D1: one row per key holding its current value and version, and
 * a bounded history of the writes that made each version. Versions only grow, across deletes
 * too (a delete leaves a tombstone), so a compare-and-set can never match a key that was
 * deleted and written again since the caller read it.
 */

import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const blackboardEntries = sqliteTable(
  "blackboard_entries",
  {
    tenantId: text("tenant_id").notNull(),
    key: text("key").notNull(),
    /** 1 for the first write; +1 for every write or delete after it. */
    version: integer("version").notNull(),
    /** The value as JSON text; null while the key is deleted (a tombstone). */
    valueJson: text("value_json"),
    sizeBytes: integer("size_bytes").notNull(),
    /** The process id or key actor that made this version. */
    updatedBy: text("updated_by").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
    /** Random id of the write that made this version: lets the history row copy it in-batch. */
    writeId: text("write_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] })],
);

export const blackboardVersions = sqliteTable(
  "blackboard_versions",
  {
    tenantId: text("tenant_id").notNull(),
    key: text("key").notNull(),
    version: integer("version").notNull(),
    /** Null for a delete. */
    valueJson: text("value_json"),
    op: text("op", { enum: ["put", "delete"] }).notNull(),
    writtenBy: text("written_by").notNull(),
    writtenAtMs: integer("written_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key, t.version] })],
);
