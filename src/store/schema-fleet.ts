/**
 * The fleet's D1 tables: one-time enrollment tokens and the node registry. The live state of a
 * connection (sockets, last telemetry, commands in flight) is the tenant's Fleet Durable Object;
 * D1 mirrors a node's state only when it changes (online/offline, facts, labels, what runs),
 * never per heartbeat, so listing nodes stays a D1 query and the hot path stays in the object.
 */

import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const fleetEnrollmentTokens = sqliteTable(
  "fleet_enrollment_tokens",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** SHA-256 of the whole token, hex. The token itself is shown once and never stored. */
    tokenHash: text("token_hash").notNull().unique(),
    role: text("role", { enum: ["node", "verifier"] }).notNull(),
    /** JSON object: labels every node enrolled with this token carries (they win over the node's). */
    labelsJson: text("labels_json").notNull(),
    createdBy: text("created_by").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
    expiresAtMs: integer("expires_at_ms").notNull(),
    /** Set once, when a node enrolls with it: a second use is refused. */
    usedAtMs: integer("used_at_ms"),
    usedByNodeId: text("used_by_node_id"),
  },
  (t) => [index("fleet_enrollment_tokens_tenant_idx").on(t.tenantId, t.id)],
);

export const fleetNodes = sqliteTable(
  "fleet_nodes",
  {
    tenantId: text("tenant_id").notNull(),
    /** Unique within the tenant: chosen at enrollment or assigned. */
    id: text("id").notNull(),
    role: text("role", { enum: ["node", "verifier"] }).notNull(),
    /** JSON object: the node's own labels merged with its token's (the token's win). */
    labelsJson: text("labels_json").notNull(),
    /** JSON object: the labels its enrollment token pinned, re-applied over every hello. */
    tokenLabelsJson: text("token_labels_json").notNull(),
    /** JSON NodeFacts, as last reported (enrollment, then every hello). */
    factsJson: text("facts_json").notNull(),
    agentVersion: text("agent_version").notNull(),
    status: text("status", { enum: ["online", "offline"] }).notNull(),
    /** Last connect or disconnect (and a coarse refresh while connected), not every heartbeat. */
    lastSeenAtMs: integer("last_seen_at_ms"),
    /** JSON `{ assignmentId, policyId, version }` or null (the kernel's default scheduler). */
    runningJson: text("running_json"),
    /** Whether the node deploys in dry-run (reported in its hello). */
    dryRun: integer("dry_run", { mode: "boolean" }).notNull(),
    /** Identifies this enrollment's credential; a revocation names it. */
    credentialId: text("credential_id").notNull(),
    /** SHA-256 of the node credential, hex. The credential is shown once and never stored. */
    credentialHash: text("credential_hash").notNull().unique(),
    credentialPrefix: text("credential_prefix").notNull(),
    enrolledAtMs: integer("enrolled_at_ms").notNull(),
    enrollmentTokenId: text("enrollment_token_id").notNull(),
    revokedAtMs: integer("revoked_at_ms"),
    /**
     * Counts the Fleet object's writes of this row: a write carrying a smaller number than the
     * stored one is stale (it raced a newer one) and changes nothing.
     */
    stateVersion: integer("state_version").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index("fleet_nodes_tenant_status_idx").on(t.tenantId, t.status, t.id),
    index("fleet_nodes_tenant_role_idx").on(t.tenantId, t.role, t.id),
  ],
);
