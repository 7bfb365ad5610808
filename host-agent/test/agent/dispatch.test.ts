import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ArtifactError } from "../../src/agent/artifacts.js";
import {
  CommandDispatcher,
  type CommandFrame,
  type DispatchDeps,
} from "../../src/agent/dispatch.js";
import type { RunVerifyJob } from "../../src/agent/seams.js";
import { deployAssignment } from "../../src/deploy/assignment-path.js";
import { createDeployer } from "../../src/deploy/deployer.js";
import { deployStatusFrame } from "../../src/deploy/status.js";
import type { Assignment, NodeFrame, VerifyJob } from "../../src/protocol.js";
import { FakeKernel } from "../deploy/fake-kernel.js";
import { copyFixture } from "../helpers.js";
import { recorder, sha256, signedAssignment, testKey, until } from "./fleet-helpers.js";

/*
 * The dispatcher over the real deploy module: createDeployer (its dry-run backend, or the
 * BPF-object backend on a fake kernel that records every command) behind deployAssignment.
 */

const OBJECT = new TextEncoder().encode("\x7fELF pretend BPF object");

function assign(assignment: Assignment, id = "cmd_a"): CommandFrame {
  return {
    type: "command",
    commandId: id,
    deadlineAtMs: Date.now() + 30_000,
    body: { op: "assign", assignment },
  };
}

const JOB: VerifyJob = {
  jobId: "vjob_1",
  policyId: "spol_fifo",
  version: 1,
  source: "/* bpf */",
  parameters: {},
  opsName: "fifo",
  workloadMs: 1000,
  uploadPath: "/v1/fleet/verify/vjob_1/object",
};

async function setup(
  options: {
    dryRun?: boolean;
    fetchArtifact?: (sha256: string, maxBytes: number) => Promise<Uint8Array>;
  } & Partial<DispatchDeps> = {},
) {
  const { key, trust } = await testKey();
  const dryRun = options.dryRun ?? true;
  const tree = await copyFixture("scx-node");
  const kernel = new FakeKernel(tree.sysRoot);
  await kernel.setState("disabled", null);
  const artifactDir = join(tree.dir, "artifacts");
  kernel.objects = { [join(artifactDir, `${sha256(OBJECT)}.bpf.o`)]: { opsName: "fifo" } };
  const printed: string[] = [];
  const deployer = createDeployer({
    executor: kernel,
    sysRoot: tree.sysRoot,
    bpffsDir: join(tree.dir, "bpffs"),
    dryRun,
    pollIntervalMs: 0,
    settleTimeoutMs: 200,
    sleep: async () => {},
    log: (line) => printed.push(line),
  });
  const sent: NodeFrame[] = [];
  const downloads: Array<{ sha256: string; maxBytes: number }> = [];
  const fetchArtifact =
    options.fetchArtifact ??
    (async (_sha: string, maxBytes: number) => {
      if (OBJECT.byteLength > maxBytes) throw new ArtifactError("too_large", "too large");
      return OBJECT;
    });
  const { lines, log } = recorder();
  const deps: DispatchDeps = {
    role: "node",
    deployer,
    deploy: (assignment) => {
      const a = assignment as Assignment;
      const maxBytes = a.artifact?.kind === "bpf-object" ? a.artifact.sizeBytes : 0;
      return deployAssignment(assignment, {
        deployer,
        executor: kernel,
        trust: {
          publicKey: new Uint8Array(Buffer.from(trust.publicKey, "base64url")),
          keyId: trust.keyId,
        },
        fetchArtifact: (sha) => {
          downloads.push({ sha256: sha, maxBytes });
          return fetchArtifact(sha, maxBytes);
        },
        artifactDir,
        log: (line) => printed.push(line),
      });
    },
    runVerifyJob: null,
    uploadObject: async () => {},
    send: (frame) => sent.push(frame),
    log,
    signal: new AbortController().signal,
    ...options,
  };
  deployer.onTransition((t) => sent.push(deployStatusFrame(t)));
  return {
    key,
    deps,
    deployer,
    kernel,
    printed,
    sent,
    downloads,
    lines,
    dispatcher: new CommandDispatcher(deps),
  };
}

