import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { runAgent } from "../../src/agent/runtime.js";
import type { RunVerifyJob } from "../../src/agent/seams.js";
import { loadConfig } from "../../src/config.js";
import type { VerifyJob } from "../../src/protocol.js";
import type { NodeState } from "../../src/state.js";
import { copyFixture, FIXTURES_DIR } from "../helpers.js";
import {
  fakeControlPlane,
  recorder,
  sha256,
  signedAssignment,
  testKey,
  until,
  WELCOME,
} from "./fleet-helpers.js";

const OBJECT = new TextEncoder().encode("\x7fELF object served by the control plane");

async function start(
  options: {
    artifactGate?: Promise<void>;
    role?: "node" | "verifier";
    runVerifyJob?: RunVerifyJob;
    procRoot?: string;
  } = {},
) {
  const { key, trust } = await testKey();
  const artifacts = new Map([[sha256(OBJECT), OBJECT]]);
  const uploads: Array<{ path: string; bytes: Buffer }> = [];
  const cp = await fakeControlPlane({
    artifacts,
    uploads,
    ...(options.artifactGate ? { artifactGate: options.artifactGate } : {}),
  });
  const dir = await mkdtemp(join(tmpdir(), "edgekernel-run-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const config = await loadConfig({
    flags: {
      procRoot: options.procRoot ?? join(FIXTURES_DIR, "scx-node/proc"),
      sysRoot: join(FIXTURES_DIR, "scx-node/sys"),
      artifactDir: join(dir, "artifacts"),
      labels: ["zone=a"],
      role: options.role ?? "node",
      dryRun: true,
      intervalMs: "100",
    },
    env: {},
    cwd: dir,
  });
  const state: NodeState = {
    version: 1,
    controlPlaneUrl: cp.url,
    tenantId: "ten_1",
    nodeId: "n1",
    role: options.role ?? "node",
    credential: "nk_secret",
    signingPublicKey: trust.publicKey,
    keyId: trust.keyId,
    enrolledAtMs: 0,
  };
  const controller = new AbortController();
  onTestFinished(() => controller.abort());
  const printed: string[] = [];
  const { lines, log } = recorder();
  const running = runAgent({
    config,
    state,
    print: (line) => printed.push(line),
    log,
    signal: controller.signal,
    backoff: { baseDelayMs: 5, maxDelayMs: 20, stableAfterMs: 60_000 },
    ...(options.runVerifyJob ? { runVerifyJob: options.runVerifyJob } : {}),
  });
  return { key, cp, dir, printed, lines, controller, running, uploads };
}

