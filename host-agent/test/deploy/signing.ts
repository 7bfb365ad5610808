import type { webcrypto } from "node:crypto";
import { keyIdOf, sha256Hex } from "../../src/deploy/check.js";
import {
  type Assignment,
  type AssignmentPayload,
  canonicalJson,
  type Guard,
  signingBytes,
} from "../../src/protocol.js";

/** A control-plane signing key for tests, with its raw public key and key id. */
export interface TestSigner {
  privateKey: webcrypto.CryptoKey;
  publicKey: Uint8Array;
  keyId: string;
}

export async function makeSigner(): Promise<TestSigner> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey, keyId: await keyIdOf(publicKey) };
}

export async function sign(signer: TestSigner, payload: AssignmentPayload): Promise<string> {
  const signature = await crypto.subtle.sign("Ed25519", signer.privateKey, signingBytes(payload));
  return Buffer.from(signature).toString("base64url");
}

/** A signed BPF-object assignment for `objectBytes`. */
export async function signedBpfAssignment(
  signer: TestSigner,
  objectBytes: Uint8Array,
  overrides: { id?: string; opsName?: string; expiresAtMs?: number; guards?: Guard[] } = {},
): Promise<Assignment> {
  const payload: AssignmentPayload = {
    policyId: "spol_fifo",
    version: 1,
    artifactSha256: await sha256Hex(objectBytes),
    parameters: { slice_us: 20000 },
    expiresAtMs: overrides.expiresAtMs ?? Date.now() + 3_600_000,
  };
  return {
    assignmentId: overrides.id ?? "asg_one",
    rolloutId: null,
    payload,
    artifact: {
      kind: "bpf-object",
      sizeBytes: objectBytes.length,
      opsName: overrides.opsName ?? "ek_fifo",
    },
    guards: overrides.guards ?? [],
    signature: await sign(signer, payload),
    keyId: signer.keyId,
  };
}

/** A signed scx-binary assignment. */
export async function signedScxAssignment(
  signer: TestSigner,
  binary: string,
  parameters: AssignmentPayload["parameters"],
): Promise<Assignment> {
  const artifact = { kind: "scx-binary" as const, binary };
  const payload: AssignmentPayload = {
    policyId: "spol_rusty",
    version: 2,
    artifactSha256: await sha256Hex(new TextEncoder().encode(canonicalJson(artifact))),
    parameters,
    expiresAtMs: Date.now() + 3_600_000,
  };
  return {
    assignmentId: "asg_scx",
    rolloutId: null,
    payload,
    artifact,
    guards: [],
    signature: await sign(signer, payload),
    keyId: signer.keyId,
  };
}
