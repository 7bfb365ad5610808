/** Rollout test helpers: a signed policy version, and fake nodes that answer like host-agent. */

import type {
  Assignment,
  ControlFrame,
  TelemetryReport,
} from "../../src/schedcp/protocol/index.js";
import { call, type TestTenant } from "../helpers.js";
import {
  connectHello,
  type EnrolledNode,
  enroll,
  eventually,
  type NodeSocket,
  report,
} from "./helpers.js";
import {
  createFifoCopy,
  FIFO_OBJECT,
  passed,
  sha256Hex,
  takeVerifyJob,
  upload,
} from "./sched-helpers.js";

/** A report with CPU pressure (PSI some avg10) at `psiPct`. */
export function pressureReport(psiPct: number): TelemetryReport {
  const line = {
    avg10Pct: psiPct,
    avg60Pct: psiPct,
    avg300Pct: psiPct,
    totalUs: 1,
    intervalPct: psiPct,
  };
  return { ...report(40), pressure: { some: line, full: null } };
}

/** A tenant's own fifo copy, verified by a (fake) verifier node and signed. */
export async function signedFifo(t: TestTenant): Promise<string> {
  const verifier = await enroll(t, {
    role: "verifier",
    nodeId: `vm-${crypto.randomUUID().slice(0, 6)}`,
  });
  const socket = await connectHello(verifier.credential, { role: "verifier" });
  const policyId = await createFifoCopy(t);
  const started = call("POST", `/v1/policies/${policyId}/versions/1/verify`, { token: t.operator });
  const { job } = await takeVerifyJob(socket);
  if ((await started).status !== 202) throw new Error("verify did not start");
  const sha = await sha256Hex(FIFO_OBJECT);
  await upload(verifier.credential, job.uploadPath, FIFO_OBJECT);
  socket.send({
    type: "verify-result",
    result: passed(job.jobId, { sha256: sha, sizeBytes: FIFO_OBJECT.byteLength }),
  });
  await eventually(
    async () =>
      (
        await call<{ status: string }>("GET", `/v1/policies/${policyId}/versions/1`, {
          token: t.reader,
        })
      ).body.status,
    (s) => s === "signed",
  );
  socket.ws.close(1000, "done");
  return policyId;
}

/**
 * A node that behaves like host-agent in dry-run: acks commands, reports `active` after an
 * assign and `stopped` after a revert, and sends `report` (changeable) every 100 ms, which
 * also keeps it from going silent.
 */
export class FakeNode {
  psiPct = 2;
  readonly assignments: Assignment[] = [];
  readonly reverts: string[] = [];
  /** When false, assigns are acked but never become active. */
  activates = true;
  /** When set, assigns are refused as host-agent refuses them: a nack and a `refused` status. */
  refuses: { code: string; message: string } | null = null;
  private running: Assignment | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  private constructor(
    readonly enrolled: EnrolledNode,
    readonly socket: NodeSocket,
  ) {}

  static async start(t: TestTenant, nodeId: string, labels: Record<string, string>) {
    const enrolled = await enroll(t, { nodeId, labels });
    const socket = await connectHello(enrolled.credential, { labels });
    const node = new FakeNode(enrolled, socket);
    node.timer = setInterval(() => node.sendReport(), 100);
    node.sendReport();
    void node.serve();
    return node;
  }

  get nodeId(): string {
    return this.enrolled.nodeId;
  }

  sendReport(): void {
    try {
      this.socket.send({
        type: "telemetry",
        atMs: Date.now(),
        report: pressureReport(this.psiPct),
      });
    } catch {
      this.stop();
    }
  }

  /** Sends a deploy-status about the running assignment. */
  status(state: "ejected" | "reverted" | "failed", reason: string): void {
    const a = this.running ?? this.assignments.at(-1)!;
    this.running = null;
    this.socket.send({
      type: "deploy-status",
      assignmentId: a.assignmentId,
      policyId: a.payload.policyId,
      version: a.payload.version,
      state,
      reason,
      running: null,
      dryRun: true,
      atMs: Date.now(),
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async serve(): Promise<void> {
    for (;;) {
      const frame: ControlFrame = await this.socket.next();
      if (frame.type !== "command") continue;
      const body = frame.body;
      if (body.op === "assign" && this.refuses) {
        const a = body.assignment;
        this.socket.send({
          type: "deploy-status",
          assignmentId: a.assignmentId,
          policyId: a.payload.policyId,
          version: a.payload.version,
          state: "refused",
          reason: `${this.refuses.code}: ${this.refuses.message}`,
          running: null,
          dryRun: true,
          atMs: Date.now(),
        });
        this.socket.send({
          type: "ack",
          commandId: frame.commandId,
          ok: false,
          error: this.refuses,
        });
        continue;
      }
      this.socket.send({ type: "ack", commandId: frame.commandId, ok: true, error: null });
      if (body.op === "assign") {
        this.assignments.push(body.assignment);
        if (!this.activates) continue;
        this.running = body.assignment;
        this.deploy(body.assignment, "active", null);
      } else if (body.op === "revert") {
        this.reverts.push(body.reason);
        const a = this.running;
        if (a && (body.assignmentId === null || body.assignmentId === a.assignmentId)) {
          this.running = null;
          this.deploy(a, "stopped", body.reason);
        }
      }
    }
  }

  private deploy(a: Assignment, state: "active" | "stopped", reason: string | null): void {
    this.socket.send({
      type: "deploy-status",
      assignmentId: a.assignmentId,
      policyId: a.payload.policyId,
      version: a.payload.version,
      state,
      reason,
      running:
        state === "active"
          ? {
              assignmentId: a.assignmentId,
              policyId: a.payload.policyId,
              version: a.payload.version,
            }
          : null,
      dryRun: true,
      atMs: Date.now(),
    });
  }
}
