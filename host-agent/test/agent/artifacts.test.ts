import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { ArtifactError, downloadArtifact } from "../../src/agent/artifacts.js";
import { FLEET_LIMITS } from "../../src/protocol.js";

const SHA = "a".repeat(64);

/** Serves `body` for any GET, claiming `contentLength` (or none). */
async function server(body: Buffer, contentLength?: number, status = 200) {
  const seen: Array<string | undefined> = [];
  const http = createServer((req, res) => {
    seen.push(req.headers.authorization);
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (contentLength !== undefined) headers["content-length"] = String(contentLength);
    res.writeHead(status, headers);
    // Without a length, stream in two chunks so the limit is checked as bytes arrive.
    res.write(body.subarray(0, body.length >> 1));
    res.end(body.subarray(body.length >> 1));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => http.close(() => resolve())));
  return { baseUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, seen };
}

describe("downloadArtifact", () => {
  it("downloads exactly the bytes, with the node credential", async () => {
    const body = Buffer.from("0123456789");
    const s = await server(body, body.length);
    const bytes = await downloadArtifact({
      baseUrl: s.baseUrl,
      credential: "nk_x",
      sha256: SHA,
      maxBytes: 10,
    });
    expect(Buffer.from(bytes).toString()).toBe("0123456789");
    expect(s.seen).toEqual(["Bearer nk_x"]);
  });

  it("refuses a body past the limit, whether Content-Length says so or not", async () => {
    const body = Buffer.alloc(11);
    const declared = await server(body, body.length);
    await expect(
      downloadArtifact({ baseUrl: declared.baseUrl, credential: "c", sha256: SHA, maxBytes: 10 }),
    ).rejects.toMatchObject({ code: "too_large" });
    const chunked = await server(body);
    await expect(
      downloadArtifact({ baseUrl: chunked.baseUrl, credential: "c", sha256: SHA, maxBytes: 10 }),
    ).rejects.toMatchObject({ code: "too_large" });
  });

  it("never allows more than the protocol's object limit, whatever the assignment says", async () => {
    const body = Buffer.alloc(FLEET_LIMITS.maxObjectBytes + 1);
    const s = await server(body);
    await expect(
      downloadArtifact({
        baseUrl: s.baseUrl,
        credential: "c",
        sha256: SHA,
        maxBytes: Number.MAX_SAFE_INTEGER,
      }),
    ).rejects.toMatchObject({ code: "too_large" });
  });

  it("reports an HTTP error or an unreachable server as download_failed", async () => {
    const s = await server(Buffer.from("nope"), undefined, 404);
    const missing = downloadArtifact({
      baseUrl: s.baseUrl,
      credential: "c",
      sha256: SHA,
      maxBytes: 10,
    });
    await expect(missing).rejects.toThrow(ArtifactError);
    await expect(missing).rejects.toMatchObject({ code: "download_failed", message: /HTTP 404/ });
    await expect(
      downloadArtifact({
        baseUrl: "http://127.0.0.1:1",
        credential: "c",
        sha256: SHA,
        maxBytes: 10,
      }),
    ).rejects.toMatchObject({ code: "download_failed" });
  });
});
