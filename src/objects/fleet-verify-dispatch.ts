/**
 * Verification jobs as the Fleet object runs them: offered to its idle verifier nodes one at a
 * time until one acknowledges, completed when that verifier's result frame arrives (checked,
 * signed and stored in the policy repository, src/schedcp/verification.ts), and timed out by the
 * alarm, which returns the version to `checked`. The jobs' rows are in fleet-verify.ts; this
 * module is what moves them. Separate from the object because the three steps share one
 * in-memory guard (`completing`, so a result and a timeout cannot both settle a job) and
 * nothing else of the object.
 */

import type { Env } from "../env.js";
import { FLEET_OBJECT_LIMITS } from "../schedcp/fleet/limits.js";
import type { NodeTarget } from "../schedcp/fleet/targets.js";
import type { CommandBody, VerifyJob, VerifyResult } from "../schedcp/protocol/index.js";
import { abandonVerification, completeVerification } from "../schedcp/verification.js";
import { openDb } from "../store/db.js";
import type { FleetStore } from "./fleet-store.js";
import type { CommandOptions, SendCommandReply, StartVerifyReply } from "./fleet-types.js";
import type { VerifyJobStore } from "./fleet-verify.js";

/** What the dispatcher needs of the Fleet object. */
export interface VerifyHost {
  store: FleetStore;
  jobs: VerifyJobStore;
  env: Pick<Env, "DB" | "BLOBS" | "POLICY_SIGNING_KEY">;
  /** The object's own `sendCommand` RPC. */
  sendCommand(
    tenantId: string,
    target: NodeTarget,
    body: CommandBody,
    options: CommandOptions,
  ): Promise<SendCommandReply>;
  scheduleAlarm(nowMs: number): Promise<void>;
}

export class VerifyDispatcher {
  /** Jobs whose result is being written to the repository now (settled once, not twice). */
  private readonly completing = new Set<string>();

  constructor(private readonly host: VerifyHost) {}

  /**
   * Offers the job to each connected, idle verifier in turn; the first to acknowledge runs it.
   * The caller has checked the tenant.
   *
   * @example await verify.start(tenantId, job, { timeoutMs: 600_000 })
   */
  async start(
    tenantId: string,
    job: VerifyJob,
    options: { timeoutMs: number; ackTimeoutMs?: number },
  ): Promise<StartVerifyReply> {
    const { store, jobs } = this.host;
    const candidates = store.nodes
      .list("online")
      .filter((row) => row.role === "verifier")
      .filter((row) => jobs.runningOn(row.node_id).length === 0);
    const tried: Extract<StartVerifyReply, { ok: false }>["tried"] = [];
    for (const row of candidates) {
      const nowMs = Date.now();
      const deadlineAtMs = nowMs + options.timeoutMs;
      // Recorded before the command goes out: the upload and the result may follow the ack at once.
      jobs.insert({
        jobId: job.jobId,
        nodeId: row.node_id,
        policyId: job.policyId,
        version: job.version,
        createdAtMs: nowMs,
        deadlineAtMs,
      });
      const reply = await this.host.sendCommand(
        tenantId,
        { nodeIds: [row.node_id] },
        { op: "verify", job },
        { timeoutMs: options.ackTimeoutMs ?? FLEET_OBJECT_LIMITS.commandTimeoutDefaultMs },
      );
      const result = reply.ok ? reply.results[0] : undefined;
      if (result?.status === "acked") {
        await this.host.scheduleAlarm(Date.now());
        return { ok: true, nodeId: row.node_id, deadlineAtMs };
      }
      const error = result?.error
        ? `${result.error.code}: ${result.error.message}`
        : reply.ok
          ? null
          : reply.message;
      tried.push({ nodeId: row.node_id, status: result?.status ?? "failed", error });
      // Not taken: the next node gets the same job under the same id.
      jobs.remove(job.jobId);
    }
    return tried.length === 0
      ? {
          ok: false,
          code: "no_verifier",
          message: "no verifier node of this tenant is connected and idle",
          tried,
        }
      : {
          ok: false,
          code: "refused",
          message: `no verifier took the job: ${tried.map((t) => `${t.nodeId} ${t.status}${t.error ? ` (${t.error})` : ""}`).join("; ")}`,
          tried,
        };
  }

  /**
   * A verifier's result for its running job: into the repository, signed when it passes.
   *
   * @example await verify.complete(att.nodeId, frame.result, Date.now())
   */
  async complete(nodeId: string, result: VerifyResult, nowMs: number): Promise<void> {
    const { store, jobs, env } = this.host;
    const job = jobs.get(result.jobId);
    if (job?.state !== "running" || job.nodeId !== nodeId) return;
    if (this.completing.has(job.jobId)) return;
    this.completing.add(job.jobId);
    try {
      const outcome = await completeVerification(
        env,
        openDb(env.DB),
        { ...job, tenantId: store.tenant() ?? "" },
        result,
        nowMs,
      );
      jobs.settle(
        job.jobId,
        outcome.status === "signed" || outcome.status === "verified" ? "passed" : "rejected",
        outcome.reason,
        Date.now(),
      );
    } catch (error) {
      // The job stays running: its deadline returns the version to `checked`.
      console.error("fleet: storing a verification result failed", job.jobId, error);
    } finally {
      this.completing.delete(job.jobId);
    }
  }

  /**
   * Jobs past their deadline: the version goes back to `checked`, to be tried again.
   *
   * @example await verify.timeOut(Date.now()) // from the alarm
   */
  async timeOut(nowMs: number): Promise<void> {
    const { jobs, env } = this.host;
    for (const job of jobs.overdue(nowMs)) {
      if (this.completing.has(job.jobId)) continue;
      const reason = `verifier ${job.nodeId} sent no result within ${job.deadlineAtMs - job.createdAtMs} ms (job ${job.jobId}); verify it again`;
      if (!jobs.settle(job.jobId, "timed_out", reason, nowMs)) continue;
      try {
        await abandonVerification(openDb(env.DB), job.policyId, job.version, reason, nowMs);
      } catch (error) {
        console.error("fleet: returning a version to checked failed", job.jobId, error);
      }
    }
  }
}
