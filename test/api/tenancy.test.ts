import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, newTenant, spawn } from "../helpers";

describe("tenant isolation", () => {
  it("hides each tenant's processes from the other, both ways, exactly like missing ones", async () => {
    const a = await newTenant("a");
    const b = await newTenant("b");
    const pa = (await spawn(a.operator, { paused: true })).body;
    const pb = (await spawn(b.operator, { paused: true })).body;
    const missing = "proc_0000000000007000800000000000dead";

    for (const [tenant, foreign] of [
      [a, pb.id],
      [b, pa.id],
    ] as const) {
      const viaForeign = await call("GET", `/v1/processes/${foreign}`, { token: tenant.operator });
      const viaMissing = await call("GET", `/v1/processes/${missing}`, { token: tenant.operator });
      expect(viaForeign.status).toBe(404);
      expect(viaForeign.body.code).toBe(viaMissing.body.code);
      for (const path of ["events", "pause", "resume", "terminate"]) {
        const method = path === "events" ? "GET" : "POST";
        const res = await call(method, `/v1/processes/${foreign}/${path}`, {
          token: tenant.operator,
        });
        expect(res.status, `${method} ${path}`).toBe(404);
      }
      const list = await call<{ items: Array<{ id: string }> }>("GET", "/v1/processes", {
        token: tenant.reader,
      });
      expect(list.body.items.map((p) => p.id)).not.toContain(foreign);
    }
    // The foreign calls changed nothing.
    const still = await call("GET", `/v1/processes/${pb.id}`, { token: b.reader });
    expect(still.body.status).toBe("paused");
  });

  it("refuses a parent id from another tenant as if it did not exist", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const pb = (await spawn(b.operator)).body;
    const res = await spawn(a.operator, { parentId: pb.id });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ errors: [{ path: "parentId" }] });
  });

  it("keeps keys and audit rows per tenant", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const revokeForeign = await call("DELETE", `/v1/keys/${b.keyIds.reader}`, { token: a.admin });
    expect(revokeForeign.status).toBe(404);
    const listForeign = await call("GET", `/v1/keys?tenantId=${b.id}`, { token: a.admin });
    expect(listForeign.status).toBe(403);
    const auditForeign = await call("GET", `/v1/audit?tenantId=${b.id}`, { token: a.admin });
    expect(auditForeign.status).toBe(403);
    // b's reader key still works: a's attempt revoked nothing.
    expect((await call("GET", "/v1/processes", { token: b.reader })).status).toBe(200);
  });
});

describe("authentication", () => {
  it("answers 401 with a Bearer challenge without a token or with an unknown one", async () => {
    for (const token of [undefined, "ek_not-a-real-key"]) {
      const res = await call("GET", "/v1/processes", { token });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe("unauthenticated");
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
    }
  });

  it("fails a revoked key at once", async () => {
    const t = await newTenant();
    expect((await call("GET", "/v1/processes", { token: t.reader })).status).toBe(200);
    const revoke = await call<{ revokedAt: string }>("DELETE", `/v1/keys/${t.keyIds.reader}`, {
      token: t.admin,
    });
    expect(revoke.status).toBe(200);
    expect(revoke.body.revokedAt).toBeTruthy();
    const after = await call("GET", "/v1/processes", { token: t.reader });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe("credential_revoked");
    // Revoking again is idempotent and keeps the first revocation time.
    const again = await call<{ revokedAt: string }>("DELETE", `/v1/keys/${t.keyIds.reader}`, {
      token: ADMIN_TOKEN,
    });
    expect(again.status).toBe(200);
    expect(again.body.revokedAt).toBe(revoke.body.revokedAt);
  });

  it("fails an expired key", async () => {
    const t = await newTenant();
    const key = await call<{ secret: string; id: string; expiresAt: string }>("POST", "/v1/keys", {
      token: t.admin,
      body: { name: "short", role: "reader", expiresInSeconds: 60 },
    });
    expect(key.status).toBe(201);
    expect((await call("GET", "/v1/processes", { token: key.body.secret })).status).toBe(200);
    // Age the key in D1 rather than wait: expiry is checked against the stored time.
    const { env } = await import("cloudflare:workers");
    await (env as unknown as { DB: D1Database }).DB.prepare(
      "UPDATE api_keys SET expires_at_ms = ? WHERE id = ?",
    )
      .bind(Date.now() - 1, key.body.id)
      .run();
    const res = await call("GET", "/v1/processes", { token: key.body.secret });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("credential_expired");
  });

  it("never returns a key's secret after creation", async () => {
    const t = await newTenant();
    const list = await call<{ items: Array<Record<string, unknown>> }>("GET", "/v1/keys", {
      token: t.admin,
    });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(3);
    for (const item of list.body.items) {
      expect(item.secret).toBeUndefined();
      expect(item.prefix).toMatch(/^ek_/);
      expect(JSON.stringify(item)).not.toContain(t.admin);
    }
  });
});

