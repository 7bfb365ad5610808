/*
 * INTERIM — delete this file when the `kernel` branch merges.
 *
 * Stand-ins for the deploy module (src/deploy/) and the verifier (src/verifier/), which are
 * being written in parallel, so that `edgekernel-host run --dry-run` works end to end today:
 *   - DryRunDeployer: a Deployer that loads nothing and prints what it would do;
 *   - interimCheckAssignment: signature with the pinned key, expiry, artifact hash;
 *   - no verifier: verify jobs are refused with `unsupported`.
 * After the merge, `createDeployPath` below becomes the real deploy module's factory.
 */

import { createHash } from "node:crypto";
import { verifyAssignmentSignature } from "../../../src/schedcp/signing.js";
import type { Deployer, Running, Transition } from "../deploy/types.js";
import { type Assignment, canonicalJson, type TelemetryReport } from "../protocol.js";
import type { CheckAssignment, RunVerifyJob } from "./seams.js";

/** A Deployer that changes nothing on the machine and says what it would have done. */
export class DryRunDeployer implements Deployer {
  readonly dryRun = true;
  #running: Running | null = null;
  /** What ran before, most recent last: a revert goes back one step. */
  readonly #previous: Running[] = [];
  readonly #listeners: Array<(transition: Transition) => void> = [];

  constructor(
    private readonly print: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  current(): Running | null {
    return this.#running;
  }

  async apply(assignment: Assignment, artifactPath: string | null): Promise<Transition> {
    const { payload, artifact } = assignment;
    const what =
      artifact.kind === "bpf-object"
        ? `bpftool struct_ops register ${artifactPath} /sys/fs/bpf/edgekernel/${payload.policyId}-v${payload.version} (ops ${artifact.opsName})`
        : `start ${artifact.binary} ${Object.entries(payload.parameters)
            .map(([k, v]) => `--${k}=${v}`)
            .join(" ")}`.trim();
    this.print(`dry-run: would run ${what}`);
    if (this.#running) this.#previous.push(this.#running);
    this.#running = {
      assignmentId: assignment.assignmentId,
      policyId: payload.policyId,
      version: payload.version,
    };
    return this.#emit({
      assignmentId: assignment.assignmentId,
      policyId: payload.policyId,
      version: payload.version,
      state: "active",
      reason: null,
      log: null,
      running: this.#running,
      dryRun: true,
      atMs: this.now(),
    });
  }

  async revert(reason: string, onlyAssignmentId?: string | null): Promise<Transition | null> {
    const running = this.#running;
    if (!running) return null;
    if (onlyAssignmentId && running.assignmentId !== onlyAssignmentId) return null;
    this.#running = this.#previous.pop() ?? null;
    this.print(
      `dry-run: would unregister ${running.policyId} v${running.version} (${reason}); back to ${
        this.#running
          ? `${this.#running.policyId} v${this.#running.version}`
          : "the kernel's default scheduler"
      }`,
    );
    return this.#emit({
      ...running,
      state: "stopped",
      reason,
      log: null,
      running: this.#running,
      dryRun: true,
      atMs: this.now(),
    });
  }

  async observe(_report: TelemetryReport, _atMs: number): Promise<Transition | null> {
    return null;
  }

  async poll(_atMs: number): Promise<Transition | null> {
    return null;
  }

  onTransition(listener: (transition: Transition) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {}

  #emit(transition: Transition): Transition {
    for (const listener of this.#listeners) listener(transition);
    return transition;
  }
}

/** Signature (pinned key), expiry, then the artifact's hash and size. */
export const interimCheckAssignment: CheckAssignment = async (assignment, bytes, trust, nowMs) => {
  if (assignment.keyId !== trust.keyId) {
    return {
      ok: false,
      code: "bad_signature",
      message: `signed by key ${assignment.keyId}, not the pinned ${trust.keyId}`,
    };
  }
  if (
    !(await verifyAssignmentSignature(trust.publicKey, assignment.payload, assignment.signature))
  ) {
    return {
      ok: false,
      code: "bad_signature",
      message: "the signature does not verify with the pinned key",
    };
  }
  if (assignment.payload.expiresAtMs <= nowMs) {
    return {
      ok: false,
      code: "expired",
      message: `expired at ${new Date(assignment.payload.expiresAtMs).toISOString()}`,
    };
  }
  const { artifact } = assignment;
  if (artifact.kind === "bpf-object") {
    if (bytes === null || bytes.byteLength !== artifact.sizeBytes) {
      return {
        ok: false,
        code: "hash_mismatch",
        message: `expected ${artifact.sizeBytes} bytes, got ${bytes?.byteLength ?? 0}`,
      };
    }
    const sha = createHash("sha256").update(bytes).digest("hex");
    if (sha !== assignment.payload.artifactSha256) {
      return { ok: false, code: "hash_mismatch", message: `the artifact's SHA-256 is ${sha}` };
    }
    return { ok: true };
  }
  const sha = createHash("sha256").update(canonicalJson(artifact)).digest("hex");
  if (sha !== assignment.payload.artifactSha256) {
    return {
      ok: false,
      code: "hash_mismatch",
      message: "the scx binary does not match the signed hash",
    };
  }
  return { ok: true };
};

/** The deploy path this build offers: a dry-run Deployer, or none (assignments are refused). */
export function createDeployPath(options: { dryRun: boolean; print: (line: string) => void }): {
  deployer: Deployer | null;
  check: CheckAssignment;
  runVerifyJob: RunVerifyJob | null;
} {
  return {
    deployer: options.dryRun ? new DryRunDeployer(options.print) : null,
    check: interimCheckAssignment,
    runVerifyJob: null,
  };
}
