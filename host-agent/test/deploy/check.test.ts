import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployAssignment } from "../../src/deploy/assignment-path.js";
import { checkAssignment, checkSignature } from "../../src/deploy/check.js";
import { createDeployer } from "../../src/deploy/deployer.js";
import type { Transition } from "../../src/deploy/types.js";
import type { Assignment } from "../../src/protocol.js";
import { copyFixture } from "../helpers.js";
import { FakeKernel } from "./fake-kernel.js";
import { makeSigner, sign, signedBpfAssignment, signedScxAssignment } from "./signing.js";

const OBJECT = new TextEncoder().encode("\x7fELF pretend BPF object");

/** Flips one character of a base64url signature, keeping it well-formed. */
function tamper(signature: string): string {
  const i = 10;
  return signature.slice(0, i) + (signature[i] === "A" ? "B" : "A") + signature.slice(i + 1);
}

describe("checkAssignment", () => {
  it("accepts a signed, current assignment whose object matches its hash", async () => {
    const signer = await makeSigner();
    const assignment = await signedBpfAssignment(signer, OBJECT);
    const result = await checkAssignment(assignment, {
      trust: { publicKey: signer.publicKey, keyId: signer.keyId },
      nowMs: Date.now(),
      artifactBytes: OBJECT,
    });
    expect(result).toEqual({ ok: true, assignment });
  });

  it("refuses a tampered signature, a changed payload, another key, and another key id", async () => {
    const signer = await makeSigner();
    const other = await makeSigner();
    const assignment = await signedBpfAssignment(signer, OBJECT);
    const trust = { publicKey: signer.publicKey, keyId: signer.keyId };
    const check = (a: unknown, t = trust) =>
      checkAssignment(a, { trust: t, nowMs: Date.now(), artifactBytes: OBJECT });

    expect(await check({ ...assignment, signature: tamper(assignment.signature) })).toEqual({
      ok: false,
      code: "bad_signature",
      message: "the Ed25519 signature does not verify",
    });
    const raised = {
      ...assignment,
      payload: { ...assignment.payload, parameters: { slice_us: 1 } },
    };
    expect((await check(raised)).ok).toBe(false);
    expect(
      await check(assignment, { publicKey: other.publicKey, keyId: signer.keyId }),
    ).toMatchObject({ code: "bad_signature" });
    expect(await check(assignment, { publicKey: signer.publicKey, keyId: other.keyId })).toEqual({
      ok: false,
      code: "bad_signature",
      message: `signed by key ${signer.keyId}, this node trusts ${other.keyId}`,
    });
  });

  it("refuses an assignment at and after its expiry, not a millisecond before", async () => {
    const signer = await makeSigner();
    const assignment = await signedBpfAssignment(signer, OBJECT, { expiresAtMs: 1_000_000 });
    const at = (nowMs: number) =>
      checkAssignment(assignment, {
        trust: { publicKey: signer.publicKey },
        nowMs,
        artifactBytes: OBJECT,
      });
    expect((await at(999_999)).ok).toBe(true);
    expect(await at(1_000_000)).toMatchObject({ ok: false, code: "expired" });
  });

  it("refuses an object whose SHA-256 differs from the signed one, or no object at all", async () => {
    const signer = await makeSigner();
    const assignment = await signedBpfAssignment(signer, OBJECT);
    const evil = new TextEncoder().encode("\x7fELF pretend BPF objecT");
    const result = await checkAssignment(assignment, {
      trust: { publicKey: signer.publicKey },
      nowMs: Date.now(),
      artifactBytes: evil,
    });
    expect(result).toMatchObject({ ok: false, code: "hash_mismatch" });
    const none = await checkAssignment(assignment, {
      trust: { publicKey: signer.publicKey },
      nowMs: Date.now(),
    });
    expect(none).toMatchObject({ ok: false, code: "malformed" });
  });

  it("for an scx binary, hashes canonicalJson(artifact) and applies the allow-list's bounds", async () => {
    const signer = await makeSigner();
    const allow = {
      scx_rusty: {
        path: "/usr/bin/scx_rusty",
        parameters: {
          slice_us: { type: "int" as const, flag: "--slice-us", min: 1000, max: 100000 },
        },
      },
    };
    const ok = await signedScxAssignment(signer, "scx_rusty", { slice_us: 5000 });
    const trust = { publicKey: signer.publicKey };
    expect((await checkAssignment(ok, { trust, nowMs: Date.now(), scxAllowList: allow })).ok).toBe(
      true,
    );
    // Renaming the binary breaks the hash even with the signature left alone.
    const renamed = { ...ok, artifact: { kind: "scx-binary", binary: "scx_lavd" } };
    expect(
      await checkAssignment(renamed, { trust, nowMs: Date.now(), scxAllowList: allow }),
    ).toMatchObject({ code: "hash_mismatch" });
    const tooBig = await signedScxAssignment(signer, "scx_rusty", { slice_us: 100001 });
    expect(
      await checkAssignment(tooBig, { trust, nowMs: Date.now(), scxAllowList: allow }),
    ).toEqual({
      ok: false,
      code: "not_allowed",
      message: "slice_us=100001 is outside 1000..100000",
    });
    const lavd = await signedScxAssignment(signer, "scx_lavd", {});
    expect(
      await checkAssignment(lavd, { trust, nowMs: Date.now(), scxAllowList: allow }),
    ).toMatchObject({ code: "not_allowed" });
  });

  it("calls a structurally invalid assignment malformed, naming the field", async () => {
    const signer = await makeSigner();
    const assignment = await signedBpfAssignment(signer, OBJECT);
    const result = await checkSignature(
      { ...assignment, signature: "short" },
      { trust: { publicKey: signer.publicKey }, nowMs: 0 },
    );
    expect(result).toMatchObject({ ok: false, code: "malformed" });
    if (!result.ok) expect(result.message).toMatch(/^signature: /);
  });
});

