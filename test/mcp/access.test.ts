import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, newTenant, type ProcessBody, spawn } from "../helpers";
import {
  connect,
  initializeBody,
  MCP_URL,
  ORIGIN,
  rawPost,
  structured,
  text,
  workerFetch,
} from "./client";

interface AuditItem {
  actor: string;
  actorRole: string;
  action: string;
  target: string | null;
  decision: string;
  status: number;
  tenantId: string | null;
  requestId: string;
  detail: Record<string, unknown> | null;
}

async function auditOf(t: { admin: string }, query = "") {
  const res = await call<{ items: AuditItem[] }>("GET", `/v1/audit${query}`, { token: t.admin });
  return res.body.items;
}

describe("MCP authentication", () => {
  it("answers 401 with an RFC 9728 challenge, and serves the metadata it points at", async () => {
    for (const token of [undefined, "ek_not-a-real-key"]) {
      const res = await rawPost(
        initializeBody("2025-11-25"),
        token ? { authorization: `Bearer ${token}` } : {},
      );
      expect(res.status).toBe(401);
      const challenge = res.headers.get("www-authenticate") ?? "";
      expect(challenge).toMatch(/^Bearer /);
      expect(challenge).toContain(
        `resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource"`,
      );
      if (token) expect(challenge).toContain('error="invalid_token"');
      else expect(challenge).not.toContain("error=");
    }
    const meta = await workerFetch(`${ORIGIN}/.well-known/oauth-protected-resource`);
    expect(meta.status).toBe(200);
    expect(await meta.json()).toMatchObject({
      resource: ORIGIN,
      authorization_servers: [ORIGIN],
      bearer_methods_supported: ["header"],
    });
  });

  it("refuses the SDK client without a key, and a revoked key at once", async () => {
    await expect(connect()).rejects.toThrow();
    const t = await newTenant();
    const client = await connect(t.reader);
    await call("DELETE", `/v1/keys/${t.keyIds.reader}`, { token: t.admin });
    await expect(client.listTools()).rejects.toThrow();
    const res = await rawPost(initializeBody("2025-11-25"), {
      authorization: `Bearer ${t.reader}`,
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("this key has been revoked");
  });

  it("negotiates protocol revision 2025-11-25 and the older ones the SDK accepts", async () => {
    const t = await newTenant();
    for (const version of ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"]) {
      const res = await rawPost(initializeBody(version), { authorization: `Bearer ${t.reader}` });
      expect(res.status, version).toBe(200);
      const body = (await res.json()) as { result: { protocolVersion: string } };
      expect(body.result.protocolVersion).toBe(version);
    }
    const unknown = await rawPost(initializeBody("2099-01-01"), {
      authorization: `Bearer ${t.reader}`,
    });
    expect(
      ((await unknown.json()) as { result: { protocolVersion: string } }).result,
    ).toMatchObject({ protocolVersion: "2025-11-25" });
  });

  it("is stateless: GET and DELETE are 405, with no session id on any response", async () => {
    const t = await newTenant();
    const init = await rawPost(initializeBody("2025-11-25"), {
      authorization: `Bearer ${t.reader}`,
    });
    expect(init.headers.get("mcp-session-id")).toBeNull();
    for (const method of ["GET", "DELETE"]) {
      const res = await workerFetch(MCP_URL, {
        method,
        headers: { authorization: `Bearer ${t.reader}`, accept: "text/event-stream" },
      });
      expect(res.status, method).toBe(405);
    }
  });

  it("answers a malformed JSON-RPC body with a JSON-RPC parse error, not a problem document", async () => {
    const t = await newTenant();
    const res = await workerFetch(MCP_URL, {
      method: "POST",
      headers: {
        authorization: `Bearer ${t.reader}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 } });
  });
});

describe("MCP origin validation", () => {
  it("refuses a browser origin not on the allow-list with 403, before authentication", async () => {
    const t = await newTenant();
    for (const origin of ["https://evil.example", "null", "http://localhost:6274"]) {
      const res = await rawPost(initializeBody("2025-11-25"), {
        authorization: `Bearer ${t.reader}`,
        origin,
      });
      expect(res.status, origin).toBe(403);
    }
    // No credential at all: still 403, so a page cannot even probe for the challenge.
    const anonymous = await rawPost(initializeBody("2025-11-25"), {
      origin: "https://evil.example",
    });
    expect(anonymous.status).toBe(403);
  });

  it("admits origins from MCP_ALLOWED_ORIGINS with CORS headers, and requests without Origin", async () => {
    const t = await newTenant();
    const allowed = "https://app.example"; // set in vitest.config.mts
    const res = await rawPost(initializeBody("2025-11-25"), {
      authorization: `Bearer ${t.reader}`,
      origin: allowed,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
    const preflight = await workerFetch(MCP_URL, {
      method: "OPTIONS",
      headers: { origin: allowed, "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    const noOrigin = await rawPost(initializeBody("2025-11-25"), {
      authorization: `Bearer ${t.reader}`,
    });
    expect(noOrigin.status).toBe(200);
  });

  it("admits loopback origins only when the Worker itself is addressed on a loopback host", async () => {
    const t = await newTenant();
    const local = await rawPost(
      initializeBody("2025-11-25"),
      { authorization: `Bearer ${t.reader}`, origin: "http://localhost:6274" },
      "http://127.0.0.1:8787/mcp",
    );
    expect(local.status).toBe(200);
    const rebound = await rawPost(
      initializeBody("2025-11-25"),
      { authorization: `Bearer ${t.reader}`, origin: "http://attacker.example:8787" },
      "http://attacker.example:8787/mcp",
    );
    expect(rebound.status).toBe(403);
  });
});

describe("MCP tenancy, agent keys and audit", () => {
  it("hides another tenant's process exactly like a missing one", async () => {
    const a = await newTenant("a");
    const b = await newTenant("b");
    const pb = (await spawn(b.operator, { paused: true })).body;
    const missing = "proc_0000000000007000800000000000dead";
    const client = await connect(a.operator);
    for (const name of ["get_process", "pause_process", "resume_process", "terminate_process"]) {
      const foreign = await client.callTool({ name, arguments: { id: pb.id } });
      const absent = await client.callTool({ name, arguments: { id: missing } });
      expect(foreign.isError, name).toBe(true);
      expect(text(foreign), name).toMatch(/^not_found: /);
      expect(text(absent), name).toMatch(/^not_found: /);
    }
    await expect(client.readResource({ uri: `edgekernel://process/${pb.id}` })).rejects.toThrow(
      /not found/i,
    );
    const list = structured<{ items: Array<{ id: string }> }>(
      await client.callTool({ name: "list_processes", arguments: {} }),
    );
    expect(list.items.map((p) => p.id)).not.toContain(pb.id);
    const still = await call<ProcessBody>("GET", `/v1/processes/${pb.id}`, { token: b.reader });
    expect(still.body.status).toBe("paused");
    await client.close();
  });

  it("serves a process and its event log as resources, and lists recent processes", async () => {
    const t = await newTenant();
    const p = (await spawn(t.operator, { paused: true })).body;
    const client = await connect(t.reader);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((r) => r.uriTemplate).sort()).toEqual([
      "edgekernel://process/{id}",
      "edgekernel://process/{id}/events",
    ]);
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain(`edgekernel://process/${p.id}`);
    const record = await client.readResource({ uri: `edgekernel://process/${p.id}` });
    const first = record.contents[0] as { mimeType: string; text: string };
    expect(first.mimeType).toBe("application/json");
    expect(JSON.parse(first.text)).toMatchObject({ id: p.id, status: "paused" });
    const events = await client.readResource({ uri: `edgekernel://process/${p.id}/events` });
    const log = JSON.parse((events.contents[0] as { text: string }).text) as {
      items: Array<{ event: string }>;
    };
    expect(log.items.map((e) => e.event)).toEqual(["spawn", "pause"]);
    await client.close();
  });

  it("lets an agent key act only on its own process, audited under the process id", async () => {
    const t = await newTenant();
    const own = (await spawn(t.operator, { paused: true })).body;
    const other = (await spawn(t.operator, { paused: true })).body;
    const key = await call<{ id: string; secret: string }>("POST", "/v1/keys", {
      token: t.admin,
      body: { name: "agent", role: "operator", processId: own.id },
    });
    const client = await connect(key.body.secret);

    const mine = await client.callTool({ name: "get_process", arguments: { id: own.id } });
    expect(structured(mine)).toMatchObject({ id: own.id });
    const theirs = await client.callTool({ name: "get_process", arguments: { id: other.id } });
    expect(text(theirs)).toMatch(/^not_found: /);
    const listing = await client.callTool({ name: "list_processes", arguments: {} });
    expect(text(listing)).toMatch(/^forbidden: /);
    const spawnTry = await client.callTool({
      name: "spawn_process",
      arguments: { type: "assistant", goal: "x" },
    });
    // It acts as its process, whose type (assistant) holds neither capability.
    expect(text(spawnTry)).toMatch(/^capability_denied: /);
    const terminate = await client.callTool({
      name: "terminate_process",
      arguments: { id: own.id },
    });
    expect(text(terminate)).toMatch(/^capability_denied: /);
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual([`edgekernel://process/${own.id}`]);

    const rows = await auditOf(t, `?actor=${own.id}`);
    expect(rows.map((r) => [r.action, r.decision, r.status])).toEqual([
      ["process.terminate", "deny", 403],
      ["process.spawn", "deny", 403],
    ]);
    expect(rows[0]).toMatchObject({
      tenantId: t.id,
      target: own.id,
      detail: { via: "mcp", tool: "terminate_process", keyId: key.body.id },
    });
    const still = await call<ProcessBody>("GET", `/v1/processes/${own.id}`, { token: t.reader });
    expect(still.body.status).toBe("paused");
    await client.close();
  });

  it("writes an audit row for every state change, with the API's action names", async () => {
    const t = await newTenant();
    const client = await connect(t.operator);
    const p = structured<ProcessBody>(
      await client.callTool({
        name: "spawn_process",
        arguments: { type: "assistant", goal: "audited", paused: true },
      }),
    );
    await client.callTool({ name: "resume_process", arguments: { id: p.id } });
    await client.callTool({ name: "terminate_process", arguments: { id: p.id, reason: "bye" } });
    await client.callTool({ name: "pause_process", arguments: { id: p.id } }); // 409
    await client.callTool({ name: "get_process", arguments: { id: p.id } }); // read: no row

    const rows = await auditOf(t, `?actor=${t.keyIds.operator}`);
    expect(rows.map((r) => [r.action, r.decision, r.status])).toEqual([
      ["process.pause", "error", 409],
      ["process.terminate", "allow", 200],
      ["process.resume", "allow", 200],
      ["process.spawn", "allow", 200],
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({ tenantId: t.id, target: p.id, actorRole: "operator" });
      expect(row.detail).toMatchObject({ via: "mcp", credential: "api_key" });
      expect(row.requestId).toMatch(/^req_/);
    }
    expect(rows[1]?.detail).toMatchObject({ tool: "terminate_process", reason: "bye" });

    // The audit tool reads the same log, for a tenant admin only.
    const admin = await connect(t.admin);
    const page = structured<{ items: AuditItem[] }>(
      await admin.callTool({ name: "query_audit", arguments: { action: "process.spawn" } }),
    );
    expect(page.items.map((r) => r.target)).toEqual([p.id]);
    const asOperator = await client.callTool({ name: "query_audit", arguments: {} });
    expect(text(asOperator)).toMatch(/^forbidden: /);
    await client.close();
    await admin.close();
  });

  it("lets the system administrator query the audit log across tenants but run nothing", async () => {
    const t = await newTenant();
    const client = await connect(ADMIN_TOKEN);
    const page = structured<{ items: AuditItem[] }>(
      await client.callTool({ name: "query_audit", arguments: { tenantId: t.id } }),
    );
    expect(page.items.every((r) => r.tenantId === t.id)).toBe(true);
    expect(page.items.length).toBeGreaterThan(0);
    const spawnTry = await client.callTool({
      name: "spawn_process",
      arguments: { type: "assistant", goal: "x" },
    });
    expect(text(spawnTry)).toMatch(/^forbidden: /);
    await client.close();
  });
});
