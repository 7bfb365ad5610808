/**
 * The scheduler-policy repository as calls: `(env, db, caller, input)` functions the HTTPS
 * routes call (and the MCP tools will), so the surfaces cannot drift. Each authorises the
 * caller (readers read; operators and admins write), scopes to its tenant (another tenant's
 * policy is 404, like a missing one), seeds the built-ins on first use in the isolate, and
 * returns plain JSON views. An adapter: the logic is in the pure modules beside it.
 *
 * What this does not do yet: send a checked version to a verifier node, sign it, roll it out.
 * A new version stays `checked` until the fleet's verifier path (src/objects, branch `fleet`)
 * picks it up through `setVersionStatus` / `recordVerification` / `markSigned`.
 */

import { READ_ROLES, requireTenantKey, WRITE_ROLES } from "../api/authorize.js";
import { cursorKey, INVALID_CURSOR, pageOf } from "../api/pagination.js";
import { ApiError, fieldError } from "../api/problem.js";
import type {
  PolicyCreateRequest,
  SchedPolicyView,
  SchedVersionDetailView,
  SchedVersionView,
  VersionCreateRequest,
} from "../api/schemas-sched.js";
import type { Env } from "../env.js";
import { toFtsQuery } from "../kernel/memory/fts-query.js";
import type { Caller } from "../objects/process-calls.js";
import type { Db } from "../store/db.js";
import { ensureBuiltinPolicies } from "../store/sched-builtins.js";
import {
  activeQuarantines,
  clearQuarantine,
  createPolicy,
  createVersion,
  getPolicy,
  getVersion,
  type HistoryItem,
  listOutcomes,
  listPolicies,
  listPolicyHistory,
  listVersions,
  newSchedPolicyId,
  type PolicyListAfter,
  type PolicyRow,
  putPolicySource,
  type QuarantineRow,
  readPolicySource,
  type VersionRow,
} from "../store/sched-policies.js";
import type { SchedVersionStatus } from "../store/schema-schedcp.js";
import type { Diagnostic } from "./diagnostics.js";
import { type Tunable, TunablesSchema } from "./metadata.js";
import type { NodeFacts } from "./protocol/telemetry.js";
import { type RecommendationResult, recommendPolicies } from "./recommend.js";
import { runStaticChecks, type StaticCheckResult } from "./static-checks.js";
import { CLASS_TAGS, type WorkloadClass } from "./workload.js";

const iso = (ms: number) => new Date(ms).toISOString();

