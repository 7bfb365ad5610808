/**
 * The scheduler-policy repository's writes as calls: `(env, db, caller, input)` functions the
 * HTTPS routes and the MCP tools call, so the surfaces cannot drift. Each passes the call gate
 * (`gateScope`: a tenant key with an operator's or admin's role writes; an agent key acts as
 * its process, which needs `sched.submit` or `sched.record`), scopes to its tenant (another
 * tenant's policy is 404, like a missing one), seeds the built-ins on first use in the
 * isolate, and returns plain JSON views. The agent loop, whose gate has already run, calls the
 * `…In` functions with its scope. An adapter: the logic is in the pure modules beside it.
 *
 * Holds creating a policy, creating a version, lifting a quarantine and recording an outcome.
 * Submitting a version stops at `checked`. Sending it to a verifier node and signing it are
 * their own calls (verify-calls.ts, which moves it on through `setVersionStatus`,
 * `recordVerification` and `markSigned`), and so is rolling it out (rollout-calls.ts).
 */

import { requireTenantKey, WRITE_ROLES } from "../api/authorize.js";
import { ApiError, fieldError } from "../api/problem.js";
import type {
  OutcomeCreateRequest,
  OutcomeView,
  PolicyCreateRequest,
  SchedPolicyView,
  SchedVersionView,
  VersionCreateRequest,
} from "../api/schemas-sched.js";
import type { Env } from "../env.js";
import type { Caller } from "../objects/process-calls.js";
import type { Db } from "../store/db.js";
import { ensureBuiltinPolicies } from "../store/sched-builtins.js";
import { clearQuarantine } from "../store/sched-circuit-breaker.js";
import { recordPerformance } from "../store/sched-history.js";
import {
  createPolicy,
  createVersion,
  getVersion,
  newSchedPolicyId,
  putPolicySource,
} from "../store/sched-policies.js";
import { gateScope, type Scope } from "./call-scope.js";
import { SCHED_CAPABILITIES } from "./capabilities.js";
import type { Diagnostic } from "./diagnostics.js";
import { nodeOr404 } from "./fleet-calls.js";
import { TunablesSchema } from "./metadata.js";
import {
  iso,
  policyView,
  staticCheckFailure,
  versionNumber,
  versionView,
  visiblePolicy,
} from "./policy-views.js";
import { selectorTarget } from "./profile.js";
import { runStaticChecks } from "./static-checks.js";

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
