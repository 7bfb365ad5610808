/**
 * Turns commands from the control plane into actions, each answered with exactly one ack:
 *   assign → the deploy module's assignment path (signature and expiry, then the bounded
 *            download, then the hash, then load; a refusal loads nothing)
 *   revert → Deployer.revert
 *   verify → (verifier nodes) acknowledged at once, then run; the result goes up as verify-result
 * Assignments and reverts run one at a time, in arrival order. A command seen again (the control
 * plane resent it, or a duplicate frame) gets the same ack without running twice. Deploy
 * transitions (refusals included) reach the control plane through the deployer's listener.
 */

import type { z } from "zod";
import type { NodeDeployer } from "../deploy/deployer.js";
import type { CommandSchema, NodeFrame, VerifyJob, VerifyResult } from "../protocol.js";
import type { DeployAssignment, RunVerifyJob } from "./seams.js";

export type AckFrame = Extract<NodeFrame, { type: "ack" }>;
export type CommandFrame = z.infer<typeof CommandSchema>;

/** How many answered commands are remembered for deduplication. */
export const REMEMBERED_COMMANDS = 256;

export interface DispatchDeps {
  role: "node" | "verifier";
  /** The node's deploy module; null on a verifier (assignments are refused there). */
  deployer: NodeDeployer | null;
  /** The assignment path over that deployer (deploy/assignment-path.ts). */
  deploy: DeployAssignment | null;
  runVerifyJob: RunVerifyJob | null;
  /** PUTs a compiled object to the job's upload path. */
  uploadObject: (uploadPath: string, bytes: Uint8Array) => Promise<void>;
  /** Sends (or queues) a frame that is not an ack: verify-result. */
  send: (frame: NodeFrame) => void;
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

  async #assign(commandId: string, assignment: unknown): Promise<AckFrame> {
    const { deps } = this;
    if (deps.role !== "node") {
      return nack(commandId, "not_allowed", "a verifier node does not run assignments");
    }
    if (!deps.deploy) {
      return nack(commandId, "unsupported", "this node has no deploy backend");
    }
    const named = assignment as { assignmentId?: unknown; payload?: { policyId?: unknown } };
    deps.log(`assign ${String(named.assignmentId)}: ${String(named.payload?.policyId)}`);
    const outcome = await deps.deploy(assignment);
    if (outcome.refusal) {
      deps.log(`refused: ${outcome.refusal.code}: ${outcome.refusal.message}`);
      return nack(commandId, outcome.refusal.code, outcome.refusal.message);
    }
    const transition = outcome.transition;
    if (transition === null) return nack(commandId, "malformed", "no transition");
    return transition.state === "active"
      ? ack(commandId)
      : nack(
          commandId,
          transition.state,
          transition.reason ?? `the deploy ended ${transition.state}`,
        );
  }

  async #revert(commandId: string, assignmentId: string | null, reason: string): Promise<AckFrame> {
    const { deps } = this;
    if (!deps.deployer) {
      // A verifier runs nothing on its own kernel, so there is nothing to take off.
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
