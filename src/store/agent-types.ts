/**
 * The agent-type registry. Built-in types (scope `global`) are seeded by a migration and seen
 * by every tenant; a tenant registers its own types in its own scope. Versions are immutable:
 * a change is a new version.
 */

import { and, eq, inArray } from "drizzle-orm";
import type { Budget } from "../kernel/process/record.js";
import { compareSemver } from "../kernel/semver.js";
import type { Db } from "./db.js";
import { agentTypes } from "./schema.js";

export const GLOBAL_SCOPE = "global";

export interface AgentType {
  id: string;
  scope: string;
  name: string;
  version: string;
  description: string;
  model: string;
  systemPrompt: string;
  defaultBudget: Budget;
  capabilities: string[];
  /** Assistant turns for the `scripted` model, when the type gives them. */
  script: unknown[] | null;
  /** The scheduler pool, or null for the pool named after the model. */
  pool: string | null;
  status: "active" | "deprecated";
  createdAtMs: number;
}

type Row = typeof agentTypes.$inferSelect;

function fromRow(row: Row): AgentType {
  return {
    id: row.id,
    scope: row.scope,
    name: row.name,
    version: row.version,
    description: row.description,
    model: row.model,
    systemPrompt: row.systemPrompt,
    defaultBudget: JSON.parse(row.defaultBudgetJson) as Budget,
    capabilities: JSON.parse(row.capabilitiesJson) as string[],
    script: row.scriptJson ? (JSON.parse(row.scriptJson) as unknown[]) : null,
    pool: row.pool,
    status: row.status,
    createdAtMs: row.createdAtMs,
  };
}

/** Every type version visible to a tenant: the built-ins and its own. */
export async function listAgentTypes(
  db: Db,
  tenantId: string | null,
  name?: string,
): Promise<AgentType[]> {
  const scopes = tenantId ? [GLOBAL_SCOPE, tenantId] : [GLOBAL_SCOPE];
  const where = [inArray(agentTypes.scope, scopes)];
  if (name) where.push(eq(agentTypes.name, name));
  const rows = await db
    .select()
    .from(agentTypes)
    .where(and(...where));
  return rows
    .map(fromRow)
    .sort((a, b) =>
      a.name === b.name ? -compareSemver(a.version, b.version) : a.name < b.name ? -1 : 1,
    );
}

/**
 * The version a spawn should use: the pinned one, or else the newest active one.
 *
 * @example await resolveAgentType(db, tenantId, "assistant") // newest active assistant
 */
export async function resolveAgentType(
  db: Db,
  tenantId: string,
  name: string,
  pinnedVersion?: string,
): Promise<AgentType | undefined> {
  const versions = await listAgentTypes(db, tenantId, name);
  if (pinnedVersion) return versions.find((t) => t.version === pinnedVersion);
  return versions.find((t) => t.status === "active");
}

/** Whether a type of this name exists in another scope than `scope` (names are not shadowed). */
export async function nameTakenElsewhere(db: Db, name: string, scope: string): Promise<boolean> {
  const rows = await db
    .select({ scope: agentTypes.scope })
    .from(agentTypes)
    .where(eq(agentTypes.name, name));
  return rows.some((r) => r.scope !== scope);
}

/** Inserts a version; returns null when that name and version already exist in the scope. */
export async function createAgentType(db: Db, type: AgentType): Promise<AgentType | null> {
  const inserted = await db
    .insert(agentTypes)
    .values({
      id: type.id,
      scope: type.scope,
      name: type.name,
      version: type.version,
      description: type.description,
      model: type.model,
      systemPrompt: type.systemPrompt,
      defaultBudgetJson: JSON.stringify(type.defaultBudget),
      capabilitiesJson: JSON.stringify(type.capabilities),
      scriptJson: type.script ? JSON.stringify(type.script) : null,
      pool: type.pool,
      status: type.status,
      createdAtMs: type.createdAtMs,
    })
    .onConflictDoNothing()
    .returning();
  return inserted[0] ? fromRow(inserted[0]) : null;
}
