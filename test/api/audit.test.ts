import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, newTenant, spawn } from "../helpers";

interface AuditItem {
  id: string;
  at: string;
  tenantId: string | null;
  actor: string;
  actorRole: string;
  action: string;
  target: string | null;
  decision: string;
  status: number;
  requestId: string;
  detail: Record<string, unknown> | null;
}
type AuditPage = { items: AuditItem[]; nextCursor: string | null };

describe("audit log", () => {
  it("records who, tenant, action, target, decision and request id for each state change", async () => {
    const t = await newTenant();
    const spawned = await spawn(t.operator, {}, { "x-request-id": "req-audit-1" });
    const p = spawned.body;
    await call("POST", `/v1/processes/${p.id}/pause`, {
      token: t.operator,
      headers: { "x-request-id": "req-audit-2" },
    });
    await call("POST", `/v1/processes/${p.id}/terminate`, { token: t.operator });

    const res = await call<AuditPage>("GET", `/v1/audit?actor=${t.keyIds.operator}`, {
      token: t.admin,
    });
    expect(res.status).toBe(200);
    const rows = res.body.items;
    expect(rows.map((r) => r.action)).toEqual([
      "process.terminate",
      "process.pause",
      "process.spawn",
    ]);
    expect(rows[2]).toMatchObject({
      tenantId: t.id,
      actor: t.keyIds.operator,
      actorRole: "operator",
      target: p.id,
      decision: "allow",
      status: 201,
      requestId: "req-audit-1",
    });
    expect(rows[1]).toMatchObject({ requestId: "req-audit-2", target: p.id });
  });

  it("records refused calls as deny and failed ones as error", async () => {
    const t = await newTenant();
    const p = (await spawn(t.operator)).body;
    await call("POST", `/v1/processes/${p.id}/pause`, { token: t.reader }); // 403
    await call("POST", `/v1/processes/${p.id}/resume`, { token: t.operator }); // 409
    const res = await call<AuditPage>("GET", "/v1/audit", { token: t.admin });
    const byAction = (a: string) => res.body.items.filter((r) => r.action === a);
    expect(byAction("process.pause")[0]).toMatchObject({
      decision: "deny",
      status: 403,
      actor: t.keyIds.reader,
    });
    expect(byAction("process.resume")[0]).toMatchObject({ decision: "error", status: 409 });
  });

  it("does not audit reads", async () => {
    const t = await newTenant();
    await call("GET", "/v1/processes", { token: t.reader });
    const res = await call<AuditPage>("GET", `/v1/audit?actor=${t.keyIds.reader}`, {
      token: t.admin,
    });
    expect(res.body.items).toEqual([]);
  });

  it("filters by action and time, and pages with a cursor", async () => {
    const t = await newTenant();
    const before = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 3; i++) await spawn(t.operator);
    const spawns = await call<AuditPage>("GET", "/v1/audit?action=process.spawn&limit=2", {
      token: t.admin,
    });
    expect(spawns.body.items).toHaveLength(2);
    expect(spawns.body.nextCursor).not.toBeNull();
    const rest = await call<AuditPage>(
      "GET",
      `/v1/audit?action=process.spawn&limit=2&cursor=${spawns.body.nextCursor}`,
      { token: t.admin },
    );
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.nextCursor).toBeNull();

    const future = new Date(Date.now() + 60_000).toISOString();
    const none = await call<AuditPage>("GET", `/v1/audit?from=${encodeURIComponent(future)}`, {
      token: t.admin,
    });
    expect(none.body.items).toEqual([]);
    const window = await call<AuditPage>(
      "GET",
      `/v1/audit?action=process.spawn&from=${encodeURIComponent(before)}&to=${encodeURIComponent(future)}`,
      { token: t.admin },
    );
    expect(window.body.items).toHaveLength(3);
  });

  it("lets the system administrator see tenant and key administration across tenants", async () => {
    const t = await newTenant();
    const res = await call<AuditPage>("GET", `/v1/audit?tenantId=${t.id}&actor=system:admin`, {
      token: ADMIN_TOKEN,
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((r) => r.action).sort()).toEqual([
      "key.create",
      "key.create",
      "key.create",
      "tenant.create",
    ]);
    expect(res.body.items.every((r) => r.actorRole === "system")).toBe(true);
  });

  it("records a failed authentication against the anonymous actor", async () => {
    const res = await call("POST", "/v1/tenants", {
      token: "ek_wrong",
      body: { name: "x" },
      headers: { "x-request-id": "req-anon-1" },
    });
    expect(res.status).toBe(401);
    const log = await call<AuditPage>("GET", "/v1/audit?actor=anonymous&action=tenant.create", {
      token: ADMIN_TOKEN,
    });
    expect(log.body.items.find((r) => r.requestId === "req-anon-1")).toMatchObject({
      decision: "deny",
      status: 401,
    });
  });
});
