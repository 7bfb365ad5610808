/**
 * The built-in `sched-agent` type under the scripted model, against real D1, R2, the tenant's
 * Fleet object and nodes on real WebSockets: it observes a node's workload, picks the tenant's
 * policy, sends it to a verifier node, waits, sees it signed, waits for a person's canary,
 * measures again and records the outcome in the repository. Its tools act as the process:
 * what its capabilities leave out is refused, and a policy it submits is its own write.
 */

import { describe, expect, it } from "vitest";
import { BUILTIN_POLICIES } from "../../src/schedcp/bpf/catalog.js";
import { catalogMetadata } from "../../src/schedcp/metadata.js";
import type { TelemetryReport } from "../../src/schedcp/protocol/index.js";
import { send, toolResults } from "../bus/helpers.js";
import { call, ended, type FullProcess, finishTurn, newTenant, spawn, until } from "../helpers.js";
import { report as shaped } from "../schedcp/telemetry-fixtures.js";
import { connectHello, enroll, eventually, keepAlive, type NodeSocket } from "./helpers.js";
import { FakeNode, signedFifo } from "./rollout-helpers.js";
import {
  createFifoCopy,
  FIFO_OBJECT,
  passed,
  sha256Hex,
  takeVerifyJob,
  upload,
} from "./sched-helpers.js";

const turn = (name: string, args: Record<string, unknown>) => ({
  toolCalls: [{ name, arguments: args }],
});

/** Tasks wait for a CPU and switch on every wakeup: latency-sensitive. */
const BEFORE: TelemetryReport = shaped({
  cpus: 2,
  busyPct: 40,
  psiSomePct: 25,
  runDelayUs: 2_000,
  cswPerSec: 10_000,
  timeslices: 4_000,
  top: [["nginx", 30]],
});
/** The same load with a quarter of the run delay. */
const AFTER: TelemetryReport = shaped({
  cpus: 2,
  busyPct: 40,
  psiSomePct: 5,
  runDelayUs: 500,
  cswPerSec: 10_000,
  timeslices: 4_000,
  top: [["nginx", 30]],
});

const WINDOW = 5;

function sendReports(socket: NodeSocket, firstAtMs: number, body: TelemetryReport) {
  for (let i = 0; i < WINDOW; i++) {
    socket.send({ type: "telemetry", atMs: firstAtMs + i * 10_000, report: body });
  }
}

interface Profile {
  class: string | null;
  signals: Array<{ name: string; value: number | null }>;
  window: { reports: number; newestAt: string | null };
}

const runDelay = (p: Profile) => p.signals.find((s) => s.name === "runDelayUs")?.value;

