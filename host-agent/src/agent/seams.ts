/*
 * What the connection needs from the deploy path besides the Deployer (deploy/types.ts): one
 * assignment taken from its signature check to a loaded scheduler, and the verifier's job
 * runner. agent/deploy-path.ts builds both from the configuration, out of the deploy module
 * (src/deploy/) and the verifier's VM stage (src/verifier/).
 */

import type { AssignmentOutcome } from "../deploy/assignment-path.js";
import type { NodeDeployer } from "../deploy/deployer.js";
import type { VerifyJob, VerifyResult } from "../protocol.js";

/**
 * Checks (signature and expiry, then the downloaded artifact's hash), writes and applies one
 * assignment; a refusal loads nothing and is reported as a `refused` transition.
 */
export type DeployAssignment = (assignment: unknown) => Promise<AssignmentOutcome>;

/** What a verification job produced: the result, and the compiled object when there is one. */
export interface VerifyOutcome {
  result: VerifyResult;
  object: Uint8Array | null;
}

/** Runs one verification job (in a throwaway VM, on a verifier node). */
export type RunVerifyJob = (job: VerifyJob, signal: AbortSignal) => Promise<VerifyOutcome>;

/** The deploy path of one host-agent: a node's deployer, or a verifier's job runner. */
export interface DeployPath {
  /** The node's deploy module (null on a verifier, which loads nothing on its own kernel). */
  deployer: NodeDeployer | null;
  deploy: DeployAssignment | null;
  runVerifyJob: RunVerifyJob | null;
}
