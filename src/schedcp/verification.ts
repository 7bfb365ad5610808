/**
 * The end of a verification job, in the policy repository: what the Fleet object calls when a
 * verifier node's result arrives or the job runs out of time. A version becomes `verified` and
 * then `signed` only when the node's VM stage passed (compiled, loaded, tasks scheduled, no
 * ejection, clean unload), the node uploaded the object it reports, and the control plane's own
 * object check (`checkBpfObject`: allow-listed helpers and kfuncs, a GPL-compatible license,
 * one struct_ops map) accepts those bytes. Anything else is `rejected` with the reason; a job
 * without an answer leaves the version `checked`, to be tried again.
 *
 * Signing: Ed25519 (`POLICY_SIGNING_KEY`) over the AssignmentPayload (policy id, version, the
 * object's SHA-256, the version's parameters — baked into the object at compile time — and an
 * expiry `SIGNATURE_TTL_MS` ahead). The signature is stored on the version; a rollout re-signs
 * one that expires within `RESIGN_BEFORE_EXPIRY_MS`, since a node refuses an expired payload and
 * will not restore an expired previous policy.
 */

import type { Db } from "../store/db.js";
import { fleetArtifactKey } from "../store/fleet-artifacts.js";
import { getVersion, type VersionRow } from "../store/sched-policies.js";
import { markSigned, recordVerification, setVersionStatus } from "../store/sched-verification.js";
import { checkBpfObject, type ObjectCheckResult } from "./object-checks.js";
import type { AssignmentPayload } from "./protocol/assignment.js";
import type { VerifyResult } from "./protocol/messages.js";
import { importSigningKey, SigningKeyError, signAssignment } from "./signing.js";

/** How long a signature stays valid: a rollout within that span needs no new one. */
export const SIGNATURE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** A rollout re-signs a version whose signature ends sooner than this. */
export const RESIGN_BEFORE_EXPIRY_MS = 7 * 24 * 60 * 60 * 1000;

/** What the repository needs of a finished job. */
export interface FinishedJob {
  jobId: string;
  nodeId: string;
  tenantId: string;
  policyId: string;
  version: number;
  uploadSha256: string | null;
  uploadSizeBytes: number | null;
}

export type VerificationOutcome =
  | { status: "signed" | "verified"; reason: string | null; objectCheck: ObjectCheckResult }
  | { status: "rejected"; reason: string; objectCheck: ObjectCheckResult | null }
  /** The version was no longer being verified (a late or repeated result): nothing changed. */
  | { status: "ignored"; reason: string; objectCheck: null };

function firstLine(text: string): string {
  return text.split("\n").find((l) => l.trim() !== "") ?? "";
}

/** Why a result that is not ok failed: its first failed stage and that stage's first line. */
export function failureReason(result: VerifyResult): string {
  const failed = result.stages.find((s) => !s.ok);
  if (failed) {
    const line = firstLine(failed.log).slice(0, 300);
    return `verification failed at ${failed.stage}${line ? `: ${line}` : ""}`;
  }
  if (result.ejected) return `ejected: ${result.ejectionReason ?? "by the watchdog"}`;
  if (!result.loaded) return "verification failed: the scheduler did not load";
  if (result.tasksScheduled === 0) return "verification failed: no task ran under the scheduler";
  if (!result.unloadedCleanly) return "verification failed: the scheduler did not unload cleanly";
  return "verification failed";
}

/**
 * Stores a verifier node's result on the version and, when it and the uploaded object pass,
 * signs it.
 *
 * @example await completeVerification(env, db, job, frame.result, Date.now())
 */
