/**
 * Turns commands from the control plane into actions, each answered with exactly one ack:
 *   assign → download the artifact (bounded) → check signature, expiry and hash → Deployer.apply
 *   revert → Deployer.revert
 *   verify → (verifier nodes) acknowledged at once, then run; the result goes up as verify-result
 * Assignments and reverts run one at a time, in arrival order. A command seen again (the control
 * plane resent it, or a duplicate frame) gets the same ack without running twice.
 */

import type { z } from "zod";
import type { Deployer, RefusalCode, Transition } from "../deploy/types.js";
import type { Assignment, CommandSchema, NodeFrame, VerifyJob, VerifyResult } from "../protocol.js";
import { ArtifactError } from "./artifacts.js";
import type { CheckAssignment, RunVerifyJob, TrustAnchor } from "./seams.js";

export type AckFrame = Extract<NodeFrame, { type: "ack" }>;
export type CommandFrame = z.infer<typeof CommandSchema>;

/** How many answered commands are remembered for deduplication. */
export const REMEMBERED_COMMANDS = 256;

export interface DispatchDeps {
  role: "node" | "verifier";
  /** Null when this build has no deploy backend for this mode (assignments are refused). */
  deployer: Deployer | null;
  check: CheckAssignment;
  trust: TrustAnchor;
  /** Downloads an artifact, at most `maxBytes`; throws ArtifactError. */
  fetchArtifact: (sha256: string, maxBytes: number) => Promise<Uint8Array>;
  /** Writes a checked artifact where the deploy module reads it; returns the path. */
  storeArtifact: (sha256: string, bytes: Uint8Array) => Promise<string>;
  runVerifyJob: RunVerifyJob | null;
  /** PUTs a compiled object to the job's upload path. */
  uploadObject: (uploadPath: string, bytes: Uint8Array) => Promise<void>;
  /** Sends (or queues) a frame that is not an ack: deploy-status for a refusal, verify-result. */
  send: (frame: NodeFrame) => void;
  now: () => number;
  log: (line: string) => void;
  /** Aborted when the agent stops: a running verification job is cancelled. */
  signal: AbortSignal;
}

export class CommandDispatcher {
  /** Assignments and reverts, one after another. */
  #deployQueue: Promise<unknown> = Promise.resolve();
  readonly #seen = new Map<string, Promise<AckFrame>>();
  #verifying = false;

  constructor(private readonly deps: DispatchDeps) {}

  /**
   * The ack for `command`, once it is done (for verify: once it is accepted).
   *
   * @example const ack = await dispatcher.handle(frame); connection.send(ack)
   */
  handle(command: CommandFrame): Promise<AckFrame> {
    const seen = this.#seen.get(command.commandId);
    if (seen) return seen;
    const ack = this.#run(command).catch((error: unknown) =>
      nack(command.commandId, "internal", error instanceof Error ? error.message : String(error)),
    );
    this.#seen.set(command.commandId, ack);
    if (this.#seen.size > REMEMBERED_COMMANDS) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return ack;
  }