describe("deployAssignment: nothing unsigned, expired or tampered is ever loaded", () => {
  async function node() {
    const tree = await copyFixture("scx-node");
    const kernel = new FakeKernel(tree.sysRoot);
    await kernel.setState("disabled", null);
    kernel.reads.length = 0;
    const artifactDir = join(tree.dir, "artifacts");
    const deployer = createDeployer({
      executor: kernel,
      sysRoot: tree.sysRoot,
      bpffsDir: join(tree.dir, "bpffs"),
      pollIntervalMs: 0,
      settleTimeoutMs: 200,
    });
    const transitions: Transition[] = [];
    deployer.onTransition((t) => transitions.push(t));
    const signer = await makeSigner();
    const fetched: string[] = [];
    const run = (assignment: unknown, bytes: Uint8Array = OBJECT) =>
      deployAssignment(assignment, {
        deployer,
        executor: kernel,
        trust: { publicKey: signer.publicKey, keyId: signer.keyId },
        artifactDir,
        fetchArtifact: async (sha) => {
          fetched.push(sha);
          return bytes;
        },
      });
    return { kernel, signer, run, fetched, transitions, artifactDir };
  }

  it("loads a good one: downloads, writes by hash, registers", async () => {
    const { kernel, signer, run, artifactDir } = await node();
    kernel.objects = {
      [join(
        artifactDir,
        `${(await signedBpfAssignment(signer, OBJECT)).payload.artifactSha256}.bpf.o`,
      )]: { opsName: "ek_fifo" },
    };
    const assignment = await signedBpfAssignment(signer, OBJECT);
    const outcome = await run(assignment);
    expect(outcome.transition?.state).toBe("active");
    expect(kernel.writes).toEqual([
      join(artifactDir, `${assignment.payload.artifactSha256}.bpf.o`),
    ]);
    expect(kernel.calls.some((c) => c[0] === "bpftool")).toBe(true);
  });

  it("a tampered signature: refused before the download, no command, no file", async () => {
    const { kernel, signer, run, fetched, transitions } = await node();
    const assignment = await signedBpfAssignment(signer, OBJECT);
    const outcome = await run({ ...assignment, signature: tamper(assignment.signature) });
    expect(outcome.refusal?.code).toBe("bad_signature");
    expect(transitions).toEqual([
      expect.objectContaining({ state: "refused", assignmentId: "asg_one", running: null }),
    ]);
    expect({ calls: kernel.calls, reads: kernel.reads, writes: kernel.writes, fetched }).toEqual({
      calls: [],
      reads: [],
      writes: [],
      fetched: [],
    });
  });

  it("an expired one: refused before the download, no command", async () => {
    const { kernel, signer, run, fetched } = await node();
    const assignment = await signedBpfAssignment(signer, OBJECT, { expiresAtMs: Date.now() - 1 });
    expect((await run(assignment)).refusal?.code).toBe("expired");
    expect({ calls: kernel.calls, writes: kernel.writes, fetched }).toEqual({
      calls: [],
      writes: [],
      fetched: [],
    });
  });

  it("an object whose hash differs: refused after the download, nothing written or run", async () => {
    const { kernel, signer, run, fetched } = await node();
    const assignment = await signedBpfAssignment(signer, OBJECT);
    const outcome = await run(assignment, new TextEncoder().encode("something else"));
    expect(outcome.refusal?.code).toBe("hash_mismatch");
    expect(fetched).toEqual([assignment.payload.artifactSha256]);
    expect({ calls: kernel.calls, reads: kernel.reads, writes: kernel.writes }).toEqual({
      calls: [],
      reads: [],
      writes: [],
    });
  });

  it("an unsigned or garbled frame: no transition to name, nothing run", async () => {
    const { kernel, run } = await node();
    const garbled = { assignmentId: "asg_x", signature: "" } as unknown as Assignment;
    const outcome = await run(garbled);
    expect(outcome).toMatchObject({ transition: null, refusal: { code: "malformed" } });
    expect(kernel.calls).toEqual([]);
  });

  it("a signature over other bytes (another payload signed by the same key) does not verify", async () => {
    const { kernel, signer, run } = await node();
    const assignment = await signedBpfAssignment(signer, OBJECT);
    const otherSig = await sign(signer, { ...assignment.payload, version: 2 });
    expect((await run({ ...assignment, signature: otherSig })).refusal?.code).toBe("bad_signature");
    expect(kernel.calls).toEqual([]);
  });
});
