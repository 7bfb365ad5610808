import { exports, env as workerEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/kernel/hash.js";
import { FLEET_LIMITS } from "../../src/schedcp/protocol/index.js";
import {
  fleetArtifactKey,
  GLOBAL_ARTIFACT_SCOPE,
  putFleetArtifact,
} from "../../src/store/fleet-artifacts.js";
import { call, newTenant } from "../helpers.js";
import { connectHello, enroll } from "./helpers.js";

const env = workerEnv as unknown as { BLOBS: R2Bucket };

async function nodeFetch(path: string, credential?: string): Promise<Response> {
  return (exports as unknown as { default: Fetcher }).default.fetch(
    `https://edgekernel.test${path}`,
    {
      headers: credential ? { authorization: `Bearer ${credential}` } : {},
    },
  );
}

describe("GET /v1/fleet/nodes", () => {
  it("filters by label, role and status, in pages by id", async () => {
    const t = await newTenant("fleet");
    await enroll(t, { nodeId: "a1", tokenLabels: { tier: "batch" } });
    await enroll(t, { nodeId: "a2", tokenLabels: { tier: "batch" } });
    await enroll(t, { nodeId: "a3", tokenLabels: { tier: "web" } });
    const v = await enroll(t, { nodeId: "v1", role: "verifier" });
    const socket = await connectHello(v.credential, { role: "verifier" });

    const ids = async (query: string) =>
      (
        await call<{ items: Array<{ id: string }> }>("GET", `/v1/fleet/nodes${query}`, {
          token: t.reader,
        })
      ).body.items.map((n) => n.id);
    expect(await ids("")).toEqual(["a1", "a2", "a3", "v1"]);
    expect(await ids("?label=tier%3Dbatch")).toEqual(["a1", "a2"]);
    expect(await ids("?label=tier%3Dbatch&label=tier%3Dweb")).toEqual([]);
    expect(await ids("?role=verifier")).toEqual(["v1"]);
    expect(await ids("?status=online")).toEqual(["v1"]);
    expect(await ids("?status=offline&role=node")).toEqual(["a1", "a2", "a3"]);

    const page1 = await call<{ items: Array<{ id: string }>; nextCursor: string }>(
      "GET",
      "/v1/fleet/nodes?limit=2",
      { token: t.reader },
    );
    expect(page1.body.items.map((n) => n.id)).toEqual(["a1", "a2"]);
    const page2 = await call<{ items: Array<{ id: string }>; nextCursor: string | null }>(
      "GET",
      `/v1/fleet/nodes?limit=2&cursor=${page1.body.nextCursor}`,
      { token: t.reader },
    );
    expect(page2.body.items.map((n) => n.id)).toEqual(["a3", "v1"]);
    expect(page2.body.nextCursor).toBeNull();
    socket.ws.close(1000);
  });

  it("answers bad filters with 422 naming the parameter, and needs a tenant key", async () => {
    const t = await newTenant("fleet");
    for (const [query, path] of [
      ["?label=nokey", "label"],
      ["?role=king", "role"],
      ["?status=asleep", "status"],
      ["?limit=101", "limit"],
      ["?cursor=***", "cursor"],
    ] as const) {
      const res = await call<{ errors: Array<{ path: string }> }>(
        "GET",
        `/v1/fleet/nodes${query}`,
        {
          token: t.reader,
        },
      );
      expect(res.status, query).toBe(422);
      expect(res.body.errors[0]?.path).toBe(path);
    }
    expect((await call("GET", "/v1/fleet/nodes")).status).toBe(401);
    const node = await enroll(t);
    expect((await call("GET", "/v1/fleet/nodes", { token: node.credential })).status).toBe(401);
    expect((await call("GET", "/v1/fleet/nodes/no-such-node", { token: t.reader })).status).toBe(
      404,
    );
    expect(
      (await call("GET", "/v1/fleet/nodes/no-such-node/events", { token: t.reader })).status,
    ).toBe(404);
    expect(
      (await call("DELETE", `/v1/fleet/nodes/${node.nodeId}`, { token: t.reader })).status,
    ).toBe(403);
  });
});

describe("GET /v1/fleet/artifacts/{sha256}", () => {
  it("serves the tenant's artifact, else a global one, to a node credential only", async () => {
    const t = await newTenant("fleet");
    const other = await newTenant("fleet");
    const node = await enroll(t);
    const stranger = await enroll(other);
    const bytes = new TextEncoder().encode(`\x7fELF object for ${t.id}`);
    const sha = await putFleetArtifact(env.BLOBS, t.id, bytes);
    expect(sha).toBe(await sha256Hex(bytes));

    const res = await nodeFetch(`/v1/fleet/artifacts/${sha}`, node.credential);
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe(`"${sha}"`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    // Another tenant's node, an API key, no credential: refused or not found.
    expect((await nodeFetch(`/v1/fleet/artifacts/${sha}`, stranger.credential)).status).toBe(404);
    expect((await nodeFetch(`/v1/fleet/artifacts/${sha}`, t.operator)).status).toBe(401);
    expect((await nodeFetch(`/v1/fleet/artifacts/${sha}`)).status).toBe(401);
    expect((await nodeFetch(`/v1/fleet/artifacts/${"0".repeat(64)}`, node.credential)).status).toBe(
      404,
    );
    expect((await nodeFetch("/v1/fleet/artifacts/not-a-hash", node.credential)).status).toBe(422);

    const shared = new TextEncoder().encode("built-in policy");
    const sharedSha = await putFleetArtifact(env.BLOBS, GLOBAL_ARTIFACT_SCOPE, shared);
    expect(await env.BLOBS.head(fleetArtifactKey("global", sharedSha))).not.toBeNull();
    expect((await nodeFetch(`/v1/fleet/artifacts/${sharedSha}`, stranger.credential)).status).toBe(
      200,
    );

    await call("DELETE", `/v1/fleet/nodes/${node.nodeId}`, { token: t.operator });
    const revoked = await nodeFetch(`/v1/fleet/artifacts/${sha}`, node.credential);
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as { code: string }).code).toBe("credential_revoked");
  });

  it("refuses to store an artifact over the size limit, and takes one at it", async () => {
    const t = await newTenant("fleet");
    await expect(
      putFleetArtifact(env.BLOBS, t.id, new Uint8Array(FLEET_LIMITS.maxObjectBytes + 1)),
    ).rejects.toThrow(RangeError);
    await expect(
      putFleetArtifact(env.BLOBS, t.id, new Uint8Array(FLEET_LIMITS.maxObjectBytes)),
    ).resolves.toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("the OpenAPI document", () => {
  it("describes the fleet routes and the node credential", async () => {
    const doc = await call<{
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    }>("GET", "/openapi.json");
    for (const path of [
      "/v1/fleet/enrollment-tokens",
      "/v1/fleet/enroll",
      "/v1/fleet/connect",
      "/v1/fleet/nodes",
      "/v1/fleet/nodes/{id}",
      "/v1/fleet/nodes/{id}/telemetry",
      "/v1/fleet/nodes/{id}/events",
      "/v1/fleet/commands",
      "/v1/fleet/artifacts/{sha256}",
      "/v1/fleet/signing-key",
    ]) {
      expect(doc.body.paths[path], path).toBeDefined();
    }
    expect(doc.body.paths["/v1/fleet/enroll"]?.post?.security).toEqual([]);
    expect(doc.body.paths["/v1/fleet/connect"]?.get?.security).toEqual([{ nodeCredential: [] }]);
    expect(doc.body.components.securitySchemes.nodeCredential).toBeDefined();
  });
});
