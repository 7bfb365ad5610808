/**
 * Seeds the built-in scheduler policies from the catalog into the repository.
 *
 * Where it runs: on the first policy call in each isolate (`ensureBuiltinPolicies`, memoised),
 * not in a migration. A migration cannot put the C sources into R2 (where versions keep their
 * source), cannot run the static checks on them, and would carry kilobytes of C as SQL string
 * literals; seeding from code keeps the catalog the one place a built-in is written. It is
 * idempotent and race-free between isolates: policy rows are upserted by their fixed id
 * (`spol_<name>`) and only rewritten when the catalog's metadata changed; a version is added
 * only when no version of the policy has the catalog's source and tunables (a changed catalog
 * entry becomes the next version, its parent the previous one), inside one INSERT, so two
 * isolates seeding at once add it once. Each isolate pays one D1 batch per entry, once.
 */

import { sql } from "drizzle-orm";
import { BUILTIN_POLICIES } from "../schedcp/bpf/catalog.js";
import { type CatalogEntry, catalogMetadata, defaultParameters } from "../schedcp/metadata.js";
import { runStaticChecks } from "../schedcp/static-checks.js";
import type { Db } from "./db.js";
import { builtinPolicyId, d1Of, d1Statement, putPolicySource } from "./sched-policies.js";

/** Who wrote a built-in, as the rows record it. */
export const BUILTIN_AUTHOR = "system:catalog";

export interface SeedReport {
  policies: number;
  /** Versions this run added (0 when the repository already matched the catalog). */
  versionsAdded: number;
  /** Built-ins whose source failed the static checks (stored as `rejected`). */
  rejected: string[];
}

/**
 * Writes the catalog's policies and versions that the repository lacks.
 *
 * @example await seedBuiltinPolicies(db, env.BLOBS, BUILTIN_POLICIES, Date.now())
 */
export async function seedBuiltinPolicies(
  db: Db,
  blobs: R2Bucket,
  catalog: readonly CatalogEntry[],
  nowMs: number,
): Promise<SeedReport> {
  const report: SeedReport = { policies: catalog.length, versionsAdded: 0, rejected: [] };
  for (const entry of catalog) {
    const metadata = catalogMetadata(entry);
    const id = builtinPolicyId(metadata.name);
    const checks = runStaticChecks({
      source: entry.source,
      opsName: metadata.opsName,
      tunables: metadata.tunables,
      parameters: {},
    });
    if (!checks.ok) report.rejected.push(metadata.name);
    const { sha256, sizeBytes } = await putPolicySource(blobs, entry.source);
    const useCases = JSON.stringify(metadata.useCases);
    const tunables = JSON.stringify(metadata.tunables);
    const parameters = JSON.stringify(defaultParameters(metadata.tunables));
    const status = checks.ok ? "checked" : "rejected";
    const reason = checks.ok ? null : "the built-in's source failed the static checks";
    const [, added] = await d1Of(db).batch([
      d1Statement(
        db,
        sql`
        INSERT INTO sched_policies (id, tenant_id, name, description, algorithm, use_cases,
          tunables_json, limitations, ops_name, latest_version, created_by, created_at_ms, updated_at_ms)
        VALUES (${id}, NULL, ${metadata.name}, ${metadata.description}, ${metadata.algorithm},
          ${useCases}, ${tunables}, ${metadata.limitations}, ${metadata.opsName}, 0,
          ${BUILTIN_AUTHOR}, ${nowMs}, ${nowMs})
        ON CONFLICT(id) DO UPDATE SET description = excluded.description,
          algorithm = excluded.algorithm, use_cases = excluded.use_cases,
          tunables_json = excluded.tunables_json, limitations = excluded.limitations,
          ops_name = excluded.ops_name, updated_at_ms = excluded.updated_at_ms
        WHERE description IS NOT excluded.description OR algorithm IS NOT excluded.algorithm
          OR use_cases IS NOT excluded.use_cases OR tunables_json IS NOT excluded.tunables_json
          OR limitations IS NOT excluded.limitations OR ops_name IS NOT excluded.ops_name`,
      ),
      d1Statement(
        db,
        sql`
        INSERT INTO sched_policy_versions (policy_id, version, parent_version, status, status_reason,
          source_sha256, source_size_bytes, parameters_json, tunables_json, diagnostics_json,
          created_by, created_at_ms, updated_at_ms)
        SELECT ${id}, coalesce(max(version), 0) + 1, max(version), ${status}, ${reason}, ${sha256},
          ${sizeBytes}, ${parameters}, ${tunables}, ${JSON.stringify(checks.diagnostics)},
          ${BUILTIN_AUTHOR}, ${nowMs}, ${nowMs}
        FROM sched_policy_versions WHERE policy_id = ${id}
        HAVING NOT EXISTS (SELECT 1 FROM sched_policy_versions WHERE policy_id = ${id}
          AND source_sha256 = ${sha256} AND tunables_json = ${tunables})
        RETURNING version`,
      ),
      d1Statement(
        db,
        sql`
        UPDATE sched_policies
        SET latest_version = (SELECT max(version) FROM sched_policy_versions WHERE policy_id = ${id})
        WHERE id = ${id} AND latest_version IS NOT
          (SELECT max(version) FROM sched_policy_versions WHERE policy_id = ${id})`,
      ),
    ]);
    report.versionsAdded += added?.results.length ?? 0;
  }
  return report;
}

/** One seeding per isolate and catalog; a failed one is retried by the next call. */
const seeded = new WeakMap<readonly CatalogEntry[], Promise<void>>();

/**
 * Seeds the built-ins once per isolate; every policy call awaits it first (after the first
 * call, an already-settled promise).
 *
 * @example await ensureBuiltinPolicies(db, env.BLOBS)
 */
export function ensureBuiltinPolicies(
  db: Db,
  blobs: R2Bucket,
  catalog: readonly CatalogEntry[] = BUILTIN_POLICIES,
): Promise<void> {
  let pending = seeded.get(catalog);
  if (!pending) {
    pending = seedBuiltinPolicies(db, blobs, catalog, Date.now()).then(
      (report) => {
        if (report.rejected.length > 0) {
          console.error("built-in policies failed their static checks", report.rejected);
        }
      },
      (error: unknown) => {
        seeded.delete(catalog);
        throw error;
      },
    );
    seeded.set(catalog, pending);
  }
  return pending;
}
