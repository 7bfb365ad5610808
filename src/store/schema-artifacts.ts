/**
 * Artifact metadata in D1; the bytes live in R2 at `art/{tenantId}/{artifactId}`. A row exists
 * only once its blob does (the blob is written first and removed again if the row fails).
 */

import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const artifacts = sqliteTable(
  "artifacts",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** The producing process, or null for an artifact a tenant key uploaded on its own. */
    processId: text("process_id"),
    name: text("name").notNull(),
    contentType: text("content_type").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    /** SHA-256 of the bytes, lowercase hex; also the download's ETag. */
    sha256: text("sha256").notNull(),
    /** `keep`: outlives its process; `with_process`: deleted when the process is purged. */
    retention: text("retention", { enum: ["keep", "with_process"] }).notNull(),
    createdBy: text("created_by").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    index("artifacts_tenant_idx").on(t.tenantId, t.id),
    index("artifacts_tenant_process_idx").on(t.tenantId, t.processId, t.id),
    index("artifacts_tenant_type_idx").on(t.tenantId, t.contentType, t.id),
  ],
);

export const artifactLabels = sqliteTable(
  "artifact_labels",
  {
    artifactId: text("artifact_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.artifactId, t.key] }),
    index("artifact_labels_lookup_idx").on(t.tenantId, t.key, t.value, t.artifactId),
  ],
);
