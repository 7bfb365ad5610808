import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/kernel/ids.js";
import {
  DEFAULT_POLICIES,
  MAX_POLICIES_PER_TENANT,
  MAX_POLICY_TEXT_BYTES,
  policyEngineFor,
} from "../../src/policy/index.js";
import { openDb } from "../../src/store/db.js";
import { policies } from "../../src/store/schema.js";
import { call, newTenant, type TestTenant } from "../helpers";
import { request } from "./requests.js";

interface PolicyView {
  name: string;
  description: string;
  cedar: string;
  builtin: boolean;
  policyIds: string[];
  version: number | null;
}
interface Problem {
  code: string;
  errors?: Array<{ path: string; message: string; code: string }>;
  diagnostics?: Array<{ code: string; line: number | null; policyId: string | null }>;
}
interface Evaluation {
  effect: string;
  policyIds: string[];
  errors: string[];
}

const db = () => openDb((env as unknown as { DB: D1Database }).DB);

const NO_SPAWN =
  'forbid (principal, action, resource) when { context.capability == "proc.spawn" };';

const put = (t: TestTenant, name: string, body: unknown, token = t.admin) =>
  call<PolicyView & Problem>("PUT", `/v1/access-policies/${name}`, { token, body });

const list = async (t: TestTenant) => {
  const res = await call<{ items: PolicyView[] }>("GET", "/v1/access-policies", {
    token: t.reader,
  });
  expect(res.status).toBe(200);
  return res.body.items;
};

const own = async (t: TestTenant) => (await list(t)).filter((p) => !p.builtin);

/** Evaluates an entitled, low-risk `proc.spawn` by a process, with context overrides. */
const evaluate = (t: TestTenant, context: Record<string, unknown> = {}, token = t.operator) =>
  call<Evaluation>("POST", "/v1/access-policies/evaluate", {
    token,
    body: {
      principal: { type: "Process", id: "proc_x", agentType: "assistant" },
      capability: "proc.spawn",
      context: { risk: "low", entitled: true, ...context },
    },
  });