  async #run(command: CommandFrame): Promise<AckFrame> {
    const { body, commandId } = command;
    switch (body.op) {
      case "assign":
        return this.#serial(() => this.#assign(commandId, body.assignment));
      case "revert":
        return this.#serial(() => this.#revert(commandId, body.assignmentId, body.reason));
      case "verify":
        return this.#verify(commandId, body.job);
    }
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#deployQueue.then(task, task);
    this.#deployQueue = next.catch(() => {});
    return next;
  }

  async #assign(commandId: string, assignment: Assignment): Promise<AckFrame> {
    const { deps } = this;
    if (deps.role !== "node") {
      return nack(commandId, "not_allowed", "a verifier node does not run assignments");
    }
    if (!deps.deployer) {
      return nack(commandId, "unsupported", "this build has no deploy backend outside --dry-run");
    }
    const { payload, artifact } = assignment;
    deps.log(`assign ${assignment.assignmentId}: ${payload.policyId} v${payload.version}`);
    let bytes: Uint8Array | null = null;
    let path: string | null = null;
    if (artifact.kind === "bpf-object") {
      try {
        bytes = await deps.fetchArtifact(payload.artifactSha256, artifact.sizeBytes);
      } catch (error) {
        if (error instanceof ArtifactError) {
          if (error.code === "too_large")
            return this.#refuse(commandId, assignment, "hash_mismatch", error.message);
          return nack(commandId, error.code, error.message);
        }
        throw error;
      }
    }
    const verdict = await deps.check(assignment, bytes, deps.trust, deps.now());
    if (!verdict.ok) return this.#refuse(commandId, assignment, verdict.code, verdict.message);
    if (bytes !== null) path = await deps.storeArtifact(payload.artifactSha256, bytes);
    const transition = await deps.deployer.apply(assignment, path);
    return transition.state === "active"
      ? ack(commandId)
      : nack(
          commandId,
          transition.state,
          transition.reason ?? `the deploy ended ${transition.state}`,
        );
  }

  /** Nothing was loaded: say so as a deploy-status, and in the ack. */
  #refuse(commandId: string, assignment: Assignment, code: RefusalCode, message: string): AckFrame {
    const { deps } = this;
    deps.log(`refused ${assignment.assignmentId}: ${code}: ${message}`);
    const refused: Transition = {
      assignmentId: assignment.assignmentId,
      policyId: assignment.payload.policyId,
      version: assignment.payload.version,
      state: "refused",
      reason: `${code}: ${message}`.slice(0, 4_096),
      log: null,
      running: deps.deployer?.current() ?? null,
      dryRun: deps.deployer?.dryRun ?? false,
      atMs: deps.now(),
    };
    deps.send({ type: "deploy-status", ...refused });
    return nack(commandId, code, message);
  }

  async #revert(commandId: string, assignmentId: string | null, reason: string): Promise<AckFrame> {
    const { deps } = this;
    if (!deps.deployer) {
      // Nothing can run without a deploy backend, so there is nothing to take off.
      return ack(commandId);
    }
    deps.log(`revert${assignmentId ? ` ${assignmentId}` : ""}: ${reason}`);
    await deps.deployer.revert(reason, assignmentId);
    return ack(commandId);
  }

  async #verify(commandId: string, job: VerifyJob): Promise<AckFrame> {
    const { deps } = this;
    if (deps.role !== "verifier") {
      return nack(commandId, "not_allowed", "only verifier nodes run verification jobs");
    }
    if (!deps.runVerifyJob) {
      return nack(commandId, "unsupported", "this build has no verifier");
    }
    if (this.#verifying) return nack(commandId, "busy", "a verification job is running");
    this.#verifying = true;
    deps.log(`verify ${job.jobId}: ${job.policyId} v${job.version}`);
    void this.#runVerify(job, deps.runVerifyJob).finally(() => {
      this.#verifying = false;
    });
    return ack(commandId);
  }

  async #runVerify(job: VerifyJob, run: RunVerifyJob): Promise<void> {
    const { deps } = this;
    let result: VerifyResult;
    try {
      const outcome = await run(job, deps.signal);
      result = outcome.result;
      if (outcome.object && result.object) {
        try {
          await deps.uploadObject(job.uploadPath, outcome.object);
        } catch (error) {
          deps.log(`verify ${job.jobId}: upload failed: ${(error as Error).message}`);
          result = { ...result, ok: false, object: null };
        }
      }
    } catch (error) {
      deps.log(`verify ${job.jobId}: failed: ${(error as Error).message}`);
      result = failedResult(job.jobId);
    }
    deps.send({ type: "verify-result", result });
  }
}

function ack(commandId: string): AckFrame {
  return { type: "ack", commandId, ok: true, error: null };
}

function nack(commandId: string, code: string, message: string): AckFrame {
  const safeCode = /^[a-z][a-z0-9_]{0,63}$/.test(code) ? code : "failed";
  return {
    type: "ack",
    commandId,
    ok: false,
    error: { code: safeCode, message: message.slice(0, 4_096) },
  };
}

/** What is reported when the job runner itself broke before producing a result. */
function failedResult(jobId: string): VerifyResult {
  return {
    jobId,
    ok: false,
    stages: [],
    loaded: false,
    tasksScheduled: 0,
    ejected: false,
    ejectionReason: null,
    unloadedCleanly: false,
    kernelRelease: null,
    object: null,
  };
}
