import {
  type Assignment,
  AssignmentSchema,
  canonicalJson,
  FLEET_LIMITS,
  signingBytes,
} from "../protocol.js";
import { type ScxAllowList, scxArgv } from "./scx-backend.js";
import type { RefusalCode } from "./types.js";

/*
 * The gate in front of the deploy path: nothing unsigned, expired, tampered with or outside
 * the node's allow-list gets past it. Signature first (before a byte is downloaded), then
 * expiry, then the artifact's hash, then the allow-list and parameter bounds.
 */

export type CheckResult =
  | { ok: true; assignment: Assignment }
  | { ok: false; code: RefusalCode; message: string };

/** What the node trusts: the control plane's pinned key. */
export interface TrustAnchor {
  /** Raw 32-byte Ed25519 public key (as enrollment returned it, base64url-decoded). */
  publicKey: Uint8Array;
  /** Its key id (first 16 hex of SHA-256 of the raw key), when the node pinned one. */
  keyId?: string;
}

export interface CheckOptions {
  trust: TrustAnchor;
  nowMs: number;
  /** The downloaded object, for a BPF-object artifact (required there). */
  artifactBytes?: Uint8Array | null;
  scxAllowList?: ScxAllowList;
}

function base64UrlDecode(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(text, "base64url"));
}

/** Lowercase hex SHA-256 of some bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new Uint8Array(bytes));
  return Buffer.from(digest).toString("hex");
}

/** The key id of a raw public key: the first 16 hex of its SHA-256. */
export async function keyIdOf(publicKey: Uint8Array): Promise<string> {
  return (await sha256Hex(publicKey)).slice(0, 16);
}

/**
 * Checks the signature and expiry of an assignment — all that can be checked before its
 * artifact is downloaded.
 *
 * @example
 * const first = await checkSignature(frame.assignment, { trust, nowMs: Date.now() });
 * if (!first.ok) return deployer.refuse(frame.assignment, first.code, first.message);
 */
export async function checkSignature(
  input: unknown,
  options: Pick<CheckOptions, "trust" | "nowMs">,
): Promise<CheckResult> {
  const parsed = AssignmentSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      code: "malformed",
      message: `${issue?.path.join(".") || "assignment"}: ${issue?.message ?? "invalid"}`,
    };
  }
  const assignment = parsed.data;
  if (options.trust.keyId !== undefined && assignment.keyId !== options.trust.keyId) {
    return {
      ok: false,
      code: "bad_signature",
      message: `signed by key ${assignment.keyId}, this node trusts ${options.trust.keyId}`,
    };
  }
  let valid = false;
  try {
    const key = await crypto.subtle.importKey(
      "raw",
      new Uint8Array(options.trust.publicKey),
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    valid = await crypto.subtle.verify(
      { name: "Ed25519" },
      key,
      base64UrlDecode(assignment.signature),
      signingBytes(assignment.payload),
    );
  } catch {
    valid = false;
  }
  if (!valid) {
    return { ok: false, code: "bad_signature", message: "the Ed25519 signature does not verify" };
  }
  if (assignment.payload.expiresAtMs <= options.nowMs) {
    return {
      ok: false,
      code: "expired",
      message: `expired at ${new Date(assignment.payload.expiresAtMs).toISOString()}`,
    };
  }
  return { ok: true, assignment };
}

/**
 * The whole check: signature, expiry, the artifact's SHA-256 (of the downloaded bytes for a
 * BPF object, of `canonicalJson(artifact)` for an scx binary), the allow-list and the
 * parameters' bounds.
 *
 * @example
 * const checked = await checkAssignment(assignment, { trust, nowMs: Date.now(), artifactBytes });
 * if (checked.ok) await deployer.apply(checked.assignment, path);
 */
export async function checkAssignment(input: unknown, options: CheckOptions): Promise<CheckResult> {
  const signed = await checkSignature(input, options);
  if (!signed.ok) return signed;
  const { assignment } = signed;
  const artifact = assignment.artifact;
  if (artifact.kind === "bpf-object") {
    const bytes = options.artifactBytes;
    if (bytes === undefined || bytes === null) {
      return { ok: false, code: "malformed", message: "the BPF object's bytes are missing" };
    }
    if (bytes.length > FLEET_LIMITS.maxObjectBytes) {
      return {
        ok: false,
        code: "malformed",
        message: `the object is ${bytes.length} bytes, over the limit of ${FLEET_LIMITS.maxObjectBytes}`,
      };
    }
    const actual = await sha256Hex(bytes);
    if (actual !== assignment.payload.artifactSha256) {
      return {
        ok: false,
        code: "hash_mismatch",
        message: `the object's SHA-256 is ${actual}, the signed one ${assignment.payload.artifactSha256}`,
      };
    }
    if (bytes.length !== artifact.sizeBytes) {
      return {
        ok: false,
        code: "malformed",
        message: `the object is ${bytes.length} bytes, the assignment says ${artifact.sizeBytes}`,
      };
    }
    return { ok: true, assignment };
  }
  const actual = await sha256Hex(new TextEncoder().encode(canonicalJson(artifact)));
  if (actual !== assignment.payload.artifactSha256) {
    return {
      ok: false,
      code: "hash_mismatch",
      message: `sha256(canonicalJson(artifact)) is ${actual}, the signed one ${assignment.payload.artifactSha256}`,
    };
  }
  const planned = scxArgv(
    options.scxAllowList ?? {},
    artifact.binary,
    assignment.payload.parameters,
  );
  if (!planned.ok) return { ok: false, code: "not_allowed", message: planned.reason };
  return { ok: true, assignment };
}
