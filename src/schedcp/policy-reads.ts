/**
 * The scheduler-policy repository's reads as calls: `(env, db, caller, input)` functions the
 * HTTPS routes and the MCP tools call, so the surfaces cannot drift. Each passes the call gate
 * (`gateScope`: a tenant key with a reader's role reads; an agent key acts as its process,
 * which needs `sched.read`), scopes to its tenant (another tenant's policy is 404, like a
 * missing one), seeds the built-ins on first use in the isolate, and returns plain JSON views.
 * The agent loop, whose gate has already run, calls the `…In` functions with its scope. An
 * adapter: the logic is in the pure modules beside it.
 *
 * Holds the policy list and search, one policy, its versions, one version's detail, the
 * one-read policy detail, and the rollout and performance history pages (`historyPage`,
 * shared with the node calls in rollout-calls.ts). The writes are in policy-writes.ts.
 */

import { READ_ROLES } from "../api/authorize.js";
import { pageOf } from "../api/pagination.js";
import { ApiError, fieldError } from "../api/problem.js";
import type {
  SchedPolicyView,
  SchedVersionDetailView,
  SchedVersionView,
} from "../api/schemas-sched.js";
import type { Env } from "../env.js";
import { toFtsQuery } from "../kernel/memory/fts-query.js";
import type { Caller } from "../objects/process-calls.js";
import type { Db } from "../store/db.js";
import { ensureBuiltinPolicies } from "../store/sched-builtins.js";
import { type HistoryItem, listPolicyHistory } from "../store/sched-history.js";
import {
  getVersion,
  listPolicies,
  listVersions,
  type PolicyListAfter,
  readPolicySource,
} from "../store/sched-policies.js";
import { gateScope, type Scope } from "./call-scope.js";
import { SCHED_CAPABILITIES } from "./capabilities.js";
import type { Diagnostic } from "./diagnostics.js";
import type { Tunable } from "./metadata.js";
import {
  isObject,
  iso,
  jsonCursor,
  policyView,
  quarantinedVersions,
  versionNumber,
  versionView,
  visiblePolicy,
} from "./policy-views.js";
import { CLASS_TAGS, type WorkloadClass } from "./workload-classes.js";

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
