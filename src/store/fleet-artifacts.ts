/**
 * Policy artifacts nodes download (compiled BPF objects), in R2 by content hash:
 * `fleet/artifacts/{scope}/{sha256}`, where the scope is a tenant id or `global` (the built-in
 * policies every tenant may deploy). Content-addressed, so the same object is stored once per
 * scope and a node checks what it got against the hash it asked for. The policy repository
 * writes here with `putFleetArtifact`; `GET /v1/fleet/artifacts/{sha256}` reads.
 */

import { sha256Hex } from "../kernel/hash.js";
import { FLEET_LIMITS } from "../schedcp/protocol/index.js";

/** The scope of artifacts every tenant's nodes may download. */
export const GLOBAL_ARTIFACT_SCOPE = "global";

/** The R2 key of an artifact. */
export function fleetArtifactKey(scope: string, sha256: string): string {
  return `fleet/artifacts/${scope}/${sha256}`;
}

/**
 * Stores an artifact under its SHA-256 (R2 checks the hash on upload) and returns the hash.
 *
 * @throws {RangeError} past `FLEET_LIMITS.maxObjectBytes`.
 * @example const sha256 = await putFleetArtifact(env.BLOBS, tenantId, objectBytes)
 */
export async function putFleetArtifact(
  blobs: R2Bucket,
  scope: string,
  bytes: Uint8Array,
): Promise<string> {
  if (bytes.byteLength > FLEET_LIMITS.maxObjectBytes) {
    throw new RangeError(
      `an artifact is at most ${FLEET_LIMITS.maxObjectBytes} bytes; this one is ${bytes.byteLength}`,
    );
  }
  const sha256 = await sha256Hex(bytes);
  await blobs.put(fleetArtifactKey(scope, sha256), bytes, {
    sha256,
    httpMetadata: { contentType: "application/octet-stream" },
  });
  return sha256;
}

/**
 * The artifact a node of `tenantId` may download: the tenant's own, else a global one.
 *
 * @example const object = await getFleetArtifact(env.BLOBS, tenantId, sha256); object?.body
 */
export async function getFleetArtifact(
  blobs: R2Bucket,
  tenantId: string,
  sha256: string,
): Promise<R2ObjectBody | null> {
  return (
    (await blobs.get(fleetArtifactKey(tenantId, sha256))) ??
    (await blobs.get(fleetArtifactKey(GLOBAL_ARTIFACT_SCOPE, sha256)))
  );
}
