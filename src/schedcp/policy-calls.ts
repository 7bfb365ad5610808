/**
 * The scheduler-policy repository as calls: `(env, db, caller, input)` functions the HTTPS
 * routes and the MCP tools call, so the surfaces cannot drift. Each passes the call gate
 * (`gateScope`: a tenant key with a reader's role reads and an operator's or admin's writes;
 * an agent key acts as its process, which needs `sched.read`, `sched.submit` or `sched.record`),
 * scopes to its tenant (another tenant's policy is 404, like a missing one), seeds the
 * built-ins on first use in the isolate, and returns plain JSON views. The agent loop, whose
 * gate has already run, calls the `…In` functions with its scope. An adapter: the logic is in
 * the pure modules beside it.
 *
 * Submitting a version stops at `checked`. Sending it to a verifier node and signing it are
 * their own calls (verify-calls.ts, which moves it on through `setVersionStatus`,
 * `recordVerification` and `markSigned`), and so is rolling it out (rollout-calls.ts).
 */

import { READ_ROLES, requireTenantKey, WRITE_ROLES } from "../api/authorize.js";
import { cursorKey, INVALID_CURSOR, pageOf } from "../api/pagination.js";
import { ApiError, fieldError } from "../api/problem.js";
import type {
  OutcomeCreateRequest,
  OutcomeView,
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
  type QuarantineRow,
} from "../store/sched-circuit-breaker.js";
import {
  type HistoryItem,
  listOutcomes,
  listPolicyHistory,
  recordPerformance,
} from "../store/sched-history.js";
import {
  createPolicy,
  createVersion,
  getPolicy,
  getVersion,
  listPolicies,
  listVersions,
  newSchedPolicyId,
  type PolicyListAfter,
  type PolicyRow,
  putPolicySource,
  readPolicySource,
  type VersionRow,
} from "../store/sched-policies.js";
import type { SchedVersionStatus } from "../store/schema-schedcp.js";
import { gateScope, type Scope } from "./call-scope.js";
import { SCHED_CAPABILITIES } from "./capabilities.js";
import type { Diagnostic } from "./diagnostics.js";
import { nodeOr404 } from "./fleet-calls.js";
import { type Tunable, TunablesSchema } from "./metadata.js";
import { selectorTarget } from "./profile.js";
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
  input: PolicyListInput,
): Promise<PolicyPage> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.read, READ_ROLES);
  return listPoliciesIn(env, db, scope, input);
}

export interface PolicyListInput {
  q?: string | undefined;
  tag?: string | undefined;
  workload?: WorkloadClass | undefined;
  limit: number;
  cursor?: string | undefined;
}

export type PolicyPage = {
  items: Array<SchedPolicyView & { score?: number }>;
  nextCursor: string | null;
};

/** `listPoliciesAs` for a caller the gate has already let through. */
export async function listPoliciesIn(
  env: Env,
  db: Db,
  scope: Scope,
  input: PolicyListInput,
): Promise<PolicyPage> {
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
    tenantId: scope.tenantId,
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
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.read, READ_ROLES);
  return getPolicyIn(env, db, scope, input);
}

/** `getPolicyAs` for a caller the gate has already let through. */
export async function getPolicyIn(
  env: Env,
  db: Db,
  scope: Scope,
  input: { id: string },
): Promise<SchedPolicyView> {
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, scope.tenantId, input.id);
  const quarantined = await quarantinedVersions(db, scope.tenantId, row.id);
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
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.read, READ_ROLES);
  return listVersionsIn(env, db, scope, input);
}

/** `listVersionsAs` for a caller the gate has already let through. */
export async function listVersionsIn(
  env: Env,
  db: Db,
  scope: Scope,
  input: { id: string; limit: number; cursor?: string | undefined },
): Promise<{ items: SchedVersionView[]; nextCursor: string | null }> {
  const before = jsonCursor<number>(
    input.cursor,
    (v): v is number => Number.isInteger(v) && (v as number) > 0,
  );
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, scope.tenantId, input.id);
  const quarantined = await quarantinedVersions(db, scope.tenantId, row.id);
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
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.read, READ_ROLES);
  return getVersionIn(env, db, scope, input);
}

/** `getVersionAs` for a caller the gate has already let through. */
export async function getVersionIn(
  env: Env,
  db: Db,
  scope: Scope,
  input: { id: string; version: string },
): Promise<SchedVersionDetailView> {
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, scope.tenantId, input.id);
  const number = versionNumber(row.id, input.version);
  const version = await getVersion(db, row.id, number);
  if (!version) throw new ApiError("not_found", `no version ${number} of ${row.id}`);
  const source = await readPolicySource(env.BLOBS, version.sourceSha256);
  if (source === null)
    throw new Error(`source ${version.sourceSha256} of ${row.id}@${number} is missing from R2`);
  const quarantine = (await quarantinedVersions(db, scope.tenantId, row.id)).get(number) ?? null;
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

/** A policy with its newest versions and one version's detail: one read for a client. */
export type PolicyDetailView = {
  policy: SchedPolicyView;
  /** Newest first. */
  versions: SchedVersionView[];
  /** More versions exist than were listed. */
  moreVersions: boolean;
  /** The version asked for (default the newest); `source` only when asked for. */
  version: Omit<SchedVersionDetailView, "source"> & { source: string | null };
};