function policyView(row: PolicyRow, latestStatus: SchedVersionStatus): SchedPolicyView {
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

function versionView(row: VersionRow, quarantined: boolean): SchedVersionView {
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
async function visiblePolicy(db: Db, tenantId: string, id: string): Promise<PolicyRow> {
  const row = /^spol_[A-Za-z0-9_-]{1,64}$/.test(id) ? await getPolicy(db, tenantId, id) : null;
  if (!row) throw new ApiError("not_found", `no policy ${id}`);
  return row;
}

/** A version number from the path, or 404. */
function versionNumber(id: string, raw: string): number {
  const n = /^[1-9][0-9]{0,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n)) throw new ApiError("not_found", `no version ${raw} of ${id}`);
  return n;
}

async function quarantinedVersions(
  db: Db,
  tenantId: string,
  policyId: string,
): Promise<Map<number, QuarantineRow>> {
  return new Map((await activeQuarantines(db, tenantId, policyId)).map((q) => [q.version, q]));
}

/** A JSON cursor of this API, or 422 at `cursor`. */
function jsonCursor<T>(cursor: string | undefined, valid: (v: unknown) => v is T): T | undefined {
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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** The static checks' refusal: 422 with every diagnostic, and each error as a field error. */
function staticCheckFailure(checks: StaticCheckResult): ApiError {
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

// ---------------------------------------------------------------------------------------------
// Reads

/**
 * The built-ins and the tenant's policies: searched by `q` (best first), filtered by `tag`
 * and `workload` class, else by name.
 *
 * @example await listPoliciesAs(env, db, principal, { q: "latency", limit: 20 })
 */
export async function listPoliciesAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: {
    q?: string | undefined;
    tag?: string | undefined;
    workload?: WorkloadClass | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<{ items: Array<SchedPolicyView & { score?: number }>; nextCursor: string | null }> {
  const principal = requireTenantKey(caller, READ_ROLES);
  const ftsQuery = input.q === undefined ? undefined : toFtsQuery(input.q);
  if (ftsQuery === null) {
    throw fieldError("q", "must contain at least one word (letters or digits)", "empty_query");
  }
  const searching = ftsQuery !== undefined;
  const after = jsonCursor<PolicyListAfter>(
    input.cursor,
    (v): v is PolicyListAfter =>
      isObject(v) &&
      typeof v.id === "string" &&
      (searching ? typeof v.rank === "number" : typeof v.name === "string") &&
      Object.keys(v).length === 2,
  );
  await ensureBuiltinPolicies(db, env.BLOBS);
  const rows = await listPolicies(db, {
    tenantId: principal.tenantId,
    ftsQuery,
    tag: input.tag,
    anyTag: input.workload ? CLASS_TAGS[input.workload] : undefined,
    limit: input.limit + 1,
    after,
  });
  const { page, nextCursor } = pageOf(rows, input.limit, (r) =>
    JSON.stringify(searching ? { rank: r.rank, id: r.row.id } : { name: r.row.name, id: r.row.id }),
  );
  return {
    items: page.map((r) => ({
      ...policyView(r.row, r.latestStatus),
      ...(r.rank === null ? {} : { score: -r.rank }),
    })),
    nextCursor,
  };
}

/** One policy the tenant sees. */
export async function getPolicyAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string },
): Promise<SchedPolicyView> {
  const principal = requireTenantKey(caller, READ_ROLES);
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, principal.tenantId, input.id);
  const quarantined = await quarantinedVersions(db, principal.tenantId, row.id);
  const latest = await getVersion(db, row.id, row.latestVersion);
  return policyView(
    row,
    quarantined.has(row.latestVersion) ? "quarantined" : (latest?.status ?? "checked"),
  );
}

/** A policy's versions, newest first. */
export async function listVersionsAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; limit: number; cursor?: string | undefined },
): Promise<{ items: SchedVersionView[]; nextCursor: string | null }> {
  const principal = requireTenantKey(caller, READ_ROLES);
  const before = jsonCursor<number>(
    input.cursor,
    (v): v is number => Number.isInteger(v) && (v as number) > 0,
  );
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, principal.tenantId, input.id);
  const quarantined = await quarantinedVersions(db, principal.tenantId, row.id);
  const rows = await listVersions(db, row.id, { limit: input.limit + 1, beforeVersion: before });
  const { page, nextCursor } = pageOf(rows, input.limit, (v) => JSON.stringify(v.version));
  return { items: page.map((v) => versionView(v, quarantined.has(v.version))), nextCursor };
}

/** One version with its source, static-check and verification results. */
export async function getVersionAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; version: string },
): Promise<SchedVersionDetailView> {
  const principal = requireTenantKey(caller, READ_ROLES);
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, principal.tenantId, input.id);
  const number = versionNumber(row.id, input.version);
  const version = await getVersion(db, row.id, number);
  if (!version) throw new ApiError("not_found", `no version ${number} of ${row.id}`);
  const source = await readPolicySource(env.BLOBS, version.sourceSha256);
  if (source === null)
    throw new Error(`source ${version.sourceSha256} of ${row.id}@${number} is missing from R2`);
  const quarantine =
    (await quarantinedVersions(db, principal.tenantId, row.id)).get(number) ?? null;
  const diagnostics = JSON.parse(version.diagnosticsJson) as Diagnostic[];
  return {
    ...versionView(version, quarantine !== null),
    source,
    tunables: JSON.parse(version.tunablesJson) as Tunable[],
    staticChecks: { ok: diagnostics.every((d) => d.severity !== "error"), diagnostics },
    verification: version.verificationJson ? JSON.parse(version.verificationJson) : null,
    quarantine: quarantine
      ? {
          reason: quarantine.reason,
          failedNodes: JSON.parse(quarantine.failedNodesJson) as string[],
          quarantinedAt: iso(quarantine.quarantinedAtMs),
        }
      : null,
  };
}

export type HistoryItemView =
  | (Omit<Extract<HistoryItem, { kind: "rollout" }>, "atMs" | "key"> & { at: string })
  | (Omit<Extract<HistoryItem, { kind: "performance" }>, "atMs" | "key"> & { at: string });

