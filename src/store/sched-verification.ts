/**
 * A scheduler-policy version's verification and signing: the status moves of the fleet's
 * verifier path (to `verifying` and back to `checked`, to `verified` or `rejected`, to
 * `signed`). Each is an UPDATE that takes a version only in the statuses it expects, so a late
 * verifier result, finding the version no longer `verifying`, changes nothing. Separate from the
 * repository (sched-policies.ts) because only the verifier path writes these, on a version
 * that already exists; creating and listing policies never does.
 */

import { and, eq, sql } from "drizzle-orm";
import type { VerifyResult } from "../schedcp/protocol/messages.js";
import type { Db } from "./db.js";
import type { StoredVersionStatus } from "./sched-policies.js";
import { schedPolicyVersions } from "./schema.js";

/**
 * Moves a version from one status to another, only if it is in `from` now; false otherwise.
 *
 * @example await setVersionStatus(db, policyId, 3, ["checked"], "verifying", null, Date.now())
 */
export async function setVersionStatus(
  db: Db,
  policyId: string,
  version: number,
  from: readonly StoredVersionStatus[],
  to: StoredVersionStatus,
  reason: string | null,
  nowMs: number,
): Promise<boolean> {
  const updated = await db
    .update(schedPolicyVersions)
    .set({ status: to, statusReason: reason, updatedAtMs: nowMs })
    .where(
      and(
        eq(schedPolicyVersions.policyId, policyId),
        eq(schedPolicyVersions.version, version),
        sql`${schedPolicyVersions.status} IN (${sql.join(
          from.map((s) => sql`${s}`),
          sql`, `,
        )})`,
      ),
    )
    .returning({ version: schedPolicyVersions.version });
  return updated.length > 0;
}

/**
 * Stores a verifier node's result: `verified` with the object's hash when it passed, else
 * `rejected`. Only a version being verified takes a result. `verdict` overrides what the result
 * alone says (the control plane's own checks of the uploaded object can still reject it).
 */
export async function recordVerification(
  db: Db,
  policyId: string,
  version: number,
  result: VerifyResult,
  nowMs: number,
  verdict?: { passed: boolean; reason: string | null },
): Promise<boolean> {
  const passed = (verdict?.passed ?? true) && result.ok && result.object !== null;
  const failedStage = result.stages.find((s) => !s.ok)?.stage ?? null;
  const updated = await db
    .update(schedPolicyVersions)
    .set({
      status: passed ? "verified" : "rejected",
      statusReason:
        verdict?.reason ??
        (passed ? null : `verification failed${failedStage ? ` at ${failedStage}` : ""}`),
      verificationJson: JSON.stringify(result),
      objectSha256: passed ? result.object!.sha256 : null,
      objectSizeBytes: passed ? result.object!.sizeBytes : null,
      updatedAtMs: nowMs,
    })
    .where(
      and(
        eq(schedPolicyVersions.policyId, policyId),
        eq(schedPolicyVersions.version, version),
        eq(schedPolicyVersions.status, "verifying"),
      ),
    )
    .returning({ version: schedPolicyVersions.version });
  return updated.length > 0;
}

/** Marks a verified version signed (or re-signed with a later expiry). */
export async function markSigned(
  db: Db,
  policyId: string,
  version: number,
  s: { signature: string; keyId: string; expiresAtMs: number },
  nowMs: number,
): Promise<boolean> {
  const updated = await db
    .update(schedPolicyVersions)
    .set({
      status: "signed",
      signature: s.signature,
      keyId: s.keyId,
      signedAtMs: nowMs,
      signedExpiresAtMs: s.expiresAtMs,
      updatedAtMs: nowMs,
    })
    .where(
      and(
        eq(schedPolicyVersions.policyId, policyId),
        eq(schedPolicyVersions.version, version),
        sql`${schedPolicyVersions.status} IN ('verified', 'signed')`,
      ),
    )
    .returning({ version: schedPolicyVersions.version });
  return updated.length > 0;
}
