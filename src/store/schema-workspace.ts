/**
 * D1 tables of the workspace: what each process's workspace holds (so a tenant's total can be
 * bounded across processes) and per-tenant overrides of the default limits. The bytes and the
 * path metadata live in each process's own Durable Object and in R2, not here.
 */

import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * One row per process that holds anything in its workspace. A tenant's use is the sum of its
 * rows, so a write is admitted by one conditional statement over that sum (atomic in D1's single
 * writer: two processes of one tenant cannot overshoot together).
 */
export const workspaceUsage = sqliteTable(
  "workspace_usage",
  {
    processId: text("process_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    bytes: integer("bytes").notNull().default(0),
    objects: integer("objects").notNull().default(0),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [index("workspace_usage_tenant_idx").on(t.tenantId)],
);

/** A tenant's workspace limits where they differ from the defaults (null: the default). */
export const workspaceLimits = sqliteTable("workspace_limits", {
  tenantId: text("tenant_id").primaryKey(),
  processMaxBytes: integer("process_max_bytes"),
  processMaxObjects: integer("process_max_objects"),
  tenantMaxBytes: integer("tenant_max_bytes"),
  tenantMaxObjects: integer("tenant_max_objects"),
});