/** A policy's rollout and performance history in the tenant, newest first. */
export async function policyHistoryAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: {
    id: string;
    version?: number | undefined;
    nodeId?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<{ items: HistoryItemView[]; nextCursor: string | null }> {
  const principal = requireTenantKey(caller, READ_ROLES);
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, principal.tenantId, input.id);
  return historyPage(
    db,
    {
      tenantId: principal.tenantId,
      policyId: row.id,
      version: input.version,
      nodeId: input.nodeId,
    },
    input.limit,
    input.cursor,
  );
}

/**
 * One page of rollout and performance history, newest first (the policy and node calls share
 * it; the caller checked who may read what `q` names).
 *
 * @example await historyPage(db, { tenantId, nodeId: "web-1" }, 20, undefined)
 */
export async function historyPage(
  db: Db,
  q: Omit<Parameters<typeof listPolicyHistory>[1], "limit" | "after">,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: HistoryItemView[]; nextCursor: string | null }> {
  type After = { atMs: number; kind: string; key: string };
  const after = jsonCursor<After>(
    cursor,
    (v): v is After =>
      isObject(v) &&
      typeof v.atMs === "number" &&
      typeof v.kind === "string" &&
      typeof v.key === "string",
  );
  const rows = await listPolicyHistory(db, { ...q, limit: limit + 1, after });
  const { page, nextCursor } = pageOf(rows, limit, (h) =>
    JSON.stringify({ atMs: h.atMs, kind: h.kind, key: h.key }),
  );
  return {
    items: page.map(
      ({ atMs, key: _key, ...rest }) => ({ ...rest, at: iso(atMs) }) as HistoryItemView,
    ),
    nextCursor,
  };
}

// ---------------------------------------------------------------------------------------------
// Writes

/**
 * Creates a policy and its version 1. The static checks run first: when they find an error
 * the answer is 422 `static_check_failed` with the diagnostics, and nothing is stored.
 *
 * @example await createPolicyAs(env, db, principal, { name: "my-fifo", …, source, parameters: {} })
 */
export async function createPolicyAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: PolicyCreateRequest,
): Promise<{
  policy: SchedPolicyView;
  version: SchedVersionView & { staticChecks: { ok: boolean; diagnostics: Diagnostic[] } };
}> {
  const principal = requireTenantKey(caller, WRITE_ROLES);
  const { source, parameters, ...metadata } = input;
  const checks = runStaticChecks({
    source,
    opsName: metadata.opsName,
    tunables: metadata.tunables,
    parameters,
  });
  if (!checks.ok) throw staticCheckFailure(checks);
  await ensureBuiltinPolicies(db, env.BLOBS);
  const stored = await putPolicySource(env.BLOBS, source);
  const nowMs = Date.now();
  const out = await createPolicy(
    db,
    {
      id: newSchedPolicyId(nowMs),
      tenantId: principal.tenantId,
      metadata,
      version: {
        sourceSha256: stored.sha256,
        sourceSizeBytes: stored.sizeBytes,
        parameters: checks.parameters,
        tunables: metadata.tunables,
        diagnostics: checks.diagnostics,
        status: "checked",
        statusReason: null,
        createdBy: principal.actor,
      },
    },
    nowMs,
  );
  if (!out.ok) {
    if (out.code === "name_taken") {
      throw new ApiError(
        "conflict",
        `a policy named ${metadata.name} exists (yours or a built-in)`,
        {
          extra: { reason: "name_taken" },
        },
      );
    }
    throw new ApiError("conflict", `the tenant holds ${out.limit} policies already (the limit)`, {
      extra: { reason: "policy_limit", limit: out.limit },
    });
  }
  return {
    policy: policyView(out.policy, out.version.status),
    version: {
      ...versionView(out.version, false),
      staticChecks: { ok: true, diagnostics: checks.diagnostics },
    },
  };
}

/**
 * Adds a version to one of the tenant's policies (built-ins are read-only), checked like the
 * first; its parent is `parentVersion` or the newest.
 *
 * @example await createVersionAs(env, db, principal, { id: "spol_…", source, parameters: {} })
 */
