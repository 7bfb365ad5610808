/**
 * The scheduler-policy repository: policies and their immutable versions in D1, sources and
 * compiled objects in R2 by SHA-256, and listing with full-text search (FTS5, ranked by bm25).
 * What happens to a version after it is written lives beside it: its verification and signing
 * (sched-verification.ts), the circuit breaker's failures and quarantines
 * (sched-circuit-breaker.ts), rollout and performance history (sched-history.ts).
 *
 * A write is ordered so no row names a missing blob: the source goes to R2 first
 * (content-addressed, so a retry or a second policy with the same text stores nothing new),
 * then the rows in one D1 batch. A version's number is taken inside its INSERT
 * (`max(version) + 1`), so two writers racing on one policy get two versions, never a clash.
 */

import { and, desc, eq, lt, type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { newUuidV7Hex } from "../kernel/ids.js";
import type { Diagnostic } from "../schedcp/diagnostics.js";
import type { PolicyMetadata, Tunable } from "../schedcp/metadata.js";
import type { Db } from "./db.js";
import { type SchedVersionStatus, schedPolicies, schedPolicyVersions } from "./schema.js";

export const SCHED_POLICY_LIMITS = {
  /** Policies one tenant may own (built-ins do not count). */
  maxPoliciesPerTenant: 200,
  /** Versions one policy may have. */
  maxVersionsPerPolicy: 1_000,
  /** Rows per multi-row insert: D1 binds at most 100 parameters per statement. */
  historyRowsPerInsert: 9,
} as const;

const dialect = new SQLiteAsyncDialect();

/**
 * A D1 statement from raw SQL or a drizzle query. drizzle's `batch` cannot take raw SQL, and
 * the INSERT … SELECT statements below are raw: batches here go to D1 directly.
 */
export function d1Statement(
  db: Db,
  query: SQL | { toSQL(): { sql: string; params: unknown[] } },
): D1PreparedStatement {
  const q = "toSQL" in query ? query.toSQL() : dialect.sqlToQuery(query);
  return d1Of(db)
    .prepare(q.sql)
    .bind(...q.params);
}

/** The D1 binding under a drizzle handle (drizzle keeps it as `$client`). */
export function d1Of(db: Db): D1Database {
  const client = (db as Db & { $client?: D1Database }).$client;
  if (!client) throw new Error("this Db handle carries no D1 client");
  return client;
}

export type PolicyRow = typeof schedPolicies.$inferSelect;
export type VersionRow = typeof schedPolicyVersions.$inferSelect;
export type StoredVersionStatus = VersionRow["status"];

/** A tenant's policy id: `spol_` + UUIDv7 (time-sortable, unguessable). */
export function newSchedPolicyId(nowMs: number = Date.now()): string {
  return `spol_${newUuidV7Hex(nowMs)}`;
}

/** A built-in's id: stable across deployments, so seeding is idempotent. */
export function builtinPolicyId(name: string): string {
  return `spol_${name}`;
}

// ---------------------------------------------------------------------------------------------
// Blobs

/** R2 key of a policy's C source. */
export function sourceKey(sha256: string): string {
  return `sched/src/${sha256}`;
}

/**
 * Stores a source in R2 under its SHA-256 (R2 checks the hash on upload).
 *
 * @example const { sha256, sizeBytes } = await putPolicySource(env.BLOBS, source)
 */
export async function putPolicySource(
  blobs: R2Bucket,
  source: string,
): Promise<{ sha256: string; sizeBytes: number }> {
  const bytes = new TextEncoder().encode(source);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const sha256 = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  await blobs.put(sourceKey(sha256), bytes, {
    sha256,
    httpMetadata: { contentType: "text/x-c; charset=utf-8" },
  });
  return { sha256, sizeBytes: bytes.byteLength };
}

/** A stored source's text, or null when R2 has no such object. */
export async function readPolicySource(blobs: R2Bucket, sha256: string): Promise<string | null> {
  const object = await blobs.get(sourceKey(sha256));
  return object ? object.text() : null;
}

// ---------------------------------------------------------------------------------------------
// Policies and versions

export interface NewVersionFields {
  sourceSha256: string;
  sourceSizeBytes: number;
  parameters: Record<string, number | boolean>;
  tunables: readonly Tunable[];
  diagnostics: readonly Diagnostic[];
  status: StoredVersionStatus;
  statusReason: string | null;
  createdBy: string;
}

function versionValues(policyId: string, fields: NewVersionFields, nowMs: number) {
  return {
    policyId,
    status: fields.status,
    statusReason: fields.statusReason,
    sourceSha256: fields.sourceSha256,
    sourceSizeBytes: fields.sourceSizeBytes,
    parametersJson: JSON.stringify(fields.parameters),
    tunablesJson: JSON.stringify(fields.tunables),
    diagnosticsJson: JSON.stringify(fields.diagnostics),
    createdBy: fields.createdBy,
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  };
}

/** The INSERT of a policy's next version (number taken from the table in the same statement). */
function insertNextVersion(
  policyId: string,
  parentVersion: number | "latest" | null,
  fields: NewVersionFields,
  nowMs: number,
  onlyIf: SQL = sql`1`,
): SQL {
  const v = versionValues(policyId, fields, nowMs);
  const parent = parentVersion === "latest" ? sql`max(version)` : sql`${parentVersion}`;
  return sql`
    INSERT INTO sched_policy_versions (policy_id, version, parent_version, status, status_reason,
      source_sha256, source_size_bytes, parameters_json, tunables_json, diagnostics_json,
      created_by, created_at_ms, updated_at_ms)
    SELECT ${v.policyId}, coalesce(max(version), 0) + 1, ${parent}, ${v.status}, ${v.statusReason},
      ${v.sourceSha256}, ${v.sourceSizeBytes}, ${v.parametersJson}, ${v.tunablesJson},
      ${v.diagnosticsJson}, ${v.createdBy}, ${v.createdAtMs}, ${v.updatedAtMs}
    FROM sched_policy_versions WHERE policy_id = ${policyId}
    HAVING ${onlyIf}
    RETURNING version`;
}

/** Points a policy at its newest version. */
function touchLatest(policyId: string, nowMs: number): SQL {
  return sql`
    UPDATE sched_policies
    SET latest_version = (SELECT max(version) FROM sched_policy_versions WHERE policy_id = ${policyId}),
        updated_at_ms = ${nowMs}
    WHERE id = ${policyId}`;
}

export type CreatePolicyOutcome =
  | { ok: true; policy: PolicyRow; version: VersionRow }
  | { ok: false; code: "name_taken" | "limit_reached"; limit?: number };

/**
 * Creates a tenant's policy with its version 1. The name must be free among the tenant's
 * policies and the built-ins.
 *
 * @example await createPolicy(db, { id: newSchedPolicyId(), tenantId, metadata, version: fields }, Date.now())
 */
export async function createPolicy(
  db: Db,
  input: { id: string; tenantId: string; metadata: PolicyMetadata; version: NewVersionFields },
  nowMs: number,
): Promise<CreatePolicyOutcome> {
  const { id, tenantId, metadata } = input;
  const taken = await db
    .select({ id: schedPolicies.id })
    .from(schedPolicies)
    .where(
      sql`${schedPolicies.name} = ${metadata.name} AND (${schedPolicies.tenantId} IS NULL OR ${schedPolicies.tenantId} = ${tenantId})`,
    )
    .limit(1);
  if (taken.length > 0) return { ok: false, code: "name_taken" };
  const owned = await db
    .select({ n: sql<number>`count(*)` })
    .from(schedPolicies)
    .where(eq(schedPolicies.tenantId, tenantId));
  // A soft cap: two racing creates may overshoot it by one each.
  if ((owned[0]?.n ?? 0) >= SCHED_POLICY_LIMITS.maxPoliciesPerTenant) {
    return { ok: false, code: "limit_reached", limit: SCHED_POLICY_LIMITS.maxPoliciesPerTenant };
  }
  const [inserted] = await d1Of(db).batch([
    d1Statement(
      db,
      db
        .insert(schedPolicies)
        .values({
          id,
          tenantId,
          name: metadata.name,
          description: metadata.description,
          algorithm: metadata.algorithm,
          useCases: JSON.stringify(metadata.useCases),
          tunablesJson: JSON.stringify(metadata.tunables),
          limitations: metadata.limitations,
          opsName: metadata.opsName,
          latestVersion: 1,
          createdBy: input.version.createdBy,
          createdAtMs: nowMs,
          updatedAtMs: nowMs,
        })
        .onConflictDoNothing()
        .returning({ id: schedPolicies.id }),
    ),
    // Only when the policy row above was written (a lost name race writes neither).
    d1Statement(
      db,
      insertNextVersion(
        id,
        null,
        input.version,
        nowMs,
        sql`EXISTS (SELECT 1 FROM sched_policies WHERE id = ${id})`,
      ),
    ),
  ]);
  if ((inserted?.results.length ?? 0) === 0) return { ok: false, code: "name_taken" };
  const policy = await getPolicy(db, tenantId, id);
  if (!policy) throw new Error(`policy ${id} vanished after its insert`);
  const version = await getVersion(db, id, 1);
  if (!version) throw new Error(`policy ${id} was written without its version 1`);
  return { ok: true, policy, version };
}

export type CreateVersionOutcome =
  | { ok: true; version: VersionRow }
  | { ok: false; code: "limit_reached"; limit: number };

/**
 * Adds the next version of a policy, with `parentVersion` as its parent, and refreshes the
 * policy's metadata (a new version may change its description, tunables, …).
 *
 * @example await createVersion(db, { policyId, parentVersion: 2, metadata, version: fields }, Date.now())
 */
export async function createVersion(
  db: Db,
  input: {
    policyId: string;
    parentVersion: number;
    metadata: Omit<PolicyMetadata, "name" | "opsName">;
    version: NewVersionFields;
  },
  nowMs: number,
): Promise<CreateVersionOutcome> {
  const { policyId, metadata } = input;
  const limit = SCHED_POLICY_LIMITS.maxVersionsPerPolicy;
  const [inserted] = await d1Of(db).batch([
    d1Statement(
      db,
      insertNextVersion(
        policyId,
        input.parentVersion,
        input.version,
        nowMs,
        sql`count(*) < ${limit}`,
      ),
    ),
    d1Statement(
      db,
      db
        .update(schedPolicies)
        .set({
          description: metadata.description,
          algorithm: metadata.algorithm,
          useCases: JSON.stringify(metadata.useCases),
          tunablesJson: JSON.stringify(metadata.tunables),
          limitations: metadata.limitations,
        })
        // Only when the insert above wrote a version (a full policy writes none).
        .where(
          sql`${schedPolicies.id} = ${policyId} AND ${schedPolicies.latestVersion} <
            (SELECT max(version) FROM sched_policy_versions WHERE policy_id = ${policyId})`,
        ),
    ),
    d1Statement(db, touchLatest(policyId, nowMs)),
  ]);
  const number = (inserted?.results as Array<{ version: number }> | undefined)?.[0]?.version;
  if (number === undefined) return { ok: false, code: "limit_reached", limit };
  const version = await getVersion(db, policyId, number);
  if (!version) throw new Error(`version ${number} of ${policyId} vanished after its insert`);
  return { ok: true, version };
}

/** A policy the tenant may see (a built-in or its own), or null. */
export async function getPolicy(db: Db, tenantId: string, id: string): Promise<PolicyRow | null> {
  const rows = await db
    .select()
    .from(schedPolicies)
    .where(
      sql`${schedPolicies.id} = ${id} AND (${schedPolicies.tenantId} IS NULL OR ${schedPolicies.tenantId} = ${tenantId})`,
    )
    .limit(1);
  return rows[0] ?? null;
}

export async function getVersion(
  db: Db,
  policyId: string,
  version: number,
): Promise<VersionRow | null> {
  const rows = await db
    .select()
    .from(schedPolicyVersions)
    .where(
      and(eq(schedPolicyVersions.policyId, policyId), eq(schedPolicyVersions.version, version)),
    )
    .limit(1);
  return rows[0] ?? null;
}

/** A policy's versions, newest first, before `beforeVersion` when given. */
export async function listVersions(
  db: Db,
  policyId: string,
  q: { limit: number; beforeVersion?: number | undefined },
): Promise<VersionRow[]> {
  const where = [eq(schedPolicyVersions.policyId, policyId)];
  if (q.beforeVersion !== undefined) where.push(lt(schedPolicyVersions.version, q.beforeVersion));
  return db
    .select()
    .from(schedPolicyVersions)
    .where(and(...where))
    .orderBy(desc(schedPolicyVersions.version))
    .limit(q.limit);
}

/** Where a listing continues: after this rank (search) or this name (browse), then id. */
export type PolicyListAfter = { rank: number; id: string } | { name: string; id: string };

export interface PolicyListQuery {
  tenantId: string;
  /** A sanitised FTS5 expression (src/kernel/memory/fts-query.ts), never raw user text. */
  ftsQuery?: string | undefined;
  /** Only policies with this use case. */
  tag?: string | undefined;
  /** Only policies with at least one of these use cases (a workload class's tags). */
  anyTag?: readonly string[] | undefined;
  limit: number;
  after?: PolicyListAfter | undefined;
}

export interface ListedPolicy {
  row: PolicyRow;
  /** bm25 of the match (lower is better); null without a query. */
  rank: number | null;
  /** The latest version's status as this tenant sees it. */
  latestStatus: SchedVersionStatus;
}

type RawPolicy = {
  seq: number;
  id: string;
  tenant_id: string | null;
  name: string;
  description: string;
  algorithm: string;
  use_cases: string;
  tunables_json: string;
  limitations: string;
  ops_name: string;
  latest_version: number;
  created_by: string;
  created_at_ms: number;
  updated_at_ms: number;
  rank: number | null;
  latest_status: StoredVersionStatus;
  quarantined: number;
};

function fromRaw(r: RawPolicy): ListedPolicy {
  return {
    row: {
      seq: r.seq,
      id: r.id,
      tenantId: r.tenant_id,
      name: r.name,
      description: r.description,
      algorithm: r.algorithm,
      useCases: r.use_cases,
      tunablesJson: r.tunables_json,
      limitations: r.limitations,
      opsName: r.ops_name,
      latestVersion: r.latest_version,
      createdBy: r.created_by,
      createdAtMs: r.created_at_ms,
      updatedAtMs: r.updated_at_ms,
    },
    rank: r.rank,
    latestStatus: r.quarantined ? "quarantined" : r.latest_status,
  };
}

/**
 * The built-ins and the tenant's own policies: by relevance (bm25) when `ftsQuery` is given,
 * else by name; filtered by tag and workload tags.
 *
 * @example await listPolicies(db, { tenantId, ftsQuery: '"latency"', limit: 20 })
 */
export async function listPolicies(db: Db, q: PolicyListQuery): Promise<ListedPolicy[]> {
  const filters = [sql`(p.tenant_id IS NULL OR p.tenant_id = ${q.tenantId})`];
  if (q.tag !== undefined) {
    filters.push(sql`EXISTS (SELECT 1 FROM json_each(p.use_cases) WHERE value = ${q.tag})`);
  }
  if (q.anyTag !== undefined && q.anyTag.length > 0) {
    const tags = sql.join(
      q.anyTag.map((t) => sql`${t}`),
      sql`, `,
    );
    filters.push(sql`EXISTS (SELECT 1 FROM json_each(p.use_cases) WHERE value IN (${tags}))`);
  }
  const where = sql.join(filters, sql` AND `);
  const columns = sql`p.seq, p.id, p.tenant_id, p.name, p.description, p.algorithm, p.use_cases,
    p.tunables_json, p.limitations, p.ops_name, p.latest_version, p.created_by, p.created_at_ms,
    p.updated_at_ms, v.status AS latest_status,
    EXISTS (SELECT 1 FROM sched_policy_quarantines qr WHERE qr.tenant_id = ${q.tenantId}
      AND qr.policy_id = p.id AND qr.version = p.latest_version AND qr.cleared_at_ms IS NULL) AS quarantined`;
  const latest = sql`LEFT JOIN sched_policy_versions v ON v.policy_id = p.id AND v.version = p.latest_version`;
  if (q.ftsQuery !== undefined) {
    const after =
      q.after && "rank" in q.after
        ? sql`WHERE rank > ${q.after.rank} OR (rank = ${q.after.rank} AND id > ${q.after.id})`
        : sql``;
    const rows = await db.all<RawPolicy>(sql`
      SELECT * FROM (
        SELECT ${columns}, bm25(sched_policies_fts) AS rank
        FROM sched_policies_fts JOIN sched_policies p ON p.seq = sched_policies_fts.rowid ${latest}
        WHERE sched_policies_fts MATCH ${q.ftsQuery} AND ${where}
      ) ${after}
      ORDER BY rank, id
      LIMIT ${q.limit}`);
    return rows.map(fromRaw);
  }
  const after =
    q.after && "name" in q.after
      ? sql` AND (p.name > ${q.after.name} OR (p.name = ${q.after.name} AND p.id > ${q.after.id}))`
      : sql``;
  const rows = await db.all<RawPolicy>(sql`
    SELECT ${columns}, NULL AS rank
    FROM sched_policies p ${latest}
    WHERE ${where}${after}
    ORDER BY p.name, p.id
    LIMIT ${q.limit}`);
  return rows.map(fromRaw);
}
