import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AssignmentPayload } from "../../src/schedcp/protocol/index.js";
import {
  base64ToBytes,
  generateSigningKey,
  importSigningKey,
  keyIdOf,
  SigningKeyError,
  signAssignment,
  verifyAssignmentSignature,
} from "../../src/schedcp/signing.js";

const payload: AssignmentPayload = {
  policyId: "spol_fifo",
  version: 1,
  artifactSha256: "b".repeat(64),
  parameters: { slice_us: 5000 },
  expiresAtMs: 2_000_000_000_000,
};

describe("the control plane's signing key", () => {
  it("imports POLICY_SIGNING_KEY and derives the public key and its id", async () => {
    const key = await importSigningKey((env as { POLICY_SIGNING_KEY: string }).POLICY_SIGNING_KEY);
    expect(key.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key.keyId).toBe(await keyIdOf(base64ToBytes(key.publicKey)));
    expect(key.keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("signs payloads that verify with the public key, and only those", async () => {
    const key = await importSigningKey(await generateSigningKey());
    const signature = await signAssignment(key, payload);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(await verifyAssignmentSignature(key.publicKey, payload, signature)).toBe(true);
    // Key order does not matter (canonical JSON); any changed field does.
    const reordered = JSON.parse(JSON.stringify({ ...payload, policyId: payload.policyId }));
    expect(await verifyAssignmentSignature(key.publicKey, reordered, signature)).toBe(true);
    for (const changed of [
      { ...payload, version: 2 },
      { ...payload, artifactSha256: "c".repeat(64) },
      { ...payload, parameters: { slice_us: 5001 } },
      { ...payload, expiresAtMs: payload.expiresAtMs + 1 },
    ]) {
      expect(await verifyAssignmentSignature(key.publicKey, changed, signature)).toBe(false);
    }
    const other = await importSigningKey(await generateSigningKey());
    expect(await verifyAssignmentSignature(other.publicKey, payload, signature)).toBe(false);
    expect(await verifyAssignmentSignature("not-a-key", payload, signature)).toBe(false);
    expect(await verifyAssignmentSignature(key.publicKey, payload, "A".repeat(86))).toBe(false);
  });

  it("accepts standard base64 too, and refuses what is not an Ed25519 PKCS#8 key", async () => {
    const secret = await generateSigningKey();
    const standard = btoa(String.fromCharCode(...base64ToBytes(secret)));
    expect((await importSigningKey(standard)).publicKey).toBe(
      (await importSigningKey(secret)).publicKey,
    );
    await expect(importSigningKey(undefined)).rejects.toThrow(SigningKeyError);
    await expect(importSigningKey("")).rejects.toThrow(/not set/);
    await expect(importSigningKey("@@@")).rejects.toThrow(SigningKeyError);
    await expect(importSigningKey(btoa("x".repeat(48)))).rejects.toThrow(/not an Ed25519/);
    await expect(importSigningKey(btoa("x".repeat(47)))).rejects.toThrow(/48 bytes/);
  });
});
