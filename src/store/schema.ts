/**
 * The D1 schema, as code. `npm run db:generate` turns changes here into a new SQL file under
 * `migrations/`; wrangler applies those files in order. D1 holds indexes and shared tables:
 * the authority for one process is its own Durable Object.
 */

import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  status: text("status", { enum: ["active", "suspended"] })
    .notNull()
    .default("active"),
  createdAtMs: integer("created_at_ms").notNull(),
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    role: text("role", { enum: ["admin", "operator", "reader"] }).notNull(),
    /** Set for an agent key: the key acts as this one process and nothing else. */
    processId: text("process_id"),
    /** The first characters of the secret, shown in listings so a key can be recognised. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole secret, hex. The secret itself is never stored. */
    secretHash: text("secret_hash").notNull().unique(),
    createdBy: text("created_by").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
    expiresAtMs: integer("expires_at_ms"),
    revokedAtMs: integer("revoked_at_ms"),
  },
  (t) => [index("api_keys_tenant_idx").on(t.tenantId, t.id)],
);

export const agentTypes = sqliteTable(
  "agent_types",
  {
    id: text("id").primaryKey(),
    /** `global` for built-in types every tenant sees, otherwise the owning tenant's id. */
    scope: text("scope").notNull(),
    name: text("name").notNull(),
    version: text("version").notNull(),
    description: text("description").notNull(),
    model: text("model").notNull(),
    systemPrompt: text("system_prompt").notNull(),
    /** JSON: `{ maxTokens, maxToolCalls, wallClockMs, maxCostMicroUsd }`. */
    defaultBudgetJson: text("default_budget_json").notNull(),
    /** JSON array of capability names. */
    capabilitiesJson: text("capabilities_json").notNull(),
    /** JSON array of assistant turns, for types that run the `scripted` model. */
    scriptJson: text("script_json"),
    /** The scheduler pool its processes run in; null means the pool named after the model. */
    pool: text("pool"),
    status: text("status", { enum: ["active", "deprecated"] }).notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("agent_types_scope_name_version_uq").on(t.scope, t.name, t.version),
    index("agent_types_name_idx").on(t.name),
  ],
);

export const processIndex = sqliteTable(
  "process_index",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    typeName: text("type_name").notNull(),
    typeVersion: text("type_version").notNull(),
    status: text("status").notNull(),
    priority: integer("priority").notNull(),
    parentId: text("parent_id"),
    createdAtMs: integer("created_at_ms").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
    /** The record version this row mirrors; older writes never overwrite newer ones. */
    version: integer("version").notNull(),
  },
  (t) => [
    index("process_index_tenant_idx").on(t.tenantId, t.id),
    index("process_index_tenant_status_idx").on(t.tenantId, t.status, t.id),
    index("process_index_tenant_type_idx").on(t.tenantId, t.typeName, t.id),
  ],
);

export const processLabels = sqliteTable(
  "process_labels",
  {
    processId: text("process_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    key: text("key").notNull(),
    value: text("value").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.processId, t.key] }),
    index("process_labels_lookup_idx").on(t.tenantId, t.key, t.value, t.processId),
  ],
);

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    tenantId: text("tenant_id").notNull(),
    /** Which operation the key belongs to, e.g. `process.spawn`. */
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    /** SHA-256 of the canonical request body: a key reused with another body is refused. */
    requestHash: text("request_hash").notNull(),
    resourceId: text("resource_id").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.scope, t.key] })],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    atMs: integer("at_ms").notNull(),
    /** Null for system-administrator actions that belong to no tenant. */
    tenantId: text("tenant_id"),
    actor: text("actor").notNull(),
    actorRole: text("actor_role").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    decision: text("decision", { enum: ["allow", "deny", "error"] }).notNull(),
    status: integer("status").notNull(),
    requestId: text("request_id").notNull(),
    detailJson: text("detail_json"),
  },
  (t) => [
    index("audit_tenant_at_idx").on(t.tenantId, t.atMs),
    index("audit_actor_idx").on(t.actor, t.atMs),
    index("audit_action_idx").on(t.action, t.atMs),
  ],
);