const wouldRun = (printed: string[]) => printed.filter((l) => l.startsWith("[dry-run]"));

describe("assign", () => {
  it("in dry-run: checks and applies a signed assignment, says what it would run, acks once", async () => {
    const s = await setup();
    const assignment = await signedAssignment(s.key, OBJECT);
    const ack = await s.dispatcher.handle(assign(assignment));
    expect(ack).toEqual({ type: "ack", commandId: "cmd_a", ok: true, error: null });
    expect(s.downloads).toEqual([
      { sha256: assignment.payload.artifactSha256, maxBytes: OBJECT.byteLength },
    ]);
    expect(s.deployer.current()).toEqual({
      assignmentId: "asg_1",
      policyId: "spol_fifo",
      version: 1,
    });
    expect(s.sent).toEqual([
      expect.objectContaining({
        type: "deploy-status",
        state: "active",
        dryRun: true,
        running: s.deployer.current(),
      }),
    ]);
    expect(wouldRun(s.printed).join("\n")).toMatch(
      /would write \d+ bytes to .*\.bpf\.o[\s\S]*would run: bpftool struct_ops register .*\.bpf\.o/,
    );
    // Dry-run touches nothing: no command ran, no file was written.
    expect(s.kernel.calls).toEqual([]);
    expect(s.kernel.writes).toEqual([]);
    // The same command again: the same ack, nothing applied twice.
    const lines = s.printed.length;
    expect(await s.dispatcher.handle(assign(assignment))).toBe(ack);
    expect(s.printed).toHaveLength(lines);
  });

  it("for real: writes the object by its hash and registers it with bpftool", async () => {
    const s = await setup({ dryRun: false });
    const assignment = await signedAssignment(s.key, OBJECT);
    expect(await s.dispatcher.handle(assign(assignment))).toMatchObject({ ok: true });
    expect(s.kernel.writes).toEqual([expect.stringMatching(/artifacts\/[0-9a-f]{64}\.bpf\.o$/)]);
    expect(s.kernel.calls.some((c) => c[0] === "bpftool" && c[2] === "register")).toBe(true);
    expect(s.sent.at(-1)).toMatchObject({ state: "active", dryRun: false });
  });

  const refusals: Array<[string, (a: Assignment) => Assignment, string]> = [
    [
      "a changed payload",
      (a) => ({ ...a, payload: { ...a.payload, version: 2 } }),
      "bad_signature",
    ],
    ["another key's id", (a) => ({ ...a, keyId: "0123456789abcdef" }), "bad_signature"],
    ["a forged signature", (a) => ({ ...a, signature: "A".repeat(86) }), "bad_signature"],
    [
      "a changed artifact hash",
      (a) => ({ ...a, payload: { ...a.payload, artifactSha256: "0".repeat(64) } }),
      "bad_signature",
    ],
  ];

  for (const dryRun of [true, false]) {
    it.each(refusals)(
      `refuses %s (dry-run ${dryRun}): nothing downloaded or loaded, a refused deploy-status, a nack`,
      async (_name, tamper, code) => {
        const s = await setup({ dryRun });
        const assignment = await signedAssignment(s.key, OBJECT, { tamper });
        const ack = await s.dispatcher.handle(assign(assignment));
        expect(ack).toMatchObject({ ok: false, error: { code } });
        expect(s.deployer.current()).toBeNull();
        expect(s.downloads).toEqual([]);
        expect(wouldRun(s.printed)).toEqual([]);
        expect(s.kernel.calls).toEqual([]);
        expect(s.kernel.writes).toEqual([]);
        expect(s.sent).toEqual([
          expect.objectContaining({
            type: "deploy-status",
            state: "refused",
            running: null,
            assignmentId: "asg_1",
            reason: expect.stringMatching(new RegExp(`^${code}: `)),
          }),
        ]);
      },
    );

    it(`refuses an expired assignment and one whose bytes differ from the signed hash (dry-run ${dryRun})`, async () => {
      const s = await setup({ dryRun });
      const expired = await signedAssignment(s.key, OBJECT, { expiresAtMs: Date.now() - 1 });
      expect(await s.dispatcher.handle(assign(expired, "cmd_1"))).toMatchObject({
        error: { code: "expired" },
      });
      expect(s.downloads).toEqual([]);
      const other = new TextEncoder().encode("\x7fELF another object!!!!");
      expect(other.byteLength).toBe(OBJECT.byteLength);
      const mismatched = await signedAssignment(s.key, other);
      expect(await s.dispatcher.handle(assign(mismatched, "cmd_2"))).toMatchObject({
        error: { code: "hash_mismatch" },
      });
      expect(s.deployer.current()).toBeNull();
      expect(wouldRun(s.printed)).toEqual([]);
      expect(s.kernel.calls).toEqual([]);
      expect(s.kernel.writes).toEqual([]);
      expect(s.sent.map((f) => (f.type === "deploy-status" ? f.state : f.type))).toEqual([
        "refused",
        "refused",
      ]);
    });
  }

  it("refuses an artifact larger than the signed size, and a failed download, loading nothing", async () => {
    const big = await setup({
      fetchArtifact: async () => {
        throw new ArtifactError("too_large", "the artifact passed 3 bytes");
      },
    });
    const assignment = await signedAssignment(big.key, OBJECT);
    expect(await big.dispatcher.handle(assign(assignment))).toMatchObject({
      ok: false,
      error: { code: "malformed", message: expect.stringMatching(/passed 3 bytes/) },
    });
    expect(big.deployer.current()).toBeNull();
    const failing = await setup({
      fetchArtifact: async () => {
        throw new ArtifactError("download_failed", "HTTP 404");
      },
    });
    expect(
      await failing.dispatcher.handle(assign(await signedAssignment(failing.key, OBJECT))),
    ).toMatchObject({ error: { code: "malformed", message: expect.stringMatching(/HTTP 404/) } });
    expect(failing.sent).toEqual([expect.objectContaining({ state: "refused" })]);
  });

  it("refuses assignments on a verifier and on a node without a deploy path", async () => {
    const verifier = await setup({ role: "verifier" });
    const assignment = await signedAssignment(verifier.key, OBJECT);
    expect(await verifier.dispatcher.handle(assign(assignment))).toMatchObject({
      error: { code: "not_allowed" },
    });
    const none = await setup({ deploy: null });
    expect(await none.dispatcher.handle(assign(assignment))).toMatchObject({
      error: { code: "unsupported" },
    });
  });

  it("runs assignments and reverts one at a time, in arrival order; a revert restores the previous", async () => {
    const s = await setup();
    const first = await signedAssignment(s.key, OBJECT, { id: "asg_1" });
    const second = await signedAssignment(s.key, OBJECT, { id: "asg_2" });
    const acks = await Promise.all([
      s.dispatcher.handle(assign(first, "cmd_1")),
      s.dispatcher.handle(assign(second, "cmd_2")),
      s.dispatcher.handle({
        type: "command",
        commandId: "cmd_3",
        deadlineAtMs: 0,
        body: { op: "revert", assignmentId: null, reason: "back" },
      }),
    ]);
    expect(acks.map((a) => a.ok)).toEqual([true, true, true]);
    expect(
      s.sent.map((f) => (f.type === "deploy-status" ? `${f.state}:${f.assignmentId}` : f.type)),
    ).toEqual(["active:asg_1", "stopped:asg_1", "active:asg_2", "stopped:asg_2", "active:asg_1"]);
    expect(s.deployer.current()?.assignmentId).toBe("asg_1");
  });
});

