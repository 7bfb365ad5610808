import { env as workerEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EnrollResponseSchema } from "../../src/schedcp/protocol/index.js";
import { ADMIN_TOKEN, call, newTenant, type TestTenant } from "../helpers.js";
import { connect, enroll, FACTS } from "./helpers.js";

const env = workerEnv as unknown as { DB: D1Database };

interface Problem {
  code: string;
  errors?: Array<{ path: string; code: string }>;
}

async function newToken(t: TestTenant, body: Record<string, unknown> = {}, key = t.operator) {
  return call<{ id: string; token: string; expiresAt: string; labels: Record<string, string> }>(
    "POST",
    "/v1/fleet/enrollment-tokens",
    { token: key, body },
  );
}

function enrollBody(token: string, extra: Record<string, unknown> = {}) {
  return { token, role: "node", labels: {}, facts: FACTS, agentVersion: "0.1.0", ...extra };
}

async function auditOf(t: TestTenant, action: string) {
  const res = await call<{ items: Array<Record<string, unknown>> }>(
    "GET",
    `/v1/audit?tenantId=${t.id}&action=${action}`,
    { token: ADMIN_TOKEN },
  );
  return res.body.items;
}

describe("POST /v1/fleet/enrollment-tokens", () => {
  it("gives an operator or admin a one-hour token by default, shown once", async () => {
    const t = await newTenant("fleet");
    for (const key of [t.operator, t.admin]) {
      const res = await newToken(t, { labels: { tier: "canary" } }, key);
      expect(res.status).toBe(201);
      expect(res.body.token).toMatch(/^et_[A-Za-z0-9_-]{43}$/);
      const ttlMs = Date.parse(res.body.expiresAt) - Date.now();
      expect(ttlMs).toBeGreaterThan(3_500_000);
      expect(ttlMs).toBeLessThanOrEqual(3_600_000);
      expect(res.body.labels).toEqual({ tier: "canary" });
    }
    // Only the hash is stored.
    const row = await env.DB.prepare(
      "SELECT token_hash FROM fleet_enrollment_tokens WHERE tenant_id = ? LIMIT 1",
    )
      .bind(t.id)
      .first<{ token_hash: string }>();
    expect(row?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const rows = await auditOf(t, "fleet.enrollment_token.create");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ decision: "allow", status: 201 });
  });

  it("refuses readers, the system administrator and bad bodies, naming the field", async () => {
    const t = await newTenant("fleet");
    expect((await newToken(t, {}, t.reader)).status).toBe(403);
    expect((await newToken(t, {}, ADMIN_TOKEN)).status).toBe(403);
    for (const [body, path] of [
      [{ expiresInSeconds: 59 }, "expiresInSeconds"],
      [{ expiresInSeconds: 7 * 24 * 3600 + 1 }, "expiresInSeconds"],
      [{ role: "admin" }, "role"],
      [{ labels: { "bad key!": "x" } }, "labels.bad key!"],
      [{ colour: "red" }, "colour"],
    ] as const) {
      const res = await call<Problem>("POST", "/v1/fleet/enrollment-tokens", {
        token: t.operator,
        body,
      });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.errors?.[0]?.path).toBe(path);
    }
    // The limits themselves are accepted.
    expect((await newToken(t, { expiresInSeconds: 60 })).status).toBe(201);
    expect((await newToken(t, { expiresInSeconds: 7 * 24 * 3600 })).status).toBe(201);
  });
});

