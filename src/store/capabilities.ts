/**
 * The capability registry: every tool a principal may call, with its argument schema and risk
 * level. Built-ins (scope `global`) ship in a migration; a tenant's external MCP servers add
 * theirs in the tenant's scope.
 */

import { and, eq, inArray } from "drizzle-orm";
import type { RiskLevel } from "../kernel/syscall/policy.js";
import type { Db } from "./db.js";
import { capabilities, entitlements } from "./schema.js";

export const GLOBAL_SCOPE = "global";

export interface Capability {
  id: string;
  scope: string;
  namespace: string;
  name: string;
  /** `namespace.name`: how processes, entitlements and policies refer to it. */
  fullName: string;
  version: string;
  description: string;
  inputSchema: Record<string, unknown>;
  risk: RiskLevel;
  provider: string;
  status: "active" | "deprecated";
}

type Row = typeof capabilities.$inferSelect;

function fromRow(row: Row): Capability {
  return {
    id: row.id,
    scope: row.scope,
    namespace: row.namespace,
    name: row.name,
    fullName: `${row.namespace}.${row.name}`,
    version: row.version,
    description: row.description,
    inputSchema: JSON.parse(row.inputSchemaJson) as Record<string, unknown>,
    risk: row.risk,
    provider: row.provider,
    status: row.status,
  };
}

/** Capabilities visible to a tenant (built-ins and its own), newest version of each name. */
export async function listCapabilities(db: Db, tenantId: string): Promise<Capability[]> {
  const rows = await db
    .select()
    .from(capabilities)
    .where(inArray(capabilities.scope, [GLOBAL_SCOPE, tenantId]));
  const byName = new Map<string, Capability>();
  for (const cap of rows.map(fromRow)) {
    const seen = byName.get(cap.fullName);
    if (!seen || seen.version < cap.version) byName.set(cap.fullName, cap);
  }
  return [...byName.values()].sort((a, b) => (a.fullName < b.fullName ? -1 : 1));
}

/** The capabilities with these full names that a tenant can see. */
export async function findCapabilities(
  db: Db,
  tenantId: string,
  fullNames: readonly string[],
): Promise<Map<string, Capability>> {
  const wanted = new Set(fullNames);
  const all = await listCapabilities(db, tenantId);
  return new Map(all.filter((c) => wanted.has(c.fullName)).map((c) => [c.fullName, c]));
}

/** Registers (or replaces, by scope/namespace/name/version) a batch of capabilities at once. */
export async function upsertCapabilities(
  db: Db,
  rows: Array<typeof capabilities.$inferInsert>,
): Promise<void> {
  if (rows.length === 0) return;
  const statements = rows.map((row) =>
    db
      .insert(capabilities)
      .values(row)
      .onConflictDoUpdate({
        target: [
          capabilities.scope,
          capabilities.namespace,
          capabilities.name,
          capabilities.version,
        ],
        set: {
          description: row.description,
          inputSchemaJson: row.inputSchemaJson,
          risk: row.risk,
          provider: row.provider,
          status: row.status,
        },
      }),
  );
  await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
}

export type EntitlementRow = typeof entitlements.$inferSelect;

/** A tenant's entitlements that apply to `agentType` (its own rows and the `*` rows). */
export async function entitlementsFor(
  db: Db,
  tenantId: string,
  agentType: string | null,
): Promise<EntitlementRow[]> {
  const types = agentType ? [agentType, "*"] : ["*"];
  return db
    .select()
    .from(entitlements)
    .where(and(eq(entitlements.tenantId, tenantId), inArray(entitlements.agentType, types)));
}

/** Every entitlement of a tenant. */
export async function listEntitlements(db: Db, tenantId: string): Promise<EntitlementRow[]> {
  return db.select().from(entitlements).where(eq(entitlements.tenantId, tenantId));
}

/** Adds an entitlement. */
export async function createEntitlement(db: Db, row: EntitlementRow): Promise<EntitlementRow> {
  await db.insert(entitlements).values(row);
  return row;
}

/** Removes an entitlement of a tenant; false when there was none. */
export async function deleteEntitlement(db: Db, tenantId: string, id: string): Promise<boolean> {
  const gone = await db
    .delete(entitlements)
    .where(and(eq(entitlements.tenantId, tenantId), eq(entitlements.id, id)))
    .returning();
  return gone.length > 0;
}