describe("roles", () => {
  it("lets a reader read but not spawn or signal", async () => {
    const t = await newTenant();
    const p = (await spawn(t.operator)).body;
    expect((await spawn(t.reader)).status).toBe(403);
    expect((await call("POST", `/v1/processes/${p.id}/pause`, { token: t.reader })).status).toBe(
      403,
    );
    expect((await call("GET", `/v1/processes/${p.id}`, { token: t.reader })).status).toBe(200);
  });

  it("reserves tenant creation to the system administrator and key management to admins", async () => {
    const t = await newTenant();
    const tenant = await call("POST", "/v1/tenants", { token: t.admin, body: { name: "sneaky" } });
    expect(tenant.status).toBe(403);
    const key = await call("POST", "/v1/keys", {
      token: t.operator,
      body: { name: "x", role: "admin" },
    });
    expect(key.status).toBe(403);
    expect((await call("GET", "/v1/audit", { token: t.operator })).status).toBe(403);
  });

  it("keeps the system administrator out of tenant process routes", async () => {
    const res = await call("GET", "/v1/processes", { token: ADMIN_TOKEN });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("forbidden");
  });

  it("binds an agent key to its own process: it reads and acts as that one and nothing else", async () => {
    const t = await newTenant();
    const mine = (await spawn(t.operator, { paused: true })).body;
    const other = (await spawn(t.operator, { paused: true })).body;
    const key = await call<{ secret: string; processId: string }>("POST", "/v1/keys", {
      token: t.admin,
      body: { name: "agent", role: "operator", processId: mine.id },
    });
    expect(key.status).toBe(201);
    expect(key.body.processId).toBe(mine.id);
    const agent = key.body.secret;
    expect((await call("GET", `/v1/processes/${mine.id}`, { token: agent })).status).toBe(200);
    expect((await call("GET", `/v1/processes/${mine.id}/events`, { token: agent })).status).toBe(
      200,
    );
    expect((await call("GET", `/v1/processes/${other.id}`, { token: agent })).status).toBe(404);
    expect((await call("GET", "/v1/processes", { token: agent })).status).toBe(403);
    // Its changes are its process's system calls: the assistant type holds neither capability.
    expect((await spawn(agent)).body).toMatchObject({ code: "capability_denied" });
    expect(
      (await call("POST", `/v1/processes/${mine.id}/terminate`, { token: agent })).body.code,
    ).toBe("capability_denied");
    expect(
      (await call("POST", `/v1/processes/${other.id}/terminate`, { token: agent })).status,
    ).toBe(404);
  });

  it("refuses an agent key for a process of another tenant", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const pb = (await spawn(b.operator)).body;
    const res = await call("POST", "/v1/keys", {
      token: a.admin,
      body: { name: "agent", role: "reader", processId: pb.id },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ errors: [{ path: "processId" }] });
  });
});

describe("tenants", () => {
  it("refuses a duplicate tenant name with 409", async () => {
    const name = `dup-${crypto.randomUUID().slice(0, 8)}`;
    expect((await call("POST", "/v1/tenants", { token: ADMIN_TOKEN, body: { name } })).status).toBe(
      201,
    );
    const again = await call("POST", "/v1/tenants", { token: ADMIN_TOKEN, body: { name } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("conflict");
  });

  it("requires tenantId when the system administrator creates a key, and a real tenant", async () => {
    const missing = await call("POST", "/v1/keys", {
      token: ADMIN_TOKEN,
      body: { name: "k", role: "reader" },
    });
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ errors: [{ path: "tenantId" }] });
    const unknown = await call("POST", "/v1/keys", {
      token: ADMIN_TOKEN,
      body: { tenantId: "ten_0000000000007000800000000000beef", name: "k", role: "reader" },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ errors: [{ path: "tenantId" }] });
  });
});