export async function createVersionAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: VersionCreateRequest & { id: string },
): Promise<SchedVersionView & { staticChecks: { ok: boolean; diagnostics: Diagnostic[] } }> {
  const principal = requireTenantKey(caller, WRITE_ROLES);
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, principal.tenantId, input.id);
  if (row.tenantId === null) {
    throw new ApiError(
      "forbidden",
      `${row.name} is a built-in policy and read-only: create your own policy (POST /v1/policies) from its source`,
    );
  }
  const parentVersion = input.parentVersion ?? row.latestVersion;
  if (input.parentVersion !== undefined && !(await getVersion(db, row.id, input.parentVersion))) {
    throw fieldError(
      "parentVersion",
      `${row.id} has no version ${input.parentVersion}`,
      "unknown_version",
    );
  }
  const tunables = input.tunables ?? TunablesSchema.parse(JSON.parse(row.tunablesJson));
  const checks = runStaticChecks({
    source: input.source,
    opsName: row.opsName,
    tunables,
    parameters: input.parameters,
  });
  if (!checks.ok) throw staticCheckFailure(checks);
  const stored = await putPolicySource(env.BLOBS, input.source);
  const out = await createVersion(
    db,
    {
      policyId: row.id,
      parentVersion,
      metadata: {
        description: input.description ?? row.description,
        algorithm: input.algorithm ?? row.algorithm,
        useCases: input.useCases ?? (JSON.parse(row.useCases) as string[]),
        tunables,
        limitations: input.limitations ?? row.limitations,
      },
      version: {
        sourceSha256: stored.sha256,
        sourceSizeBytes: stored.sizeBytes,
        parameters: checks.parameters,
        tunables,
        diagnostics: checks.diagnostics,
        status: "checked",
        statusReason: null,
        createdBy: principal.actor,
      },
    },
    Date.now(),
  );
  if (!out.ok) {
    throw new ApiError("conflict", `${row.id} holds ${out.limit} versions already (the limit)`, {
      extra: { reason: "version_limit", limit: out.limit },
    });
  }
  return {
    ...versionView(out.version, false),
    staticChecks: { ok: true, diagnostics: checks.diagnostics },
  };
}

/**
 * Lifts the circuit breaker's quarantine of a version for the caller's tenant (and forgets
 * the failures that caused it); 409 when it is not quarantined.
 */
export async function clearQuarantineAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; version: string },
): Promise<SchedVersionView> {
  const principal = requireTenantKey(caller, WRITE_ROLES);
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, principal.tenantId, input.id);
  const number = versionNumber(row.id, input.version);
  const version = await getVersion(db, row.id, number);
  if (!version) throw new ApiError("not_found", `no version ${number} of ${row.id}`);
  const cleared = await clearQuarantine(db, {
    tenantId: principal.tenantId,
    policyId: row.id,
    version: number,
    actor: principal.actor,
    atMs: Date.now(),
  });
  if (!cleared) {
    throw new ApiError("conflict", `${row.id} version ${number} is not quarantined`, {
      extra: { status: version.status },
    });
  }
  return versionView(version, false);
}

// ---------------------------------------------------------------------------------------------
// For the workload-profile integration

/**
 * Recommends the tenant's visible policies for a workload class, with the tenant's history
 * and the target nodes' facts; quarantined latest versions are left out.
 *
 * @example await recommendForWorkload(env, db, tenantId, profile.class, nodes.map((n) => n.facts))
 */
export async function recommendForWorkload(
  env: Env,
  db: Db,
  tenantId: string,
  workloadClass: WorkloadClass | null,
  facts: ReadonlyArray<NodeFacts | null>,
): Promise<RecommendationResult> {
  await ensureBuiltinPolicies(db, env.BLOBS);
  const candidates = [];
  let after: PolicyListAfter | undefined;
  // Every visible policy, a page at a time (a tenant holds at most a few hundred).
  for (;;) {
    const page = await listPolicies(db, { tenantId, limit: 100, after });
    candidates.push(...page);
    const last = page.at(-1);
    if (page.length < 100 || !last) break;
    after = { name: last.row.name, id: last.row.id };
  }
  return recommendPolicies(
    workloadClass,
    candidates
      .filter((c) => c.latestStatus !== "rejected")
      .map((c) => ({
        id: c.row.id,
        name: c.row.name,
        useCases: JSON.parse(c.row.useCases) as string[],
        tunables: JSON.parse(c.row.tunablesJson) as Tunable[],
        limitations: c.row.limitations,
        quarantined: c.latestStatus === "quarantined",
      })),
    { facts, history: await listOutcomes(db, tenantId) },
  );
}
