/*
 * What the connection needs from the deploy path besides the Deployer (deploy/types.ts): the
 * check that an assignment is signed by the pinned key, unexpired and matches its artifact, and
 * the verifier's job runner. The deploy module (src/deploy/) and the verifier (src/verifier/)
 * provide the real ones; agent/interim.ts holds stand-ins until they land.
 */

import type { RefusalCode } from "../deploy/types.js";
import type { Assignment, VerifyJob, VerifyResult } from "../protocol.js";

/** The control plane's key, pinned at enrollment. */
export interface TrustAnchor {
  /** Raw Ed25519 public key, base64url. */
  publicKey: string;
  keyId: string;
}

export type CheckResult = { ok: true } | { ok: false; code: RefusalCode; message: string };

/**
 * Checks an assignment before anything is loaded: signature (with the pinned key), expiry, and
 * the artifact's hash (`artifactBytes` is the downloaded BPF object, null for an scx binary).
 */
export type CheckAssignment = (
  assignment: Assignment,
  artifactBytes: Uint8Array | null,
  trust: TrustAnchor,
  nowMs: number,
) => Promise<CheckResult>;

/** What a verification job produced: the result, and the compiled object when there is one. */
export interface VerifyOutcome {
  result: VerifyResult;
  object: Uint8Array | null;
}

/** Runs one verification job (in a throwaway VM, on a verifier node). */
export type RunVerifyJob = (job: VerifyJob, signal: AbortSignal) => Promise<VerifyOutcome>;