describe("the sched-agent type", () => {
  it("observes, picks, verifies, waits for the canary, measures and records the outcome", async () => {
    const t = await newTenant("sched-agent");
    const node = await enroll(t, { nodeId: "web-1", tokenLabels: { tier: "web" } });
    const nodeSocket = await connectHello(node.credential);
    const verifier = await enroll(t, { role: "verifier", nodeId: "vm-1" });
    const verifierSocket = await connectHello(verifier.credential, { role: "verifier" });
    // The run below takes longer than three heartbeat intervals on a loaded machine.
    const stopHeartbeats = [keepAlive(nodeSocket), keepAlive(verifierSocket)];
    sendReports(nodeSocket, 1_700_000_000_000, BEFORE);
    await eventually(
      () =>
        call<Profile>("GET", `/v1/fleet/nodes/web-1/profile?reports=${WINDOW}`, {
          token: t.reader,
        }),
      (r) => r.body.window.reports === WINDOW,
    );
    const policyId = await createFifoCopy(t, "web-fifo");

    const p = await spawn(t.operator, {
      type: "sched-agent",
      goal: "tune tier=web; a person deploys the canary and messages you",
      script: [
        turn("fleet_nodes", { labels: { tier: "web" } }),
        turn("fleet_profile", { nodeId: "web-1", reports: WINDOW }),
        turn("policy_search", { q: "web-fifo" }),
        turn("policy_get", { id: policyId }),
        turn("policy_verify", { id: policyId, version: 1, workloadMs: 2_000 }),
        turn("recv", { timeoutMs: 3_600_000 }),
        turn("policy_status", { id: policyId, version: 1 }),
        turn("recv", { timeoutMs: 3_600_000 }),
        turn("fleet_profile", { nodeId: "web-1", reports: WINDOW }),
        turn("policy_record_outcome", {
          id: policyId,
          version: 1,
          target: { nodeId: "web-1" },
          workloadClass: "latency-sensitive",
          metricsBefore: { runDelayUs: 2_000 },
          metricsAfter: { runDelayUs: 500 },
          outcome: "improved",
        }),
        finishTurn({ policyId, version: 1, outcome: "improved" }),
      ],
    });
    expect(p.status, JSON.stringify(p.body)).toBe(201);

    // Verify: the job reaches the verifier node; it passes, and the version is signed.
    const { job } = await takeVerifyJob(verifierSocket);
    expect(job).toMatchObject({ policyId, version: 1, workloadMs: 2_000 });
    const sha = await sha256Hex(FIFO_OBJECT);
    expect((await upload(verifier.credential, job.uploadPath, FIFO_OBJECT)).status).toBe(201);
    verifierSocket.send({
      type: "verify-result",
      result: passed(job.jobId, { sha256: sha, sizeBytes: FIFO_OBJECT.byteLength }),
    });
    await eventually(
      () =>
        call<{ status: string }>("GET", `/v1/policies/${policyId}/versions/1`, { token: t.reader }),
      (r) => r.body.status === "signed",
    );
    expect((await send(t.operator, { to: p.body.id, body: "verified" })).status).toBe(202);

    // Canary: a person deploys it (the rollout tools are not offered yet); the node's newer
    // telemetry shows the effect; then the person tells the agent.
    sendReports(nodeSocket, 1_700_001_000_000, AFTER);
    await eventually(
      () =>
        call<Profile>("GET", `/v1/fleet/nodes/web-1/profile?reports=${WINDOW}`, {
          token: t.reader,
        }),
      (r) => runDelay(r.body) === 500,
    );
    expect((await send(t.operator, { to: p.body.id, body: "canary runs on web-1" })).status).toBe(
      202,
    );

    const done = (await until(t.reader, p.body.id, ended, 800)) as FullProcess;
    expect(done.status, JSON.stringify(done)).toBe("exited");
    expect(done.result).toEqual({ policyId, version: 1, outcome: "improved" });

    const results = await toolResults(p.body.id);
    expect(results.filter((r) => r.isError)).toEqual([]);
    expect(results.map((r) => r.tool)).toEqual([
      "fleet_nodes",
      "fleet_profile",
      "policy_search",
      "policy_get",
      "policy_verify",
      "recv",
      "policy_status",
      "recv",
      "fleet_profile",
      "policy_record_outcome",
      "finish",
    ]);
    const [nodes, before, search, got, verify, , status, , after, recorded] = results.map(
      (r) => r.value,
    ) as Array<Record<string, unknown>>;
    expect((nodes!.items as Array<{ id: string }>).map((n) => n.id)).toEqual(["web-1"]);
    const beforeProfile = before as unknown as Profile;
    expect(beforeProfile.class).toBe("latency-sensitive");
    expect(runDelay(beforeProfile)).toBe(2_000);
    expect((search!.items as Array<{ id: string }>).map((i) => i.id)).toContain(policyId);
    expect(got).toMatchObject({ policy: { id: policyId }, version: { version: 1, source: null } });
    expect(verify).toMatchObject({ jobId: job.jobId, nodeId: "vm-1", status: "verifying" });
    expect(status).toMatchObject({ status: "signed", objectSha256: sha });
    expect(status).not.toHaveProperty("source");
    expect(runDelay(after as unknown as Profile)).toBe(500);
    expect(recorded).toMatchObject({
      policyId,
      version: 1,
      targetKind: "node",
      target: "web-1",
      outcome: "improved",
    });

    // The outcome is in the repository's history, where recommendations read it.
    const history = await call<{ items: Array<Record<string, unknown>> }>(
      "GET",
      `/v1/policies/${policyId}/history`,
      { token: t.reader },
    );
    expect(history.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: "performance",
          target: "web-1",
          outcome: "improved",
          workloadClass: "latency-sensitive",
        }),
      ]),
    );
    for (const stop of stopHeartbeats) stop();
    nodeSocket.ws.close();
    verifierSocket.ws.close();
  });

  it("writes a policy as the process through the static checks, and is refused what its capabilities leave out", async () => {
    const t = await newTenant("sched-agent-write");
    const fifo = BUILTIN_POLICIES.find((e) => e.name === "fifo")!;
    const metadata = { ...catalogMetadata(fifo), name: "agent-fifo" };
    const p = await spawn(t.operator, {
      type: "sched-agent",
      goal: "write a policy",
      capabilities: ["proc.finish", "fleet.observe", "sched.read", "sched.submit"],
      script: [
        turn("policy_submit", { ...metadata, source: "int main(void) { return 0; }" }),
        turn("policy_submit", { ...metadata, source: fifo.source }),
        turn("fleet_profile", { nodeId: "nope-1" }),
        turn("policy_verify", { id: "spol_x", version: 1 }),
        turn("policy_record_outcome", {
          id: "spol_x",
          version: 1,
          target: { nodeId: "nope-1" },
          workloadClass: "idle",
          metricsBefore: {},
          metricsAfter: {},
          outcome: "neutral",
        }),
        finishTurn("done"),
      ],
    });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const done = await until(t.reader, p.body.id, ended, 800);
    expect(done.status).toBe("exited");
    const [broken, stored, missing, verify, record] = await toolResults(p.body.id);
    // The static checks refuse the source, naming what is wrong; nothing is stored.
    expect(broken).toMatchObject({ tool: "policy_submit", isError: true });
    expect(broken!.value.code).toBe("static_check_failed");
    expect(JSON.stringify(broken!.value.errors)).toContain("source");
    expect(stored).toMatchObject({
      tool: "policy_submit",
      isError: false,
      value: { policy: { name: "agent-fifo" }, version: { version: 1, status: "checked" } },
    });
    expect(missing).toMatchObject({
      tool: "fleet_profile",
      isError: true,
      value: { code: "not_found" },
    });
    // Left out of the process's capabilities: refused by the gate before the tool runs.
    expect(verify?.isError).toBe(true);
    expect(JSON.stringify(verify?.value)).toContain("sched.verify");
    expect(record?.isError).toBe(true);
    expect(JSON.stringify(record?.value)).toContain("sched.record");

    const policies = await call<{ items: Array<{ name: string; id: string }> }>(
      "GET",
      "/v1/policies?q=agent-fifo",
      { token: t.reader },
    );
    const mine = policies.body.items.find((i) => i.name === "agent-fifo");
    expect(mine).toBeDefined();
    const version = await call<{ createdBy: string }>(
      "GET",
      `/v1/policies/${mine!.id}/versions/1`,
      { token: t.reader },
    );
    expect(version.body.createdBy).toBe(p.body.id);
  });

  it("canaries through a rollout once a person approves the call; rollout_status answers an unknown rollout as missing", async () => {
    const t = await newTenant("sched-agent-canary");
    const fleet = [
      await FakeNode.start(t, "sa-0", { tier: "web" }),
      await FakeNode.start(t, "sa-1", { tier: "web" }),
    ];
    try {
      const policyId = await signedFifo(t);
      // sched.deploy is a high-risk built-in: the tenant entitles the type to it.
      const grant = await call("POST", "/v1/entitlements", {
        token: t.admin,
        body: { agentType: "sched-agent", capability: "sched.deploy" },
      });
      expect(grant.status).toBe(201);
      const p = await spawn(t.operator, {
        type: "sched-agent",
        goal: "canary the signed fifo on tier=web",
        script: [
          turn("rollout_start", {
            policyId,
            version: 1,
            target: { labels: { tier: "web" } },
            canaryFraction: 0.5,
            healthWindowMs: 60_000,
          }),
          turn("rollout_status", { id: "rol_nope" }),
          finishTurn("canary started"),
        ],
      });
      expect(p.status, JSON.stringify(p.body)).toBe(201);
      // The gate parks the process on a person's approval; nothing rolls out before it.
      const waiting = (await until(
        t.reader,
        p.body.id,
        (x) => (x as FullProcess).waitingOn?.kind === "approval",
      )) as FullProcess;
      const before = await call<{ items: unknown[] }>("GET", "/v1/rollouts", { token: t.reader });
      expect(before.body.items).toEqual([]);
      const approve = await call("POST", `/v1/approvals/${waiting.waitingOn!.approvalId}/approve`, {
        token: t.operator,
        body: { reason: "canary window" },
      });
      expect(approve.status).toBe(200);
      const done = (await until(t.reader, p.body.id, ended, 800)) as FullProcess;
      expect(done).toMatchObject({ status: "exited", result: "canary started" });

      const [started, status] = await toolResults(p.body.id);
      expect(started).toMatchObject({
        tool: "rollout_start",
        isError: false,
        value: { policyId, version: 1, phase: "canary", createdBy: p.body.id },
      });
      const rolloutId = started!.value.rolloutId as string;
      expect(status).toMatchObject({
        tool: "rollout_status",
        isError: true,
        value: { code: "not_found" },
      });
      const listed = await call<{ items: Array<{ rolloutId: string }> }>("GET", "/v1/rollouts", {
        token: t.reader,
      });
      expect(listed.body.items.map((r) => r.rolloutId)).toEqual([rolloutId]);
      await eventually(
        () =>
          call<{ nodes: Array<{ state: string }> }>("GET", `/v1/rollouts/${rolloutId}`, {
            token: t.reader,
          }),
        (r) => r.body.nodes.some((n) => n.state === "active"),
      );
    } finally {
      for (const n of fleet) n.stop();
    }
  });
});
