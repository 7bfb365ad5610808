import { describe, expect, it } from "vitest";
import {
  type AssignmentPayload,
  ControlFrameSchema,
  canonicalJson,
  NodeFrameSchema,
  signingBytes,
} from "../../src/schedcp/protocol/index.js";

const payload: AssignmentPayload = {
  policyId: "spol_fifo",
  version: 3,
  artifactSha256: "a".repeat(64),
  parameters: { slice_us: 5000, interactive: true },
  expiresAtMs: 1_900_000_000_000,
};

describe("the fleet wire protocol", () => {
  it("encodes one value one way: keys sorted at every depth, no whitespace", () => {
    expect(canonicalJson({ b: 1, a: [true, { d: null, c: "x" }] })).toBe(
      '{"a":[true,{"c":"x","d":null}],"b":1}',
    );
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/finite/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
  });

  it("signs the same bytes whatever order the payload's keys were written in", () => {
    const reordered = JSON.parse(
      '{"parameters":{"interactive":true,"slice_us":5000},"expiresAtMs":1900000000000,"version":3,"artifactSha256":"' +
        "a".repeat(64) +
        '","policyId":"spol_fifo"}',
    );
    expect(signingBytes(reordered)).toEqual(signingBytes(payload));
    expect(new TextDecoder().decode(signingBytes(payload))).toMatch(
      /^edgekernel sched assignment v1\n\{"artifactSha256"/,
    );
  });

  it("verifies an Ed25519 signature over the signing bytes, and not over changed ones", async () => {
    const keys = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const signature = await crypto.subtle.sign("Ed25519", keys.privateKey, signingBytes(payload));
    const ok = (p: AssignmentPayload) =>
      crypto.subtle.verify("Ed25519", keys.publicKey, signature, signingBytes(p));
    expect(await ok(payload)).toBe(true);
    expect(await ok({ ...payload, version: 4 })).toBe(false);
    expect(await ok({ ...payload, parameters: { slice_us: 5001, interactive: true } })).toBe(false);
    expect(await ok({ ...payload, expiresAtMs: payload.expiresAtMs + 1 })).toBe(false);
  });

  it("parses each end's frames by type and refuses unknown types and fields", () => {
    expect(NodeFrameSchema.parse({ type: "heartbeat", seq: 1, atMs: 5 }).type).toBe("heartbeat");
    expect(NodeFrameSchema.safeParse({ type: "nope" }).success).toBe(false);
    expect(NodeFrameSchema.safeParse({ type: "heartbeat", seq: 1, atMs: 5, x: 1 }).success).toBe(
      false,
    );
    const revert = {
      type: "command",
      commandId: "cmd_1",
      deadlineAtMs: 10,
      body: { op: "revert", assignmentId: null, reason: "regression" },
    };
    expect(ControlFrameSchema.parse(revert)).toEqual(revert);
    const bad = ControlFrameSchema.safeParse({ ...revert, body: { op: "format-disk" } });
    expect(bad.success).toBe(false);
  });
});
