/**
 * The scheduler-policy repository in D1: policies (built-ins with a null tenant, and each
 * tenant's own), their immutable versions (the BPF C source and compiled object live in R2 by
 * SHA-256), the circuit breaker's failures and quarantines per tenant, rollout history and
 * performance history. The full-text index over policies (`sched_policies_fts`, FTS5 over
 * name, description, algorithm and use cases, kept in sync by triggers) is in a custom
 * migration, as drizzle cannot describe virtual tables.
 */

import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

/**
 * What a version's row holds. There is no `submitted` state: the static checks run before
 * anything is stored, so a stored version starts `checked` (or the submission is refused).
 */
export const STORED_VERSION_STATUSES = [
  /** Static checks passed; waiting for a verifier node. */
  "checked",
  /** Sent to a verifier node. */
  "verifying",
  /** Compiled, loaded and exercised in the verifier's VM; the object is in R2. */
  "verified",
  /** Static checks or verification failed. */
  "rejected",
  /** Signed for deployment (until `signedExpiresAtMs`). */
  "signed",
] as const;

/**
 * A version's status as a tenant sees it: the stored one, or `quarantined` while the circuit
 * breaker holds it for that tenant (sched_policy_quarantines). Built-in versions are shared by
 * every tenant, so a quarantine is per tenant and not a property of the row.
 */
export const SCHED_VERSION_STATUSES = [...STORED_VERSION_STATUSES, "quarantined"] as const;
export type SchedVersionStatus = (typeof SCHED_VERSION_STATUSES)[number];

export const schedPolicies = sqliteTable(
  "sched_policies",
  {
    /** The FTS5 rowid (an alias of SQLite's rowid, stable under VACUUM). */
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    /** `spol_<name>` for built-ins, `spol_` + UUIDv7 for a tenant's. */
    id: text("id").notNull().unique(),
    /** Null for a built-in every tenant sees. */
    tenantId: text("tenant_id"),
    name: text("name").notNull(),
    description: text("description").notNull(),
    algorithm: text("algorithm").notNull(),
    /** JSON array of tags; indexed as text by FTS5 and matched exactly with json_each. */
    useCases: text("use_cases").notNull(),
    /** JSON: the newest version's tunables with their bounds. */
    tunablesJson: text("tunables_json").notNull(),
    limitations: text("limitations").notNull(),
    opsName: text("ops_name").notNull(),
    latestVersion: integer("latest_version").notNull(),
    createdBy: text("created_by").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("sched_policies_tenant_name_uq").on(t.tenantId, t.name),
    index("sched_policies_name_idx").on(t.name, t.id),
  ],
);

export const schedPolicyVersions = sqliteTable(
  "sched_policy_versions",
  {
    policyId: text("policy_id").notNull(),
    version: integer("version").notNull(),
    parentVersion: integer("parent_version"),
    status: text("status", { enum: STORED_VERSION_STATUSES }).notNull(),
    /** Why it is rejected, or other notes on the status. */
    statusReason: text("status_reason"),
    /** R2 `sched/src/{sha256}`. */
    sourceSha256: text("source_sha256").notNull(),
    sourceSizeBytes: integer("source_size_bytes").notNull(),
    /** JSON: default parameters of this version (tunable name → value). */
    parametersJson: text("parameters_json").notNull(),
    /** JSON: the tunables this version was checked against. */
    tunablesJson: text("tunables_json").notNull(),
    /** JSON: the static checks' diagnostics (warnings included). */
    diagnosticsJson: text("diagnostics_json").notNull(),
    /** JSON: the verifier node's VerifyResult, once verification ran. */
    verificationJson: text("verification_json"),
    /** R2 `sched/obj/{sha256}`, once verified. */
    objectSha256: text("object_sha256"),
    objectSizeBytes: integer("object_size_bytes"),
    /** Ed25519 signature (base64url) and the signing key's id, once signed. */
    signature: text("signature"),
    keyId: text("key_id"),
    signedAtMs: integer("signed_at_ms"),
    signedExpiresAtMs: integer("signed_expires_at_ms"),
    createdBy: text("created_by").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.policyId, t.version] }),
    index("sched_policy_versions_source_idx").on(t.policyId, t.sourceSha256),
  ],
);

/** A node a version failed on (the circuit breaker counts distinct nodes per tenant). */
export const schedPolicyFailures = sqliteTable(
  "sched_policy_failures",
  {
    tenantId: text("tenant_id").notNull(),
    policyId: text("policy_id").notNull(),
    version: integer("version").notNull(),
    nodeId: text("node_id").notNull(),
    rolloutId: text("rollout_id"),
    reason: text("reason").notNull(),
    atMs: integer("at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.policyId, t.version, t.nodeId] })],
);

/** A version the circuit breaker stopped for a tenant, until an operator clears it. */
export const schedPolicyQuarantines = sqliteTable(
  "sched_policy_quarantines",
  {
    tenantId: text("tenant_id").notNull(),
    policyId: text("policy_id").notNull(),
    version: integer("version").notNull(),
    reason: text("reason").notNull(),
    /** JSON array of node ids. */
    failedNodesJson: text("failed_nodes_json").notNull(),
    quarantinedAtMs: integer("quarantined_at_ms").notNull(),
    clearedAtMs: integer("cleared_at_ms"),
    clearedBy: text("cleared_by"),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.policyId, t.version] })],
);

/** Every transition of a rollout: the per-policy and per-node history. */
export const schedRolloutHistory = sqliteTable(
  "sched_rollout_history",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    policyId: text("policy_id").notNull(),
    version: integer("version").notNull(),
    rolloutId: text("rollout_id").notNull(),
    /** Null for a transition of the rollout's phase. */
    nodeId: text("node_id"),
    fromState: text("from_state").notNull(),
    toState: text("to_state").notNull(),
    reason: text("reason"),
    atMs: integer("at_ms").notNull(),
  },
  (t) => [
    index("sched_rollout_history_policy_idx").on(t.tenantId, t.policyId, t.atMs),
    index("sched_rollout_history_node_idx").on(t.tenantId, t.nodeId, t.atMs),
  ],
);

/** How a version did on a node or label group running a class of workload. */
export const schedPolicyPerformance = sqliteTable(
  "sched_policy_performance",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    policyId: text("policy_id").notNull(),
    version: integer("version").notNull(),
    targetKind: text("target_kind", { enum: ["node", "group"] }).notNull(),
    /** A node id, or a label selector such as `role=web`. */
    target: text("target").notNull(),
    workloadClass: text("workload_class").notNull(),
    /** JSON: metric name → value, before and after. */
    metricsBeforeJson: text("metrics_before_json").notNull(),
    metricsAfterJson: text("metrics_after_json").notNull(),
    outcome: text("outcome", {
      enum: ["improved", "neutral", "regressed", "rolled_back"],
    }).notNull(),
    rolloutId: text("rollout_id"),
    recordedAtMs: integer("recorded_at_ms").notNull(),
  },
  (t) => [index("sched_policy_performance_policy_idx").on(t.tenantId, t.policyId, t.recordedAtMs)],
);
