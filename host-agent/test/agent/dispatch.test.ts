import { describe, expect, it } from "vitest";
import { ArtifactError } from "../../src/agent/artifacts.js";
import {
  CommandDispatcher,
  type CommandFrame,
  type DispatchDeps,
} from "../../src/agent/dispatch.js";
import { DryRunDeployer, interimCheckAssignment } from "../../src/agent/interim.js";
import type { RunVerifyJob } from "../../src/agent/seams.js";
import type { Assignment, NodeFrame, VerifyJob } from "../../src/protocol.js";
import { recorder, signedAssignment, testKey, until } from "./fleet-helpers.js";

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

async function setup(overrides: Partial<DispatchDeps> = {}) {
  const { key, trust } = await testKey();
  const printed: string[] = [];
  const deployer = new DryRunDeployer((line) => printed.push(line));
  const sent: NodeFrame[] = [];
  const stored: string[] = [];
  const downloads: string[] = [];
  const { lines, log } = recorder();
  const deps: DispatchDeps = {
    role: "node",
    deployer,
    check: interimCheckAssignment,
    trust,
    fetchArtifact: async (sha256, maxBytes) => {
      downloads.push(sha256);
      if (OBJECT.byteLength > maxBytes) throw new ArtifactError("too_large", "too large");
      return OBJECT;
    },
    storeArtifact: async (sha256) => {
      stored.push(sha256);
      return `/artifacts/${sha256}.bpf.o`;
    },
    runVerifyJob: null,
    uploadObject: async () => {},
    send: (frame) => sent.push(frame),
    now: Date.now,
    log,
    signal: new AbortController().signal,
    ...overrides,
  };
  deployer.onTransition((t) => sent.push({ type: "deploy-status", ...t }));
  return {
    key,
    deps,
    deployer,
    printed,
    sent,
    stored,
    downloads,
    lines,
    dispatcher: new CommandDispatcher(deps),
  };
}

describe("assign", () => {
  it("downloads, checks and applies a signed assignment, and acks it once", async () => {
    const s = await setup();
    const assignment = await signedAssignment(s.key, OBJECT);
    const ack = await s.dispatcher.handle(assign(assignment));
    expect(ack).toEqual({ type: "ack", commandId: "cmd_a", ok: true, error: null });
    expect(s.downloads).toEqual([assignment.payload.artifactSha256]);
    expect(s.stored).toEqual([assignment.payload.artifactSha256]);
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
    expect(s.printed[0]).toMatch(
      /^dry-run: would run bpftool struct_ops register \/artifacts\/.*\.bpf\.o/,
    );
    // The same command again: the same ack, nothing applied twice.
    expect(await s.dispatcher.handle(assign(assignment))).toBe(ack);
    expect(s.printed).toHaveLength(1);
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
      "a wrong size",
      (a) => ({
        ...a,
        artifact: { kind: "bpf-object", sizeBytes: OBJECT.byteLength + 1, opsName: "fifo" },
      }),
      "hash_mismatch",
    ],
  ];

  it.each(refusals)(
    "refuses %s: nothing loaded, a refused deploy-status, a nack",
    async (_name, tamper, code) => {
      const s = await setup();
      const assignment = await signedAssignment(s.key, OBJECT, { tamper });
      const ack = await s.dispatcher.handle(assign(assignment));
      expect(ack).toMatchObject({ ok: false, error: { code } });
      expect(s.deployer.current()).toBeNull();
      expect(s.printed).toEqual([]);
      expect(s.stored).toEqual([]);
      expect(s.sent).toEqual([
        expect.objectContaining({
          type: "deploy-status",
          state: "refused",
          running: null,
          assignmentId: "asg_1",
        }),
      ]);
    },
  );

  it("refuses an expired assignment and one whose bytes differ from the signed hash", async () => {
    const s = await setup();
    const expired = await signedAssignment(s.key, OBJECT, { expiresAtMs: Date.now() - 1 });
    expect(await s.dispatcher.handle(assign(expired, "cmd_1"))).toMatchObject({
      error: { code: "expired" },
    });
    const other = new TextEncoder().encode("\x7fELF another object!!!!");
    expect(other.byteLength).toBe(OBJECT.byteLength);
    const mismatched = await signedAssignment(s.key, other);
    expect(await s.dispatcher.handle(assign(mismatched, "cmd_2"))).toMatchObject({
      error: { code: "hash_mismatch" },
    });
    expect(s.deployer.current()).toBeNull();
  });

  it("refuses an artifact larger than the assignment says before checking anything", async () => {
    const s = await setup({
      fetchArtifact: async () => {
        throw new ArtifactError("too_large", "the artifact passed 3 bytes");
      },
    });
    const assignment = await signedAssignment(s.key, OBJECT);
    expect(await s.dispatcher.handle(assign(assignment))).toMatchObject({
      ok: false,
      error: { code: "hash_mismatch" },
    });
    expect(s.deployer.current()).toBeNull();
  });

  it("answers a failed download with its code, and a verifier or a build without a backend with a refusal", async () => {
    const failing = await setup({
      fetchArtifact: async () => {
        throw new ArtifactError("download_failed", "HTTP 404");
      },
    });
    const assignment = await signedAssignment(failing.key, OBJECT);
    expect(await failing.dispatcher.handle(assign(assignment))).toMatchObject({
      error: { code: "download_failed" },
    });
    const verifier = await setup({ role: "verifier" });
    expect(await verifier.dispatcher.handle(assign(assignment))).toMatchObject({
      error: { code: "not_allowed" },
    });
    const none = await setup({ deployer: null });
    expect(await none.dispatcher.handle(assign(assignment))).toMatchObject({
      error: { code: "unsupported" },
    });
  });

  it("runs assignments and reverts one at a time, in arrival order", async () => {
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
    ).toEqual(["active:asg_1", "active:asg_2", "stopped:asg_2"]);
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
    expect(s.printed.at(-1)).toMatch(
      /would unregister spol_fifo v1 \(rollback\); back to the kernel's default/,
    );
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
