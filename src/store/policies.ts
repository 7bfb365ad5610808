/**
 * A tenant's Cedar policies in D1, one row per named policy. The caller validates the text
 * before `putPolicy`; this layer only stores it. A row's `version` starts at 1 and grows by one
 * on each replace, and ids are never reused, so the list of (id, version) pairs identifies the
 * tenant's policy set exactly: `policySetVersion` is what caches key on.
 */

import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "./db.js";
import { policies } from "./schema.js";

export interface StoredPolicy {
  id: string;
  tenantId: string;
  name: string;
  description: string;
  cedarText: string;
  version: number;
  createdAtMs: number;
  updatedAtMs: number;
}

/**
 * The tenant's policies, by name.
 *
 * @example await listPolicies(db, "ten_…") // [{ name: "no-nights", version: 2, … }]
 */
export async function listPolicies(db: Db, tenantId: string): Promise<StoredPolicy[]> {
  return db
    .select()
    .from(policies)
    .where(eq(policies.tenantId, tenantId))
    .orderBy(asc(policies.name));
}

/**
 * One policy by name, or undefined.
 *
 * @example await getPolicy(db, "ten_…", "no-nights")
 */
export async function getPolicy(
  db: Db,
  tenantId: string,
  name: string,
): Promise<StoredPolicy | undefined> {
  const rows = await db
    .select()
    .from(policies)
    .where(and(eq(policies.tenantId, tenantId), eq(policies.name, name)))
    .limit(1);
  return rows[0];
}

type RawRow = {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  cedar_text: string;
  version: number;
  created_at_ms: number;
  updated_at_ms: number;
};

export type PutOutcome =
  | { kind: "created"; policy: StoredPolicy }
  | { kind: "replaced"; policy: StoredPolicy }
  | { kind: "limit" };

/**
 * Creates the policy, or replaces the one of that name (bumping its version), in one
 * statement. A new name is refused (`limit`) when the tenant already holds `maxPerTenant`
 * policies; the count is checked inside the same statement, so concurrent writes cannot pass
 * the limit together.
 *
 * @example await putPolicy(db, { id: newId("policy"), tenantId, name: "no-nights", description: "", cedarText }, Date.now(), 100)
 *   // { kind: "created", policy: { version: 1, … } }
 */
export async function putPolicy(
  db: Db,
  policy: Pick<StoredPolicy, "id" | "tenantId" | "name" | "description" | "cedarText">,
  nowMs: number,
  maxPerTenant: number,
): Promise<PutOutcome> {
  const { id, tenantId, name, description, cedarText } = policy;
  // INSERT … SELECT … WHERE gives the insert a condition; the WHERE also keeps SQLite's parser
  // from reading ON CONFLICT as part of the SELECT.
  const rows = await db.all<RawRow>(sql`
    INSERT INTO policies (id, tenant_id, name, description, cedar_text, version, created_at_ms, updated_at_ms)
    SELECT ${id}, ${tenantId}, ${name}, ${description}, ${cedarText}, 1, ${nowMs}, ${nowMs}
    WHERE (SELECT count(*) FROM policies WHERE tenant_id = ${tenantId}) < ${maxPerTenant}
       OR EXISTS (SELECT 1 FROM policies WHERE tenant_id = ${tenantId} AND name = ${name})
    ON CONFLICT (tenant_id, name) DO UPDATE SET
      description = excluded.description,
      cedar_text = excluded.cedar_text,
      version = policies.version + 1,
      updated_at_ms = excluded.updated_at_ms
    RETURNING *`);
  const row = rows[0];
  if (!row) return { kind: "limit" };
  const stored: StoredPolicy = {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    description: row.description,
    cedarText: row.cedar_text,
    version: row.version,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
  return { kind: row.version === 1 ? "created" : "replaced", policy: stored };
}

/**
 * Deletes the policy; returns what was deleted, or undefined when there was none.
 *
 * @example await deletePolicy(db, "ten_…", "no-nights")
 */
export async function deletePolicy(
  db: Db,
  tenantId: string,
  name: string,
): Promise<StoredPolicy | undefined> {
  const rows = await db
    .delete(policies)
    .where(and(eq(policies.tenantId, tenantId), eq(policies.name, name)))
    .returning();
  return rows[0];
}

/**
 * The identity of the tenant's policy set as it is now: `""` for no policies. Reads ids and
 * versions only, never the texts, so it is cheap enough for every system call.
 *
 * @example await policySetVersion(db, "ten_…") // "pol_0193…:1,pol_0193…:3"
 */
export async function policySetVersion(db: Db, tenantId: string): Promise<string> {
  const rows = await db
    .select({ id: policies.id, version: policies.version })
    .from(policies)
    .where(eq(policies.tenantId, tenantId))
    .orderBy(asc(policies.id));
  return versionOf(rows);
}

/** The set identity of rows already loaded (the same string `policySetVersion` returns). */
export function versionOf(rows: ReadonlyArray<Pick<StoredPolicy, "id" | "version">>): string {
  return [...rows]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((r) => `${r.id}:${r.version}`)
    .join(",");
}