describe("OpenAPI", () => {
  it("documents the policy routes and their bodies", async () => {
    const doc = await call<{
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>("GET", "/openapi.json");
    for (const [path, method] of [
      ["/v1/access-policies", "get"],
      ["/v1/access-policies/{name}", "put"],
      ["/v1/access-policies/{name}", "delete"],
      ["/v1/access-policies/evaluate", "post"],
    ] as const) {
      expect(doc.body.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    for (const schema of [
      "Policy",
      "PutPolicyRequest",
      "PolicyEvaluationRequest",
      "PolicyEvaluation",
    ]) {
      expect(doc.body.components.schemas[schema], schema).toBeDefined();
    }
  });
});

describe("GET /v1/access-policies", () => {
  it("shows the built-in defaults, marked builtin, to any tenant key", async () => {
    const t = await newTenant();
    const items = await list(t);
    expect(items.map((p) => [p.name, p.builtin])).toEqual(
      DEFAULT_POLICIES.map((p) => [p.id, true]),
    );
    expect(items.find((p) => p.name === "high-risk-needs-approval")?.cedar).toContain(
      '@approval("required")',
    );
  });
});

describe("PUT /v1/access-policies/{name}", () => {
  it("creates (201), then replaces (200, version 2) and the set applies at once", async () => {
    const t = await newTenant();
    expect((await evaluate(t)).body.effect).toBe("allow");
    const created = await put(t, "no-spawn", { description: "no children", cedar: NO_SPAWN });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "no-spawn",
      builtin: false,
      version: 1,
      policyIds: ["no-spawn"],
      description: "no children",
    });
    expect((await evaluate(t)).body).toMatchObject({ effect: "deny", policyIds: ["no-spawn"] });

    const replaced = await put(t, "no-spawn", {
      cedar: 'forbid (principal, action, resource) when { context.capability == "proc.sleep" };',
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.version).toBe(2);
    expect((await evaluate(t)).body.effect).toBe("allow");
    expect(await own(t)).toHaveLength(1);
  });

  it("rejects a syntax error with Cedar's diagnostics and stores nothing", async () => {
    const t = await newTenant();
    await put(t, "keep", { cedar: NO_SPAWN });
    const before = await list(t);
    const res = await put(t, "keep", {
      cedar: "forbid (principal, action, resource) when { context. };",
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.errors?.[0]).toMatchObject({ path: "cedar", code: "parse_error" });
    expect(res.body.errors?.[0]?.message).toMatch(/^line 1, column \d+: /);
    expect(res.body.diagnostics?.[0]).toMatchObject({ code: "parse_error", line: 1 });
    expect(await list(t)).toEqual(before);
  });

  it("rejects a schema error (unknown attribute) and keeps the old version", async () => {
    const t = await newTenant();
    await put(t, "keep", { cedar: NO_SPAWN });
    const before = await list(t);
    const res = await put(t, "keep", {
      cedar: "forbid (principal, action, resource) when { principal.clearance > 3 };",
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]).toMatchObject({ path: "cedar", code: "validation_error" });
    expect(res.body.errors?.[0]?.message).toMatch(/clearance/);
    expect(await list(t)).toEqual(before);
    expect((await evaluate(t)).body.policyIds).toEqual(["keep"]);
  });

  it("rejects a text whole when one of its statements is bad: none is stored", async () => {
    const t = await newTenant();
    const res = await put(t, "pack", {
      cedar: `${NO_SPAWN}\n@id("broken") forbid (principal, action, resource) when { context.nope };`,
    });
    expect(res.status).toBe(422);
    expect(res.body.diagnostics).toEqual([
      expect.objectContaining({ code: "validation_error", policyId: "pack#broken", line: 2 }),
    ]);
    expect(await own(t)).toEqual([]);
    expect((await evaluate(t)).body.effect).toBe("allow");
  });

  it(`limits the text to ${MAX_POLICY_TEXT_BYTES} UTF-8 bytes (counting bytes, not characters)`, async () => {
    const t = await newTenant();
    const head = `${NO_SPAWN}\n// `;
    const headBytes = new TextEncoder().encode(head).length;
    const atLimit = head + "x".repeat(MAX_POLICY_TEXT_BYTES - headBytes);
    expect((await put(t, "big", { cedar: atLimit })).status).toBe(201);
    // Two-byte characters: under the limit in characters, over it in bytes.
    const overInBytes = head + "é".repeat((MAX_POLICY_TEXT_BYTES - headBytes) / 2 + 1);
    expect(overInBytes.length).toBeLessThan(MAX_POLICY_TEXT_BYTES);
    for (const cedar of [overInBytes, `${atLimit}x`]) {
      const res = await put(t, "big2", { cedar });
      expect(res.status).toBe(422);
      expect(res.body.errors?.[0]).toMatchObject({ path: "cedar", code: "too_big" });
    }
    expect((await own(t)).map((p) => p.name)).toEqual(["big"]);
  });

  it("refuses a built-in's name (409), a bad name and unknown fields (422)", async () => {
    const t = await newTenant();
    const builtin = await put(t, "budget-guard", { cedar: NO_SPAWN });
    expect(builtin.status).toBe(409);
    expect((await put(t, "Bad_Name!", { cedar: NO_SPAWN })).status).toBe(422);
    const extra = await put(t, "ok", { cedar: NO_SPAWN, effect: "permit" });
    expect(extra.status).toBe(422);
    expect(extra.body.errors?.[0]).toMatchObject({ path: "effect", code: "unrecognized_key" });
  });

  it(`holds at most ${MAX_POLICIES_PER_TENANT} policies per tenant; replacing one still works`, async () => {
    const t = await newTenant();
    // All but the last through the store, in one batch (that many PUTs would be slow).
    const nowMs = Date.now();
    const rows = Array.from({ length: MAX_POLICIES_PER_TENANT - 1 }, (_, i) =>
      db()
        .insert(policies)
        .values({
          id: newId("policy", nowMs),
          tenantId: t.id,
          name: `p-${i}`,
          description: "",
          cedarText: NO_SPAWN,
          version: 1,
          createdAtMs: nowMs,
          updatedAtMs: nowMs,
        }),
    );
    await db().batch(rows as [(typeof rows)[number], ...typeof rows]);
    expect((await put(t, "last", { cedar: NO_SPAWN })).status).toBe(201);
    const over = await put(t, "one-more", { cedar: NO_SPAWN });
    expect(over.status).toBe(409);
    expect((await put(t, "p-0", { cedar: NO_SPAWN })).status).toBe(200);
    expect(await own(t)).toHaveLength(MAX_POLICIES_PER_TENANT);
  });

  it("needs a tenant admin: operator and reader get 403", async () => {
    const t = await newTenant();
    expect((await put(t, "x", { cedar: NO_SPAWN }, t.operator)).status).toBe(403);
    expect((await put(t, "x", { cedar: NO_SPAWN }, t.reader)).status).toBe(403);
    expect(await own(t)).toEqual([]);
  });
});

describe("DELETE /v1/access-policies/{name}", () => {
  it("deletes (the default decision returns), 404 for an unknown name, 409 for a built-in", async () => {
    const t = await newTenant();
    await put(t, "no-spawn", { cedar: NO_SPAWN });
    expect(
      (await call("DELETE", "/v1/access-policies/no-spawn", { token: t.operator })).status,
    ).toBe(403);
    const deleted = await call<PolicyView>("DELETE", "/v1/access-policies/no-spawn", {
      token: t.admin,
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body.name).toBe("no-spawn");
    expect(await own(t)).toEqual([]);
    expect((await evaluate(t)).body.effect).toBe("allow");
    const again = await call<Problem>("DELETE", "/v1/access-policies/no-spawn", { token: t.admin });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe("not_found");
    expect(
      (await call("DELETE", "/v1/access-policies/budget-guard", { token: t.admin })).status,
    ).toBe(409);
  });
});

describe("POST /v1/access-policies/evaluate", () => {
  it("decides with the defaults: allow, deny, require_approval, budget guard", async () => {
    const t = await newTenant();
    expect((await evaluate(t)).body).toEqual({
      effect: "allow",
      policyIds: ["default-permit-entitled"],
      errors: [],
      request: expect.objectContaining({ tenantId: t.id, capability: "proc.spawn" }),
    });
    expect((await evaluate(t, { entitled: false })).body.effect).toBe("deny");
    expect((await evaluate(t, { risk: "high" })).body).toMatchObject({
      effect: "require_approval",
      policyIds: ["high-risk-needs-approval"],
    });
    expect((await evaluate(t, { risk: "high", approved: true })).body.effect).toBe("allow");
    expect((await evaluate(t, { risk: "critical" })).body.policyIds).toEqual([
      "critical-denied-unless-granted",
    ]);
    expect((await evaluate(t, { budgetTokensLeft: 0 })).body.policyIds).toEqual(["budget-guard"]);
  });

  it("applies a tenant's hours and data-label policies", async () => {
    const t = await newTenant();
    await put(t, "office-hours", {
      cedar:
        "forbid (principal, action, resource) unless { context.hourOfDayUtc >= 8 && context.hourOfDayUtc < 18 };",
    });
    await put(t, "pii", {
      cedar:
        '@approval("required") forbid (principal, action, resource) when { context.dataLabels.contains("pii") } unless { context.approved };',
    });
    expect((await evaluate(t, { hourOfDayUtc: 3 })).body.policyIds).toEqual(["office-hours"]);
    expect((await evaluate(t, { hourOfDayUtc: 9, dataLabels: ["pii"] })).body).toMatchObject({
      effect: "require_approval",
      policyIds: ["pii"],
    });
    expect((await evaluate(t, { hourOfDayUtc: 9 })).body.effect).toBe("allow");
  });

  it("keeps tenants apart: one tenant's policy neither shows nor applies in another", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await put(a, "no-spawn", { cedar: NO_SPAWN });
    expect((await evaluate(a)).body.effect).toBe("deny");
    expect((await evaluate(b)).body.effect).toBe("allow");
    expect(await own(b)).toEqual([]);
    expect((await call("DELETE", "/v1/access-policies/no-spawn", { token: b.admin })).status).toBe(
      404,
    );
    expect((await evaluate(a)).body.effect).toBe("deny");
  });

  it("needs an admin or operator, and a body that fits the request schema", async () => {
    const t = await newTenant();
    expect((await evaluate(t, {}, t.admin)).status).toBe(200);
    expect((await evaluate(t, {}, t.reader)).status).toBe(403);
    const bad = await call<Problem>("POST", "/v1/access-policies/evaluate", {
      token: t.operator,
      body: {
        principal: { type: "Process", id: "proc_x", agentType: "assistant" },
        capability: "proc.spawn",
        context: { risk: "extreme", entitled: true, hourOfDayUtc: 24 },
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.path).sort()).toEqual([
      "context.hourOfDayUtc",
      "context.risk",
    ]);
  });
});

describe("audit", () => {
  it("records policy writes and deletes, refused and failed ones included", async () => {
    const t = await newTenant();
    await put(t, "no-spawn", { cedar: NO_SPAWN });
    await put(t, "no-spawn", { cedar: "permit (" });
    await put(t, "no-spawn", { cedar: NO_SPAWN }, t.operator);
    await call("DELETE", "/v1/access-policies/no-spawn", { token: t.admin });
    const res = await call<{ items: Array<Record<string, unknown>> }>("GET", "/v1/audit", {
      token: t.admin,
    });
    const rows = res.body.items.filter((r) => String(r.action).startsWith("access_policy."));
    expect(rows.map((r) => [r.action, r.decision, r.status, r.target])).toEqual([
      ["access_policy.delete", "allow", 200, "no-spawn"],
      ["access_policy.put", "deny", 403, "no-spawn"],
      ["access_policy.put", "error", 422, "no-spawn"],
      ["access_policy.put", "allow", 201, "no-spawn"],
    ]);
    expect(rows[3]?.detail).toEqual({ version: 1, policyIds: ["no-spawn"] });
  });
});

describe("policyEngineFor (the gate's entry point)", () => {
  it("reuses the parsed engine while the set is unchanged and reloads after a write", async () => {
    const t = await newTenant();
    const engineFor = () => policyEngineFor(db(), t.id);
    const none1 = await engineFor();
    expect(await engineFor()).toBe(none1);

    await put(t, "no-spawn", { cedar: NO_SPAWN });
    const first = await engineFor();
    expect(first).not.toBe(none1);
    expect(await engineFor()).toBe(first);
    expect(first.decide(request({ tenantId: t.id })).policyIds).toEqual(["no-spawn"]);

    await put(t, "no-spawn", { cedar: NO_SPAWN });
    const second = await engineFor();
    expect(second).not.toBe(first);
    expect(second.decide(request({ tenantId: t.id })).policyIds).toEqual(["no-spawn"]);

    await call("DELETE", "/v1/access-policies/no-spawn", { token: t.admin });
    await put(t, "no-spawn", { cedar: NO_SPAWN }); // same name and text, a new row
    expect(await engineFor()).not.toBe(second);
  });
});