/** Model pools known to the deployment: one Scheduler Durable Object each. */
export const schedulerPools = sqliteTable("scheduler_pools", {
  name: text("name").primaryKey(),
  configJson: text("config_json").notNull(),
  updatedAtMs: integer("updated_at_ms").notNull(),
});

/**
 * Capabilities: the tools a principal may call, each with a risk level the policy engine reads.
 * Built-ins live in scope `global`; a tenant's own (e.g. an external MCP server's tools) in its id.
 */
export const capabilities = sqliteTable(
  "capabilities",
  {
    id: text("id").primaryKey(),
    scope: text("scope").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    version: text("version").notNull(),
    description: text("description").notNull(),
    /** JSON Schema of the arguments. */
    inputSchemaJson: text("input_schema_json").notNull(),
    risk: text("risk", { enum: ["low", "medium", "high", "critical"] }).notNull(),
    /** `builtin`, or the id of the external MCP server that provides it. */
    provider: text("provider").notNull(),
    status: text("status", { enum: ["active", "deprecated"] }).notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    uniqueIndex("capabilities_scope_ns_name_version_uq").on(
      t.scope,
      t.namespace,
      t.name,
      t.version,
    ),
  ],
);

/** What a tenant's agent types (or `*`) may call, with the limits that apply. */
export const entitlements = sqliteTable(
  "entitlements",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** An agent type name, or `*` for every type and for API keys acting directly. */
    agentType: text("agent_type").notNull(),
    /** A capability's full name (`namespace.name`) or a namespace wildcard (`namespace.*`). */
    capability: text("capability").notNull(),
    callsPerMin: integer("calls_per_min"),
    budgetTokens: integer("budget_tokens"),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [index("entitlements_lookup_idx").on(t.tenantId, t.agentType)],
);

/** External MCP servers registered by a tenant as capability providers. */
export const mcpProviders = sqliteTable(
  "mcp_providers",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    namespace: text("namespace").notNull(),
    url: text("url").notNull(),
    status: text("status", { enum: ["active", "unreachable"] }).notNull(),
    toolsJson: text("tools_json").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
    refreshedAtMs: integer("refreshed_at_ms").notNull(),
  },
  (t) => [uniqueIndex("mcp_providers_tenant_ns_uq").on(t.tenantId, t.namespace)],
);

/** A tenant's Cedar policies, validated against the schema before they are stored. */
export const policies = sqliteTable(
  "policies",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull(),
    cedarText: text("cedar_text").notNull(),
    version: integer("version").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
    updatedAtMs: integer("updated_at_ms").notNull(),
  },
  (t) => [uniqueIndex("policies_tenant_name_uq").on(t.tenantId, t.name)],
);

/** The human gate: calls parked until a person approves or denies them, or they expire. */
export const approvals = sqliteTable(
  "approvals",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** The process whose system call waits, or null for a call made directly by a key. */
    processId: text("process_id"),
    principal: text("principal").notNull(),
    capability: text("capability").notNull(),
    argumentsJson: text("arguments_json").notNull(),
    risk: text("risk").notNull(),
    status: text("status", { enum: ["pending", "approved", "denied", "expired"] }).notNull(),
    /** Ids of the policies that asked for approval. */
    policyIdsJson: text("policy_ids_json").notNull(),
    reason: text("reason"),
    decidedBy: text("decided_by"),
    createdAtMs: integer("created_at_ms").notNull(),
    expiresAtMs: integer("expires_at_ms").notNull(),
    decidedAtMs: integer("decided_at_ms"),
  },
  (t) => [
    index("approvals_tenant_status_idx").on(t.tenantId, t.status, t.id),
    index("approvals_process_idx").on(t.processId),
  ],
);
export * from "./schema-artifacts.js";
export * from "./schema-blackboard.js";
export * from "./schema-bus.js";
export * from "./schema-fleet.js";
export * from "./schema-memory.js";
export * from "./schema-schedcp.js";
export * from "./schema-workspace.js";