export interface PolicyDetailInput {
  id: string;
  version?: number | undefined;
  versionsLimit: number;
  includeSource: boolean;
}

/**
 * A policy, its newest versions, and one version with its static checks, verification result
 * and quarantine (and source, when asked for): what a client reads before it picks a policy.
 *
 * @example await policyDetailAs(env, db, principal, { id: "spol_fifo", versionsLimit: 10, includeSource: false })
 */
export async function policyDetailAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: PolicyDetailInput,
): Promise<PolicyDetailView> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.read, READ_ROLES);
  return policyDetailIn(env, db, scope, input);
}

/** `policyDetailAs` for a caller the gate has already let through. */
export async function policyDetailIn(
  env: Env,
  db: Db,
  scope: Scope,
  input: PolicyDetailInput,
): Promise<PolicyDetailView> {
  const policy = await getPolicyIn(env, db, scope, { id: input.id });
  const versions = await listVersionsIn(env, db, scope, {
    id: policy.id,
    limit: input.versionsLimit,
  });
  const detail = await getVersionIn(env, db, scope, {
    id: policy.id,
    version: String(input.version ?? policy.latestVersion),
  });
  return {
    policy,
    versions: versions.items,
    moreVersions: versions.nextCursor !== null,
    version: input.includeSource ? detail : { ...detail, source: null },
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
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.read, READ_ROLES);
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, scope.tenantId, input.id);
  return historyPage(
    db,
    {
      tenantId: scope.tenantId,
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
): Promise<PolicyCreated> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.submit, WRITE_ROLES);
  return createPolicyIn(env, db, scope, input);
}

export type CheckedVersionView = SchedVersionView & {
  staticChecks: { ok: boolean; diagnostics: Diagnostic[] };
};
export type PolicyCreated = { policy: SchedPolicyView; version: CheckedVersionView };

/** `createPolicyAs` for a caller the gate has already let through. */
export async function createPolicyIn(
  env: Env,
  db: Db,
  scope: Scope,
  input: PolicyCreateRequest,
): Promise<PolicyCreated> {
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
      tenantId: scope.tenantId,
      metadata,
      version: {
        sourceSha256: stored.sha256,
        sourceSizeBytes: stored.sizeBytes,
        parameters: checks.parameters,
        tunables: metadata.tunables,
        diagnostics: checks.diagnostics,
        status: "checked",
        statusReason: null,
        createdBy: scope.actor,
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
): Promise<CheckedVersionView> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.submit, WRITE_ROLES);
  return createVersionIn(env, db, scope, input);
}

/** `createVersionAs` for a caller the gate has already let through. */
export async function createVersionIn(
  env: Env,
  db: Db,
  scope: Scope,
  input: VersionCreateRequest & { id: string },
): Promise<CheckedVersionView> {
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, scope.tenantId, input.id);
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
        createdBy: scope.actor,
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
 * the failures that caused it); 409 when it is not quarantined. Tenant keys only: overriding
 * the breaker is a person's decision, never an agent's.
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

/**
 * Records how a version did on a node or a label group in the repository's performance
 * history, which recommendations read back. The node must be the tenant's (404 otherwise).
 *
 * @example await recordOutcomeAs(env, db, principal, { id: "spol_fifo", version: "1", target: { nodeId: "web-1" }, workloadClass: "cpu-bound-batch", metricsBefore: {}, metricsAfter: {}, outcome: "improved" })
 */
export async function recordOutcomeAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: OutcomeCreateRequest & { id: string; version: string },
): Promise<OutcomeView> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.record, WRITE_ROLES);
  return recordOutcomeIn(env, db, scope, input);
}

/** `recordOutcomeAs` for a caller the gate has already let through. */
export async function recordOutcomeIn(
  env: Env,
  db: Db,
  scope: Scope,
  input: OutcomeCreateRequest & { id: string; version: string },
): Promise<OutcomeView> {
  await ensureBuiltinPolicies(db, env.BLOBS);
  const row = await visiblePolicy(db, scope.tenantId, input.id);
  const number = versionNumber(row.id, input.version);
  if (!(await getVersion(db, row.id, number))) {
    throw new ApiError("not_found", `no version ${number} of ${row.id}`);
  }
  const target =
    "nodeId" in input.target
      ? {
          kind: "node" as const,
          name: (await nodeOr404(db, scope.tenantId, input.target.nodeId)).id,
        }
      : { kind: "group" as const, name: selectorTarget(input.target.selector) };
  const nowMs = Date.now();
  const id = await recordPerformance(
    db,
    {
      tenantId: scope.tenantId,
      policyId: row.id,
      version: number,
      targetKind: target.kind,
      target: target.name,
      workloadClass: input.workloadClass,
      metricsBefore: input.metricsBefore,
      metricsAfter: input.metricsAfter,
      outcome: input.outcome,
      rolloutId: input.rolloutId ?? null,
    },
    nowMs,
  );
  return {
    id,
    policyId: row.id,
    version: number,
    targetKind: target.kind,
    target: target.name,
    workloadClass: input.workloadClass,
    metricsBefore: input.metricsBefore,
    metricsAfter: input.metricsAfter,
    outcome: input.outcome,
    rolloutId: input.rolloutId ?? null,
    recordedAt: iso(nowMs),
  };
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