describe("revert", () => {
  it("takes off only the named assignment, and acks either way", async () => {
    const s = await setup();
    await s.dispatcher.handle(assign(await signedAssignment(s.key, OBJECT)));
    const stale = await s.dispatcher.handle({
      type: "command",
      commandId: "cmd_r1",
      deadlineAtMs: 0,
      body: { op: "revert", assignmentId: "asg_other", reason: "x" },
    });
    expect(stale.ok).toBe(true);
    expect(s.deployer.current()?.assignmentId).toBe("asg_1");
    await s.dispatcher.handle({
      type: "command",
      commandId: "cmd_r2",
      deadlineAtMs: 0,
      body: { op: "revert", assignmentId: "asg_1", reason: "rollback" },
    });
    expect(s.deployer.current()).toBeNull();
    expect(s.sent.at(-1)).toMatchObject({
      type: "deploy-status",
      state: "stopped",
      reason: "rollback",
      running: null,
    });
    expect(wouldRun(s.printed).at(-1)).toMatch(/would wait for .*state = disabled/);
  });
});

describe("verify", () => {
  it("acks at once, runs the job, uploads the object, then sends verify-result", async () => {
    const uploads: Array<{ path: string; bytes: Uint8Array }> = [];
    let finish: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const runVerifyJob: RunVerifyJob = async (job) => {
      await gate;
      return {
        result: {
          jobId: job.jobId,
          ok: true,
          stages: [],
          loaded: true,
          tasksScheduled: 5,
          ejected: false,
          ejectionReason: null,
          unloadedCleanly: true,
          kernelRelease: "6.12",
          object: { sha256: "e".repeat(64), sizeBytes: 3 },
        },
        object: new Uint8Array([1, 2, 3]),
      };
    };
    const s = await setup({
      role: "verifier",
      runVerifyJob,
      uploadObject: async (path, bytes) => {
        uploads.push({ path, bytes });
      },
    });
    const verify: CommandFrame = {
      type: "command",
      commandId: "cmd_v",
      deadlineAtMs: 0,
      body: { op: "verify", job: JOB },
    };
    expect(await s.dispatcher.handle(verify)).toMatchObject({ ok: true });
    // A second job while the first runs is refused as busy.
    expect(await s.dispatcher.handle({ ...verify, commandId: "cmd_v2" })).toMatchObject({
      error: { code: "busy" },
    });
    expect(s.sent).toEqual([]);
    finish();
    await until(() => s.sent.length === 1);
    expect(uploads).toEqual([{ path: JOB.uploadPath, bytes: new Uint8Array([1, 2, 3]) }]);
    expect(s.sent[0]).toMatchObject({
      type: "verify-result",
      result: { jobId: "vjob_1", ok: true },
    });
  });

  it("reports a failed upload or a broken runner in the result, and refuses on the wrong role", async () => {
    const s = await setup({
      role: "verifier",
      runVerifyJob: async (job) => ({
        result: {
          jobId: job.jobId,
          ok: true,
          stages: [],
          loaded: true,
          tasksScheduled: 1,
          ejected: false,
          ejectionReason: null,
          unloadedCleanly: true,
          kernelRelease: null,
          object: { sha256: "f".repeat(64), sizeBytes: 1 },
        },
        object: new Uint8Array([9]),
      }),
      uploadObject: async () => {
        throw new Error("HTTP 500");
      },
    });
    await s.dispatcher.handle({
      type: "command",
      commandId: "cmd_v",
      deadlineAtMs: 0,
      body: { op: "verify", job: JOB },
    });
    await until(() => s.sent.length === 1);
    expect(s.sent[0]).toMatchObject({ result: { ok: false, object: null } });

    const broken = await setup({
      role: "verifier",
      runVerifyJob: async () => {
        throw new Error("qemu died");
      },
    });
    await broken.dispatcher.handle({
      type: "command",
      commandId: "cmd_v",
      deadlineAtMs: 0,
      body: { op: "verify", job: JOB },
    });
    await until(() => broken.sent.length === 1);
    expect(broken.sent[0]).toMatchObject({ result: { jobId: "vjob_1", ok: false, loaded: false } });

    const node = await setup();
    expect(
      await node.dispatcher.handle({
        type: "command",
        commandId: "cmd_v",
        deadlineAtMs: 0,
        body: { op: "verify", job: JOB },
      }),
    ).toMatchObject({ error: { code: "not_allowed" } });
    const unbuilt = await setup({ role: "verifier" });
    expect(
      await unbuilt.dispatcher.handle({
        type: "command",
        commandId: "cmd_v",
        deadlineAtMs: 0,
        body: { op: "verify", job: JOB },
      }),
    ).toMatchObject({ error: { code: "unsupported" } });
  });
});
