/**
 * The control plane's Ed25519 signing key: importing it from the `POLICY_SIGNING_KEY` secret,
 * signing assignment payloads, and the public key and key id nodes pin at enrollment.
 *
 * Encoding of the secret: the private key as PKCS#8 DER, base64url without padding (standard
 * base64 with padding is accepted too). Make one with
 * `openssl genpkey -algorithm ed25519 -outform DER | basenc --base64url -w0`, or
 * `generateSigningKey()` below. The public key is derived from it, never configured separately,
 * so the two cannot disagree.
 *
 * Web Crypto only, no platform imports: the same module runs in workerd and in Node (tests,
 * benchmarks, host-agent's tests).
 */

import { type AssignmentPayload, signingBytes } from "./protocol/assignment.js";

/** Web Crypto's key type, named without the DOM lib (Node's types lack the global). */
type CryptoKeyLike = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** What `importSigningKey` gives: the private key for signing, and what nodes pin. */
export interface SigningKey {
  privateKey: CryptoKeyLike;
  /** The raw 32-byte public key, base64url without padding (43 characters). */
  publicKey: string;
  /** First 16 hex digits of SHA-256 over the raw public key. */
  keyId: string;
}

/** Raised for a `POLICY_SIGNING_KEY` that is missing or not an Ed25519 PKCS#8 key. */
export class SigningKeyError extends Error {
  override readonly name = "SigningKeyError";
}

const ED25519 = { name: "Ed25519" } as const;
/** An Ed25519 PKCS#8 DER private key is exactly this long (RFC 8410 without the public key). */
const PKCS8_ED25519_BYTES = 48;

/** Decodes base64url or standard base64, with or without padding. */
export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const normal = text.trim().replaceAll("-", "+").replaceAll("_", "/").replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(normal)) throw new SigningKeyError("not base64");
  const binary = atob(normal + "=".repeat((4 - (normal.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** base64url without padding. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The key id of a raw public key: the first 16 hex digits of its SHA-256.
 *
 * @example await keyIdOf(rawPublicKeyBytes) // "3f2a9c0d1e4b5a67"
 */
export async function keyIdOf(rawPublicKey: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", rawPublicKey));
  let hex = "";
  for (const b of digest.subarray(0, 8)) hex += b.toString(16).padStart(2, "0");
  return hex;
}

const cache = new Map<string, Promise<SigningKey>>();

/**
 * Imports the `POLICY_SIGNING_KEY` secret (cached per isolate, keyed by the secret's text).
 *
 * @throws {SigningKeyError} when it is missing, not base64 or not an Ed25519 PKCS#8 key.
 * @example const key = await importSigningKey(env.POLICY_SIGNING_KEY); key.keyId
 */
export function importSigningKey(encoded: string | undefined): Promise<SigningKey> {
  if (!encoded) {
    return Promise.reject(new SigningKeyError("POLICY_SIGNING_KEY is not set"));
  }
  let pending = cache.get(encoded);
  if (!pending) {
    pending = importUncached(encoded);
    // A failed import is not cached: fixing the secret takes effect without a restart.
    pending.catch(() => cache.delete(encoded));
    cache.clear();
    cache.set(encoded, pending);
  }
  return pending;
}

async function importUncached(encoded: string): Promise<SigningKey> {
  const der = base64ToBytes(encoded);
  if (der.byteLength !== PKCS8_ED25519_BYTES) {
    throw new SigningKeyError(
      `POLICY_SIGNING_KEY must be an Ed25519 private key as PKCS#8 DER (${PKCS8_ED25519_BYTES} bytes), got ${der.byteLength} bytes`,
    );
  }
  let extractable: CryptoKeyLike;
  try {
    extractable = await crypto.subtle.importKey("pkcs8", der, ED25519, true, ["sign"]);
  } catch (error) {
    throw new SigningKeyError(
      `POLICY_SIGNING_KEY is not an Ed25519 PKCS#8 key: ${(error as Error).message}`,
    );
  }
  // The JWK form of a private OKP key carries the public half as `x`.
  const jwk = (await crypto.subtle.exportKey("jwk", extractable)) as { x?: string; d?: string };
  if (!jwk.x || !jwk.d) throw new SigningKeyError("POLICY_SIGNING_KEY has no public half");
  // Keep only a non-extractable copy for signing.
  const privateKey = await crypto.subtle.importKey("pkcs8", der, ED25519, false, ["sign"]);
  const raw = base64ToBytes(jwk.x);
  return { privateKey, publicKey: bytesToBase64Url(raw), keyId: await keyIdOf(raw) };
}

/**
 * Signs an assignment payload: Ed25519 over `signingBytes(payload)`, base64url (86 characters),
 * exactly what `AssignmentSchema.signature` holds and nodes verify.
 *
 * @example
 * const key = await importSigningKey(env.POLICY_SIGNING_KEY);
 * const assignment = { …, payload, signature: await signAssignment(key, payload), keyId: key.keyId };
 */
export async function signAssignment(key: SigningKey, payload: AssignmentPayload): Promise<string> {
  const signature = await crypto.subtle.sign(ED25519, key.privateKey, signingBytes(payload));
  return bytesToBase64Url(new Uint8Array(signature));
}

/**
 * Checks a signature against a pinned public key (base64url raw 32 bytes). False for any
 * malformed input rather than an exception: a bad signature is an answer, not a fault.
 *
 * @example await verifyAssignmentSignature(pinned.publicKey, a.payload, a.signature) // true
 */
export async function verifyAssignmentSignature(
  publicKey: string,
  payload: AssignmentPayload,
  signature: string,
): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey("raw", base64ToBytes(publicKey), ED25519, false, [
      "verify",
    ]);
    return await crypto.subtle.verify(
      ED25519,
      key,
      base64ToBytes(signature),
      signingBytes(payload),
    );
  } catch {
    return false;
  }
}

/**
 * A fresh key in the `POLICY_SIGNING_KEY` encoding (for development servers and tests).
 *
 * @example const secret = await generateSigningKey(); // "MC4CAQAwBQYDK2VwBCIEI…"
 */
export async function generateSigningKey(): Promise<string> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as unknown as {
    privateKey: CryptoKeyLike;
  };
  const der = new Uint8Array(
    (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer,
  );
  return bytesToBase64Url(der);
}