describe("edgekernel-host run", () => {
  it("says hello with its facts, streams telemetry, applies a signed assignment in dry-run and reverts it", async () => {
    const s = await start();
    const side = await s.cp.nextConnection();
    expect(await side.next()).toMatchObject({
      type: "hello",
      role: "node",
      labels: { zone: "a" },
      dryRun: true,
      running: null,
      facts: { hostname: "scx-node-1", schedExt: { state: "enabled", ops: "fifo" } },
    });
    side.send(WELCOME);
    expect(await side.next("telemetry")).toMatchObject({
      type: "telemetry",
      report: { warnings: expect.any(Array) },
    });

    const assignment = await signedAssignment(s.key, OBJECT);
    side.send({
      type: "command",
      commandId: "cmd_1",
      deadlineAtMs: Date.now() + 30_000,
      body: { op: "assign", assignment },
    });
    expect(await side.next("ack")).toEqual({
      type: "ack",
      commandId: "cmd_1",
      ok: true,
      error: null,
    });
    expect(side.frames.find((f) => f.type === "deploy-status")).toMatchObject({
      state: "active",
      assignmentId: "asg_1",
      dryRun: true,
    });
    // The real deploy module's dry-run backend: what it would write and run, nothing done.
    expect(s.printed).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[dry-run\] would write \d+ bytes to .*\.bpf\.o$/),
        expect.stringMatching(
          /^\[dry-run\] would run: bpftool struct_ops register .*\.bpf\.o \/sys\/fs\/bpf\/edgekernel\/asg_1$/,
        ),
      ]),
    );
    await expect(readdir(join(s.dir, "artifacts"))).rejects.toThrow(/ENOENT/);

    side.send({
      type: "command",
      commandId: "cmd_2",
      deadlineAtMs: Date.now() + 30_000,
      body: { op: "revert", assignmentId: null, reason: "rollback" },
    });
    expect(await side.next("ack")).toMatchObject({ commandId: "cmd_2", ok: true });
    // The transition goes up before the ack that reports it.
    expect(side.frames.filter((f) => f.type === "deploy-status").at(-1)).toMatchObject({
      state: "stopped",
      running: null,
    });
    s.controller.abort();
    expect(await s.running).toBe("stopped");
  });

  it("keeps acks and transitions that happen while disconnected, and sends them after the next welcome", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const s = await start({ artifactGate: gate });
    const first = await s.cp.nextConnection();
    await first.next("hello");
    first.send(WELCOME);
    await first.next("telemetry");
    const assignment = await signedAssignment(s.key, OBJECT);
    first.send({
      type: "command",
      commandId: "cmd_1",
      deadlineAtMs: Date.now() + 30_000,
      body: { op: "assign", assignment },
    });
    // The node is downloading; the control plane goes away before it answers.
    first.socket.terminate();
    const second = await s.cp.nextConnection();
    const hello = await second.next("hello");
    expect(hello).toMatchObject({ running: null });
    release();
    await until(() => s.printed.some((line) => /struct_ops register/.test(line)));
    expect(second.frames.some((f) => f.type === "ack")).toBe(false);
    second.send(WELCOME);
    expect(await second.next("deploy-status")).toMatchObject({ state: "active" });
    expect(await second.next("ack")).toMatchObject({ commandId: "cmd_1", ok: true });
    // What runs is in the hello of every later connection.
    second.socket.terminate();
    const third = await s.cp.nextConnection();
    expect(await third.next("hello")).toMatchObject({ running: { assignmentId: "asg_1" } });
    s.controller.abort();
    await s.running;
  });

  it("stops with revoked when the control plane revokes the credential", async () => {
    const s = await start();
    const side = await s.cp.nextConnection();
    side.send(WELCOME);
    side.socket.close(4401, "credential_revoked");
    expect(await s.running).toBe("revoked");
  });

  it("reverts on its own when a guard's metric regresses, and reports it as a deploy-status", async () => {
    const tree = await copyFixture("scx-node");
    const s = await start({ procRoot: tree.procRoot });
    const side = await s.cp.nextConnection();
    await side.next("hello");
    side.send(WELCOME);
    // Reports before the deploy make the guard's baseline (PSI some avg10 = 12.5 here).
    await side.next("telemetry");
    await side.next("telemetry");
    const assignment = await signedAssignment(s.key, OBJECT, {
      tamper: (a) => a,
      guards: [{ metric: "psiSomeAvg10Pct", maxIncreasePct: 50, floor: 5, sustainMs: 0 }],
    });
    side.send({
      type: "command",
      commandId: "cmd_1",
      deadlineAtMs: Date.now() + 30_000,
      body: { op: "assign", assignment },
    });
    expect(await side.next("ack")).toMatchObject({ ok: true });
    expect(side.frames.find((f) => f.type === "deploy-status")).toMatchObject({ state: "active" });
    await tree.write(
      "proc/pressure/cpu",
      "some avg10=80.00 avg60=20.00 avg300=5.00 total=90000000\nfull avg10=1.00 avg60=0.50 avg300=0.10 total=4000000\n",
    );
    expect(await side.next("deploy-status")).toMatchObject({
      state: "reverted",
      assignmentId: "asg_1",
      running: null,
      reason: expect.stringMatching(/^guard psiSomeAvg10Pct: 80 against a baseline of 12\.5/),
    });
    s.controller.abort();
    await s.running;
  });

  it("as a verifier: acks a job at once, runs it, uploads the object, then sends verify-result", async () => {
    const jobs: VerifyJob[] = [];
    const s = await start({
      role: "verifier",
      runVerifyJob: async (job) => {
        jobs.push(job);
        return {
          result: {
            jobId: job.jobId,
            ok: true,
            stages: [],
            loaded: true,
            tasksScheduled: 2,
            ejected: false,
            ejectionReason: null,
            unloadedCleanly: true,
            kernelRelease: "7.3.0-1-cloud-amd64",
            object: { sha256: sha256(OBJECT), sizeBytes: OBJECT.byteLength },
          },
          object: OBJECT,
        };
      },
    });
    const side = await s.cp.nextConnection();
    expect(await side.next("hello")).toMatchObject({ role: "verifier" });
    side.send(WELCOME);
    const job: VerifyJob = {
      jobId: "vjob_1",
      policyId: "spol_fifo",
      version: 1,
      source: "/* bpf */",
      parameters: {},
      opsName: "fifo",
      workloadMs: 1_000,
      uploadPath: "/v1/fleet/verify-jobs/vjob_1/object",
    };
    side.send({
      type: "command",
      commandId: "cmd_v",
      deadlineAtMs: Date.now() + 30_000,
      body: { op: "verify", job },
    });
    expect(await side.next("ack")).toMatchObject({ commandId: "cmd_v", ok: true });
    expect(await side.next("verify-result")).toMatchObject({
      result: { jobId: "vjob_1", ok: true, tasksScheduled: 2 },
    });
    expect(jobs).toEqual([job]);
    expect(s.uploads).toEqual([{ path: job.uploadPath, bytes: Buffer.from(OBJECT) }]);
    // A verifier runs no assignment.
    side.send({
      type: "command",
      commandId: "cmd_a",
      deadlineAtMs: Date.now() + 30_000,
      body: { op: "assign", assignment: await signedAssignment(s.key, OBJECT) },
    });
    expect(await side.next("ack")).toMatchObject({ ok: false, error: { code: "not_allowed" } });
    s.controller.abort();
    await s.running;
  });
});
