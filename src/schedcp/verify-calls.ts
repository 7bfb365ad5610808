/**
 * Verification as calls, beside policy-writes.ts and with the same caller shape, so the HTTPS
 * routes and the MCP tools are thin adapters over them.
 *
 * Verification is an explicit step (`verifyVersionAs`), not a side effect of submitting a
 * version: a submission stays a repository write that works with no fleet at all, and sending
 * a policy into a VM is its own authorised and audited call. An agent that wants both calls
 * `createVersionAs`, then `verifyVersionAs`.
 *
 * A built-in's versions are shared by every tenant; a tenant's verifier must not be able to
 * sign an object every other tenant would then load, so built-ins are not verified here: a
 * tenant verifies its own copy (`POST /v1/policies` with the built-in's source).
 */

import { WRITE_ROLES } from "../api/authorize.js";
import { ApiError, fieldError } from "../api/problem.js";
import type { Env } from "../env.js";
import { newUuidV7Hex } from "../kernel/ids.js";
import { fleetStub } from "../objects/fleet.js";
import type { Caller } from "../objects/process-calls.js";
import type { Db } from "../store/db.js";
import { ensureBuiltinPolicies } from "../store/sched-builtins.js";
import { getPolicy, getVersion, readPolicySource } from "../store/sched-policies.js";
import { setVersionStatus } from "../store/sched-verification.js";
import { gateScope, type Scope } from "./call-scope.js";
import { SCHED_CAPABILITIES } from "./capabilities.js";
import type { VerifyJob } from "./protocol/messages.js";

export const VERIFY_LIMITS = {
  /** The functional workload under the scheduler (the protocol allows 1-120 s). */
  workloadMinMs: 1_000,
  workloadMaxMs: 120_000,
  workloadDefaultMs: 5_000,
  /**
   * How long a job may take from dispatch to result: a cold verifier installs its tools and
   * fetches a kernel first, and TCG boots slowly.
   */
  timeoutMinMs: 5_000,
  timeoutMaxMs: 3_600_000,
  timeoutDefaultMs: 1_800_000,
} as const;

/** Where a verifier uploads a job's compiled object (node credential). */
export function verifyUploadPath(jobId: string): string {
  return `/v1/fleet/verify-jobs/${jobId}/object`;
}

export interface VerifyStartedView {
  jobId: string;
  policyId: string;
  version: number;
  nodeId: string;
  status: "verifying";
  deadlineAt: string;
}

/**
 * Sends a `checked` version to a connected verifier node of the caller's tenant and marks it
 * `verifying`; its result arrives later (see src/schedcp/verification.ts) and shows on the
 * version. No verifier connected (or none takes it): 503 `unavailable`, the version stays
 * `checked`. Passes the call gate for `sched.verify` (an operator's or admin's tenant key, or an
 * agent key whose process holds the capability).
 *
 * @example await verifyVersionAs(env, db, principal, { id: "spol_…", version: "1" })
 */
export async function verifyVersionAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: VerifyInput,
): Promise<VerifyStartedView> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.verify, WRITE_ROLES);
  return verifyVersionIn(env, db, scope, input);
}

export interface VerifyInput {
  id: string;
  version: string;
  workloadMs?: number | undefined;
  timeoutMs?: number | undefined;
}

/** `verifyVersionAs` for a caller the gate has already let through (the agent loop). */
export async function verifyVersionIn(
  env: Env,
  db: Db,
  scope: Scope,
  input: VerifyInput,
): Promise<VerifyStartedView> {
  const workloadMs = input.workloadMs ?? VERIFY_LIMITS.workloadDefaultMs;
  if (
    !Number.isInteger(workloadMs) ||
    workloadMs < VERIFY_LIMITS.workloadMinMs ||
    workloadMs > VERIFY_LIMITS.workloadMaxMs
  ) {
    throw fieldError(
      "workloadMs",
      `an integer from ${VERIFY_LIMITS.workloadMinMs} to ${VERIFY_LIMITS.workloadMaxMs}`,
      "out_of_range",
    );
  }
  const timeoutMs = input.timeoutMs ?? VERIFY_LIMITS.timeoutDefaultMs;
  if (
    !Number.isInteger(timeoutMs) ||
    timeoutMs < VERIFY_LIMITS.timeoutMinMs ||
    timeoutMs > VERIFY_LIMITS.timeoutMaxMs
  ) {
    throw fieldError(
      "timeoutMs",
      `an integer from ${VERIFY_LIMITS.timeoutMinMs} to ${VERIFY_LIMITS.timeoutMaxMs}`,
      "out_of_range",
    );
  }
  await ensureBuiltinPolicies(db, env.BLOBS);
  const policy = /^spol_[A-Za-z0-9_-]{1,64}$/.test(input.id)
    ? await getPolicy(db, scope.tenantId, input.id)
    : null;
  if (!policy) throw new ApiError("not_found", `no policy ${input.id}`);
  const number = /^[1-9][0-9]{0,6}$/.test(input.version) ? Number(input.version) : Number.NaN;
  const version = Number.isInteger(number) ? await getVersion(db, policy.id, number) : null;
  if (!version) throw new ApiError("not_found", `no version ${input.version} of ${policy.id}`);
  if (policy.tenantId === null) {
    throw new ApiError(
      "forbidden",
      `${policy.name} is a built-in shared by every tenant and is not verified per tenant: create your own policy from its source (POST /v1/policies) and verify that`,
    );
  }
  if (version.status !== "checked") {
    throw new ApiError(
      "conflict",
      `${policy.id} version ${number} is ${version.status}; only a checked version is sent to a verifier`,
      { extra: { status: version.status } },
    );
  }
  const source = await readPolicySource(env.BLOBS, version.sourceSha256);
  if (source === null) throw new Error(`source of ${policy.id}@${number} is missing from R2`);
  const nowMs = Date.now();
  if (!(await setVersionStatus(db, policy.id, number, ["checked"], "verifying", null, nowMs))) {
    throw new ApiError("conflict", `${policy.id} version ${number} is already being verified`);
  }
  const jobId = `vjob_${newUuidV7Hex(nowMs)}`;
  const job: VerifyJob = {
    jobId,
    policyId: policy.id,
    version: number,
    source,
    parameters: JSON.parse(version.parametersJson) as VerifyJob["parameters"],
    opsName: policy.opsName,
    workloadMs,
    uploadPath: verifyUploadPath(jobId),
  };
  let reply: Awaited<ReturnType<ReturnType<typeof fleetStub>["startVerify"]>>;
  try {
    reply = await fleetStub(env, scope.tenantId).startVerify(scope.tenantId, job, {
      timeoutMs,
    });
  } catch (error) {
    await setVersionStatus(db, policy.id, number, ["verifying"], "checked", null, Date.now());
    throw error;
  }
  if (!reply.ok) {
    await setVersionStatus(
      db,
      policy.id,
      number,
      ["verifying"],
      "checked",
      reply.message,
      Date.now(),
    );
    throw new ApiError(
      "unavailable",
      `${reply.message}; ${policy.id} version ${number} stays checked (enroll a node with --role verifier, run it, and try again)`,
      { extra: { reason: reply.code, tried: reply.tried } },
    );
  }
  return {
    jobId,
    policyId: policy.id,
    version: number,
    nodeId: reply.nodeId,
    status: "verifying",
    deadlineAt: new Date(reply.deadlineAtMs).toISOString(),
  };
}
