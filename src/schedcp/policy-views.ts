/**
 * The scheduler-policy calls' shared pieces: the plain JSON views of a policy and a version,
 * the tenancy lookup (`visiblePolicy`: another tenant's policy is 404, like a missing one),
 * path and cursor parsing, and the static checks' refusal. policy-reads.ts and
 * policy-writes.ts build on them; nothing here passes the gate.
 */

import { cursorKey, INVALID_CURSOR } from "../api/pagination.js";
import { ApiError, fieldError } from "../api/problem.js";
import type { SchedPolicyView, SchedVersionView } from "../api/schemas-sched.js";
import type { Db } from "../store/db.js";
import { activeQuarantines, type QuarantineRow } from "../store/sched-circuit-breaker.js";
import { getPolicy, type PolicyRow, type VersionRow } from "../store/sched-policies.js";
import type { SchedVersionStatus } from "../store/schema-schedcp.js";
import type { Tunable } from "./metadata.js";
import type { StaticCheckResult } from "./static-checks.js";

/** Epoch milliseconds as an ISO 8601 string, the views' time format. */
export const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A policy row as the API shows it, with its latest version's status.
 *
 * @example policyView(row, "checked")
 */
export function policyView(row: PolicyRow, latestStatus: SchedVersionStatus): SchedPolicyView {
  return {
    id: row.id,
    builtin: row.tenantId === null,
    name: row.name,
    description: row.description,
    algorithm: row.algorithm,
    useCases: JSON.parse(row.useCases) as string[],
    tunables: JSON.parse(row.tunablesJson) as Tunable[],
    limitations: row.limitations,
    opsName: row.opsName,
    latestVersion: row.latestVersion,
    latestStatus,
    createdAt: iso(row.createdAtMs),
    updatedAt: iso(row.updatedAtMs),
  };
}

/**
 * A version row as the API shows it; `quarantined` overrides its stored status.
 *
 * @example versionView(row, quarantined.has(row.version))
 */
export function versionView(row: VersionRow, quarantined: boolean): SchedVersionView {
  return {
    policyId: row.policyId,
    version: row.version,
    parentVersion: row.parentVersion,
    status: quarantined ? "quarantined" : row.status,
    statusReason: row.statusReason,
    sourceSha256: row.sourceSha256,
    sourceSizeBytes: row.sourceSizeBytes,
    objectSha256: row.objectSha256,
    parameters: JSON.parse(row.parametersJson) as Record<string, number | boolean>,
    signed:
      row.signature && row.keyId && row.signedAtMs !== null && row.signedExpiresAtMs !== null
        ? { keyId: row.keyId, signedAt: iso(row.signedAtMs), expiresAt: iso(row.signedExpiresAtMs) }
        : null,
    createdBy: row.createdBy,
    createdAt: iso(row.createdAtMs),
    updatedAt: iso(row.updatedAtMs),
  };
}

/** A policy the caller's tenant sees, or 404 (missing and foreign alike). */
export async function visiblePolicy(db: Db, tenantId: string, id: string): Promise<PolicyRow> {
  const row = /^spol_[A-Za-z0-9_-]{1,64}$/.test(id) ? await getPolicy(db, tenantId, id) : null;
  if (!row) throw new ApiError("not_found", `no policy ${id}`);
  return row;
}

/** A version number from the path, or 404. */
export function versionNumber(id: string, raw: string): number {
  const n = /^[1-9][0-9]{0,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n)) throw new ApiError("not_found", `no version ${raw} of ${id}`);
  return n;
}

/** The tenant's active quarantines of a policy's versions, by version number. */
export async function quarantinedVersions(
  db: Db,
  tenantId: string,
  policyId: string,
): Promise<Map<number, QuarantineRow>> {
  return new Map((await activeQuarantines(db, tenantId, policyId)).map((q) => [q.version, q]));
}

/** A JSON cursor of this API, or 422 at `cursor`. */
export function jsonCursor<T>(
  cursor: string | undefined,
  valid: (v: unknown) => v is T,
): T | undefined {
  const key = cursorKey(cursor);
  if (key === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(key);
  } catch {
    value = undefined;
  }
  if (!valid(value)) throw fieldError("cursor", INVALID_CURSOR, "invalid_cursor");
  return value;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null;

/** The static checks' refusal: 422 with every diagnostic, and each error as a field error. */
export function staticCheckFailure(checks: StaticCheckResult): ApiError {
  const errors = checks.diagnostics
    .filter((d) => d.severity === "error")
    .map((d) => ({
      path: d.path,
      message: d.line === null ? d.message : `${d.line}:${d.column}: ${d.message}`,
      code: d.code,
    }));
  const first = errors[0];
  return new ApiError(
    "static_check_failed",
    `the static checks found ${errors.length} error(s)${first ? `; first: ${first.path} ${first.message}` : ""}`,
    { errors, extra: { diagnostics: checks.diagnostics } },
  );
}
