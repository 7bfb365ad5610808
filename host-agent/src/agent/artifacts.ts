/**
 * Policy artifacts on the node: downloaded from the control plane with the node credential,
 * never more than the assignment says (and never more than the protocol's object limit). The
 * deploy module's assignment path checks their hash and writes them by it.
 */

import { artifactPath, FLEET_LIMITS } from "../protocol.js";

/** A download that failed or was refused; `code` goes into the command's ack. */
export class ArtifactError extends Error {
  override readonly name = "ArtifactError";
  constructor(
    readonly code: "download_failed" | "too_large",
    message: string,
  ) {
    super(message);
  }
}

/** How long one artifact download may take. */
export const ARTIFACT_DOWNLOAD_TIMEOUT_MS = 60_000;

/**
 * Downloads `sha256` from the control plane, refusing it as soon as it passes `maxBytes`
 * (at most `FLEET_LIMITS.maxObjectBytes`), whatever Content-Length said.
 *
 * @example const bytes = await downloadArtifact({ baseUrl, credential, sha256, maxBytes: 4096 })
 */
export async function downloadArtifact(options: {
  baseUrl: string;
  credential: string;
  sha256: string;
  maxBytes: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}): Promise<Uint8Array> {
  const limit = Math.min(options.maxBytes, FLEET_LIMITS.maxObjectBytes);
  const url = new URL(artifactPath(options.sha256), options.baseUrl);
  const signal = AbortSignal.any([
    AbortSignal.timeout(ARTIFACT_DOWNLOAD_TIMEOUT_MS),
    ...(options.signal ? [options.signal] : []),
  ]);
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, {
      headers: { authorization: `Bearer ${options.credential}` },
      signal,
    });
  } catch (error) {
    throw new ArtifactError("download_failed", `GET ${url.pathname}: ${(error as Error).message}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    throw new ArtifactError("download_failed", `GET ${url.pathname}: HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) {
    await res.body?.cancel().catch(() => {});
    throw new ArtifactError(
      "too_large",
      `the artifact is ${declared} bytes; at most ${limit} expected`,
    );
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      let part: Awaited<ReturnType<typeof reader.read>>;
      try {
        part = await reader.read();
      } catch (error) {
        throw new ArtifactError(
          "download_failed",
          `GET ${url.pathname}: ${(error as Error).message}`,
        );
      }
      if (part.done) break;
      total += part.value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        throw new ArtifactError("too_large", `the artifact passed ${limit} bytes`);
      }
      chunks.push(part.value);
    }
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