describe("POST /v1/fleet/enroll", () => {
  it("buys a node credential and the control plane's public key with a token", async () => {
    const t = await newTenant("fleet");
    const token = await newToken(t);
    const res = await call("POST", "/v1/fleet/enroll", { body: enrollBody(token.body.token) });
    expect(res.status).toBe(201);
    const enrolled = EnrollResponseSchema.parse(res.body);
    expect(enrolled.tenantId).toBe(t.id);
    expect(enrolled.nodeId).toMatch(/^node_[0-9a-f]{32}$/);
    expect(enrolled.credential).toMatch(/^nk_/);
    const key = await call<{ publicKey: string; keyId: string }>("GET", "/v1/fleet/signing-key");
    expect(key.status).toBe(200);
    expect(enrolled.signingPublicKey).toBe(key.body.publicKey);
    expect(enrolled.keyId).toBe(key.body.keyId);
    const stored = await env.DB.prepare(
      "SELECT credential_hash, status FROM fleet_nodes WHERE tenant_id = ? AND id = ?",
    )
      .bind(t.id, enrolled.nodeId)
      .first<{ credential_hash: string; status: string }>();
    expect(stored).toMatchObject({ status: "offline" });
    expect(stored?.credential_hash).not.toContain(enrolled.credential);
    const audit = await auditOf(t, "fleet.node.enroll");
    expect(audit[0]).toMatchObject({
      decision: "allow",
      actor: `node:${enrolled.nodeId}`,
      target: enrolled.nodeId,
    });
  });

  it("uses the requested node id when it is free, and lays the token's labels over the node's", async () => {
    const t = await newTenant("fleet");
    const token = await newToken(t, { labels: { tier: "canary" } });
    const res = await call<{ nodeId: string }>("POST", "/v1/fleet/enroll", {
      body: enrollBody(token.body.token, {
        nodeId: "web-1",
        labels: { tier: "batch", zone: "a" },
      }),
    });
    expect(res.status).toBe(201);
    expect(res.body.nodeId).toBe("web-1");
    const node = await call<{ labels: Record<string, string> }>("GET", "/v1/fleet/nodes/web-1", {
      token: t.reader,
    });
    expect(node.body.labels).toEqual({ tier: "canary", zone: "a" });
  });

  it("refuses a replayed token, and enrolls nothing the second time", async () => {
    const t = await newTenant("fleet");
    const token = await newToken(t);
    const first = await call("POST", "/v1/fleet/enroll", { body: enrollBody(token.body.token) });
    expect(first.status).toBe(201);
    const replay = await call<Problem>("POST", "/v1/fleet/enroll", {
      body: enrollBody(token.body.token, { nodeId: "second" }),
    });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe("credential_used");
    const nodes = await call<{ items: unknown[] }>("GET", "/v1/fleet/nodes", { token: t.reader });
    expect(nodes.body.items).toHaveLength(1);
    const audit = await auditOf(t, "fleet.node.enroll");
    expect(audit.map((r) => r.decision).sort()).toEqual(["allow", "deny"]);
  });

  it("refuses an expired or unknown token", async () => {
    const t = await newTenant("fleet");
    const token = await newToken(t);
    await env.DB.prepare("UPDATE fleet_enrollment_tokens SET expires_at_ms = ? WHERE id = ?")
      .bind(Date.now() - 1, token.body.id)
      .run();
    const expired = await call<Problem>("POST", "/v1/fleet/enroll", {
      body: enrollBody(token.body.token),
    });
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe("credential_expired");
    const unknown = await call<Problem>("POST", "/v1/fleet/enroll", {
      body: enrollBody(`et_${"A".repeat(43)}`),
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe("unauthenticated");
  });

  it("answers malformed JSON, wrong types and unknown fields with the paths at fault", async () => {
    const t = await newTenant("fleet");
    const token = await newToken(t);
    const malformed = await call<Problem>("POST", "/v1/fleet/enroll", {
      raw: '{"token":',
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe("malformed_json");
    const wrong = await call<Problem>("POST", "/v1/fleet/enroll", {
      body: enrollBody(token.body.token, {
        role: "king",
        nodeId: "-bad",
        facts: { ...FACTS, cpus: { onlineCount: "two" } },
        extra: 1,
      }),
    });
    expect(wrong.status).toBe(422);
    const paths = wrong.body.errors?.map((e) => e.path) ?? [];
    expect(paths).toEqual(expect.arrayContaining(["role", "nodeId", "extra"]));
    expect(paths.some((p) => p.startsWith("facts.cpus"))).toBe(true);
    // Nothing was spent: the token still enrolls.
    const ok = await call("POST", "/v1/fleet/enroll", { body: enrollBody(token.body.token) });
    expect(ok.status).toBe(201);
  });

  it("refuses a role the token does not grant and a taken node id, without spending the token", async () => {
    const t = await newTenant("fleet");
    await enroll(t, { nodeId: "taken" });
    const token = await newToken(t, { role: "verifier" });
    const role = await call<Problem>("POST", "/v1/fleet/enroll", {
      body: enrollBody(token.body.token),
    });
    expect(role.status).toBe(422);
    expect(role.body.errors?.[0]).toMatchObject({ path: "role", code: "role_mismatch" });
    const taken = await call<Problem>("POST", "/v1/fleet/enroll", {
      body: enrollBody(token.body.token, { role: "verifier", nodeId: "taken" }),
    });
    expect(taken.status).toBe(409);
    expect(taken.body.errors?.[0]?.path).toBe("nodeId");
    const ok = await call<{ role: string }>("POST", "/v1/fleet/enroll", {
      body: enrollBody(token.body.token, { role: "verifier", nodeId: "verifier-1" }),
    });
    expect(ok.status).toBe(201);
    expect(ok.body.role).toBe("verifier");
  });

  it("refuses more than 32 labels counting the token's, and takes exactly 32", async () => {
    const t = await newTenant("fleet");
    const labels = (n: number, prefix: string) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, "x"]));
    const token = await newToken(t, { labels: labels(2, "pinned") });
    const over = await call<Problem>("POST", "/v1/fleet/enroll", {
      body: enrollBody(token.body.token, { labels: labels(31, "own") }),
    });
    expect(over.status).toBe(422);
    expect(over.body.errors?.[0]?.path).toBe("labels");
    const exact = await call("POST", "/v1/fleet/enroll", {
      body: enrollBody(token.body.token, { labels: labels(30, "own") }),
    });
    expect(exact.status).toBe(201);
  });

  it("keeps tenants apart: the same node id in two tenants, neither sees the other's", async () => {
    const a = await newTenant("fleet");
    const b = await newTenant("fleet");
    const nodeA = await enroll(a, { nodeId: "web-1" });
    const nodeB = await enroll(b, { nodeId: "web-1" });
    expect(nodeA.credential).not.toBe(nodeB.credential);
    const onlyA = await enroll(a, { nodeId: "only-a" });
    expect((await call("GET", `/v1/fleet/nodes/${onlyA.nodeId}`, { token: b.reader })).status).toBe(
      404,
    );
    expect(
      (await call("GET", `/v1/fleet/nodes/${onlyA.nodeId}/telemetry`, { token: b.reader })).status,
    ).toBe(404);
    expect(
      (await call("DELETE", `/v1/fleet/nodes/${onlyA.nodeId}`, { token: b.operator })).status,
    ).toBe(404);
    const listB = await call<{ items: Array<{ id: string }> }>("GET", "/v1/fleet/nodes", {
      token: b.reader,
    });
    expect(listB.body.items.map((n) => n.id)).toEqual(["web-1"]);
    // A's token cannot enroll into B, whatever the body says: the token names the tenant.
    const tokenA = await newToken(a);
    const res = await call<{ tenantId: string }>("POST", "/v1/fleet/enroll", {
      body: enrollBody(tokenA.body.token, { nodeId: "from-a" }),
    });
    expect(res.body.tenantId).toBe(a.id);
  });

  it("lets a revoked node's id enroll again, and the old credential stays refused", async () => {
    const t = await newTenant("fleet");
    const old = await enroll(t, { nodeId: "reborn" });
    expect((await call("DELETE", "/v1/fleet/nodes/reborn", { token: t.operator })).status).toBe(
      200,
    );
    const fresh = await enroll(t, { nodeId: "reborn" });
    expect(fresh.credential).not.toBe(old.credential);
    await expect(connect(old.credential)).rejects.toMatchObject({ status: 401 });
    const socket = await connect(fresh.credential);
    socket.ws.close(1000);
    const node = await call<{ revokedAt: string | null }>("GET", "/v1/fleet/nodes/reborn", {
      token: t.reader,
    });
    expect(node.body.revokedAt).toBeNull();
  });
});