export async function completeVerification(
  env: { BLOBS: R2Bucket; POLICY_SIGNING_KEY?: string | undefined },
  db: Db,
  job: FinishedJob,
  result: VerifyResult,
  nowMs: number,
): Promise<VerificationOutcome> {
  const reject = async (reason: string, objectCheck: ObjectCheckResult | null) => {
    const stored = await recordVerification(db, job.policyId, job.version, result, nowMs, {
      passed: false,
      reason: reason.slice(0, 2_000),
    });
    return stored
      ? ({ status: "rejected", reason, objectCheck } as const)
      : ({ status: "ignored", reason: "not being verified", objectCheck: null } as const);
  };
  if (!result.ok) return reject(failureReason(result), null);
  if (result.object === null || job.uploadSha256 === null) {
    return reject("the verifier passed it but uploaded no object", null);
  }
  if (result.object.sha256 !== job.uploadSha256) {
    return reject(
      `the result names object ${result.object.sha256}, the upload was ${job.uploadSha256}`,
      null,
    );
  }
  const stored = await env.BLOBS.get(fleetArtifactKey(job.tenantId, job.uploadSha256));
  if (!stored) return reject(`the uploaded object ${job.uploadSha256} is missing`, null);
  const objectCheck = checkBpfObject(new Uint8Array(await stored.arrayBuffer()));
  if (!objectCheck.ok) {
    const findings = objectCheck.findings
      .slice(0, 5)
      .map((f) => `${f.code}: ${f.message}`)
      .join("; ");
    return reject(`the compiled object failed the object checks: ${findings}`, objectCheck);
  }
  const verified = await recordVerification(db, job.policyId, job.version, result, nowMs, {
    passed: true,
    reason: null,
  });
  if (!verified) return { status: "ignored", reason: "not being verified", objectCheck: null };
  const row = await getVersion(db, job.policyId, job.version);
  if (!row) throw new Error(`${job.policyId}@${job.version} vanished`);
  const signed = await signVersion(env, db, row, nowMs);
  return signed.ok
    ? { status: "signed", reason: null, objectCheck }
    : { status: "verified", reason: signed.reason, objectCheck };
}

/**
 * A job that ended without a result (timed out, refused, the verifier gone): the version goes
 * back to `checked`, with the reason, so it can be verified again.
 */
export async function abandonVerification(
  db: Db,
  policyId: string,
  version: number,
  reason: string,
  nowMs: number,
): Promise<boolean> {
  return setVersionStatus(db, policyId, version, ["verifying"], "checked", reason, nowMs);
}

/** The payload a version's signature covers. */
export function payloadOf(row: VersionRow, expiresAtMs: number): AssignmentPayload | null {
  if (row.objectSha256 === null) return null;
  return {
    policyId: row.policyId,
    version: row.version,
    artifactSha256: row.objectSha256,
    parameters: JSON.parse(row.parametersJson) as AssignmentPayload["parameters"],
    expiresAtMs,
  };
}

/**
 * Signs a verified (or re-signs a signed) version for `SIGNATURE_TTL_MS`.
 *
 * @example const signed = await signVersion(env, db, row, Date.now()); if (signed.ok) signed.payload
 */
export async function signVersion(
  env: { POLICY_SIGNING_KEY?: string | undefined },
  db: Db,
  row: VersionRow,
  nowMs: number,
): Promise<
  | { ok: true; payload: AssignmentPayload; signature: string; keyId: string }
  | { ok: false; reason: string }
> {
  const payload = payloadOf(row, nowMs + SIGNATURE_TTL_MS);
  if (payload === null) return { ok: false, reason: "the version has no verified object" };
  let key: Awaited<ReturnType<typeof importSigningKey>>;
  try {
    key = await importSigningKey(env.POLICY_SIGNING_KEY);
  } catch (error) {
    if (!(error instanceof SigningKeyError)) throw error;
    return { ok: false, reason: `not signed: ${error.message}` };
  }
  const signature = await signAssignment(key, payload);
  const marked = await markSigned(
    db,
    row.policyId,
    row.version,
    { signature, keyId: key.keyId, expiresAtMs: payload.expiresAtMs },
    nowMs,
  );
  if (!marked) return { ok: false, reason: `the version is ${row.status}, not verified` };
  return { ok: true, payload, signature, keyId: key.keyId };
}
