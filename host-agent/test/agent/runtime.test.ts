import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { runAgent } from "../../src/agent/runtime.js";
import { loadConfig } from "../../src/config.js";
import type { NodeState } from "../../src/state.js";
import { FIXTURES_DIR } from "../helpers.js";
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

async function start(options: { artifactGate?: Promise<void> } = {}) {
  const { key, trust } = await testKey();
  const artifacts = new Map([[sha256(OBJECT), OBJECT]]);
  const cp = await fakeControlPlane({ artifacts, ...options });
  const dir = await mkdtemp(join(tmpdir(), "edgekernel-run-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const config = await loadConfig({
    flags: {
      procRoot: join(FIXTURES_DIR, "scx-node/proc"),
      sysRoot: join(FIXTURES_DIR, "scx-node/sys"),
      artifactDir: join(dir, "artifacts"),
      labels: ["zone=a"],
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
    role: "node",
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
  });
  return { key, cp, dir, printed, lines, controller, running };
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
    expect(s.printed).toEqual([
      expect.stringMatching(/^dry-run: would run bpftool struct_ops register .*\.bpf\.o/),
    ]);
    expect(await readdir(join(s.dir, "artifacts"))).toEqual([`${sha256(OBJECT)}.bpf.o`]);

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
    await until(() => s.printed.length === 1);
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
});
