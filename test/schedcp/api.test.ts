/**
 * `/v1/policies` over HTTPS against real D1 and R2: the built-ins, search, submitting policies
 * and versions through the static checks, tenant scoping, roles, audit, history, quarantine,
 * and the edges of every input.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { BUILTIN_POLICIES } from "../../src/schedcp/bpf/catalog";
import { recommendForWorkload } from "../../src/schedcp/policy-recommendations";
import { STATIC_CHECK_LIMITS } from "../../src/schedcp/static-checks";
import { openDb } from "../../src/store/db";
import { quarantineVersion } from "../../src/store/sched-circuit-breaker";
import { appendRolloutHistory, recordPerformance } from "../../src/store/sched-history";
import { ADMIN_TOKEN, call, newTenant, type TestTenant } from "../helpers";

const db = openDb((env as unknown as Env).DB);
const FIFO = BUILTIN_POLICIES.find((p) => p.name === "fifo")!;

interface Policy {
  id: string;
  builtin: boolean;
  name: string;
  useCases: string[];
  latestVersion: number;
  latestStatus: string;
  description: string;
  score?: number;
}
interface Version {
  policyId: string;
  version: number;
  parentVersion: number | null;
  status: string;
  sourceSha256: string;
  parameters: Record<string, number | boolean>;
  staticChecks?: {
    ok: boolean;
    diagnostics: Array<{ code: string; line: number | null; column: number | null }>;
  };
  source?: string;
  quarantine?: { reason: string; failedNodes: string[] } | null;
  verification?: unknown;
}
interface Problem {
  code: string;
  status: number;
  errors?: Array<{ path: string; code: string; message: string }>;
  diagnostics?: Array<{
    code: string;
    line: number | null;
    column: number | null;
    severity: string;
  }>;
}

/** A valid submission: the built-in FIFO under another name and ops name. */
function submission(overrides: Record<string, unknown> = {}) {
  const name = `my-fifo-${crypto.randomUUID().slice(0, 8)}`;
  return {
    name,
    description: "Our FIFO for the render farm.",
    algorithm: FIFO.algorithm,
    useCases: ["batch", "render"],
    tunables: FIFO.tunables,
    limitations: FIFO.limitations,
    opsName: "my_fifo",
    source: FIFO.source.replace('"ek_fifo"', '"my_fifo"'),
    parameters: { slice_us: 30000 },
    ...overrides,
  };
}

async function submit(t: TestTenant, overrides: Record<string, unknown> = {}) {
  const res = await call<{ policy: Policy; version: Version }>("POST", "/v1/policies", {
    token: t.operator,
    body: submission(overrides),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function auditOf(t: TestTenant, action: string) {
  const res = await call<{
    items: Array<{ action: string; decision: string; status: number; target: string | null }>;
  }>("GET", `/v1/audit?tenantId=${t.id}&action=${action}`, { token: ADMIN_TOKEN });
  return res.body.items;
}

describe("the built-ins", () => {
  it("are seeded on first use and listed for every tenant, by name", async () => {
    const t = await newTenant("sp-builtin");
    const res = await call<{ items: Policy[]; nextCursor: string | null }>(
      "GET",
      "/v1/policies?limit=100",
      {
        token: t.reader,
      },
    );
    expect(res.status).toBe(200);
    const builtins = res.body.items.filter((p) => ["fifo", "wvtime", "latency"].includes(p.name));
    expect(builtins.map((p) => [p.id, p.builtin, p.latestVersion, p.latestStatus])).toEqual([
      ["spol_fifo", true, 1, "checked"],
      ["spol_latency", true, 1, "checked"],
      ["spol_wvtime", true, 1, "checked"],
    ]);
  });

  it("show their versions, source and static-check results; built-ins are read-only", async () => {
    const t = await newTenant("sp-builtin-v");
    const one = await call<Policy>("GET", "/v1/policies/spol_fifo", { token: t.reader });
    expect(one.body).toMatchObject({ name: "fifo", builtin: true, useCases: FIFO.useCases });
    const versions = await call<{ items: Version[] }>("GET", "/v1/policies/spol_fifo/versions", {
      token: t.reader,
    });
    expect(versions.body.items.map((v) => [v.version, v.status])).toEqual([[1, "checked"]]);
    const v1 = await call<Version>("GET", "/v1/policies/spol_fifo/versions/1", { token: t.reader });
    expect(v1.status).toBe(200);
    expect(v1.body.source).toBe(FIFO.source);
    expect(v1.body).toMatchObject({
      parameters: { slice_us: 20000 },
      staticChecks: { ok: true, diagnostics: [] },
      verification: null,
    });
    for (const path of [
      "/v1/policies/spol_fifo/versions/2",
      "/v1/policies/spol_fifo/versions/abc",
      "/v1/policies/spol_fifo/versions/0",
    ]) {
      expect((await call("GET", path, { token: t.reader })).status, path).toBe(404);
    }
    const write = await call<Problem>("POST", "/v1/policies/spol_fifo/versions", {
      token: t.operator,
      body: { source: FIFO.source },
    });
    expect(write.status).toBe(403);
    expect(write.body.code).toBe("forbidden");
  });
});

describe("search", () => {
  it("finds by words (best first, with a score), by tag and by workload class", async () => {
    const t = await newTenant("sp-search");
    const q = await call<{ items: Policy[] }>(
      "GET",
      `/v1/policies?q=${encodeURIComponent("woken tasks latency")}`,
      {
        token: t.reader,
      },
    );
    expect(q.status).toBe(200);
    expect(q.body.items[0]).toMatchObject({ name: "latency" });
    expect(q.body.items[0]!.score).toBeGreaterThan(0);
    const tag = await call<{ items: Policy[] }>("GET", "/v1/policies?tag=cpu-bound-batch", {
      token: t.reader,
    });
    expect(tag.body.items.map((p) => p.name)).toContain("fifo");
    expect(tag.body.items.map((p) => p.name)).not.toContain("latency");
    const workload = await call<{ items: Policy[] }>(
      "GET",
      "/v1/policies?workload=latency-sensitive",
      { token: t.reader },
    );
    expect(workload.body.items.map((p) => p.name)).toContain("latency");
    expect(workload.body.items.map((p) => p.name)).not.toContain("fifo");
  });

  it("pages with the cursor it issued, and refuses one it did not", async () => {
    const t = await newTenant("sp-page");
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Policy[]; nextCursor: string | null } } = await call(
        "GET",
        `/v1/policies?limit=1&q=scheduler%20queue%20tasks${cursor ? `&cursor=${cursor}` : ""}`,
        { token: t.reader },
      );
      seen.push(...res.body.items.map((p) => p.id));
      cursor = res.body.nextCursor;
    } while (cursor && seen.length < 50);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(["spol_fifo", "spol_latency", "spol_wvtime"]));

    const browse = await call<{ nextCursor: string }>("GET", "/v1/policies?limit=1", {
      token: t.reader,
    });
    const mixed = await call<Problem>(
      "GET",
      `/v1/policies?q=fifo&cursor=${browse.body.nextCursor}`,
      { token: t.reader },
    );
    expect(mixed.status).toBe(422);
    expect(mixed.body.errors).toEqual([
      expect.objectContaining({ path: "cursor", code: "invalid_cursor" }),
    ]);
    expect((await call("GET", "/v1/policies?cursor=***", { token: t.reader })).status).toBe(422);
  });

  it("refuses a query without words, an unknown workload class and a bad tag", async () => {
    const t = await newTenant("sp-badq");
    const empty = await call<Problem>("GET", "/v1/policies?q=%22%2A%28%29", { token: t.reader });
    expect(empty.status).toBe(422);
    expect(empty.body.errors![0]).toMatchObject({ path: "q", code: "empty_query" });
    const cls = await call<Problem>("GET", "/v1/policies?workload=sleepy", { token: t.reader });
    expect(cls.status).toBe(422);
    expect(cls.body.errors![0]!.path).toBe("workload");
    expect((await call("GET", "/v1/policies?tag=Not%20A%20Tag", { token: t.reader })).status).toBe(
      422,
    );
  });
});

describe("submitting a policy", () => {
  it("stores version 1 as checked, audited, and readable by the tenant only", async () => {
    const t = await newTenant("sp-create");
    const res = await call<{ policy: Policy; version: Version }>("POST", "/v1/policies", {
      token: t.operator,
      body: submission(),
    });
    expect(res.status).toBe(201);
    const { policy, version } = res.body;
    expect(res.headers.get("location")).toBe(`/v1/policies/${policy.id}`);
    expect(policy).toMatchObject({ builtin: false, latestVersion: 1, latestStatus: "checked" });
    expect(policy.id).toMatch(/^spol_[0-9a-f]{32}$/);
    expect(version).toMatchObject({
      version: 1,
      parentVersion: null,
      status: "checked",
      parameters: { slice_us: 30000 },
    });
    expect(version.staticChecks).toEqual({ ok: true, diagnostics: [] });

    const read = await call<Version>("GET", `/v1/policies/${policy.id}/versions/1`, {
      token: t.reader,
    });
    expect(read.body.source).toContain('"my_fifo"');
    const audit = await auditOf(t, "sched_policy.create");
    expect(audit).toEqual([
      expect.objectContaining({ decision: "allow", status: 201, target: policy.id }),
    ]);

    const other = await newTenant("sp-other");
    for (const path of [
      `/v1/policies/${policy.id}`,
      `/v1/policies/${policy.id}/versions`,
      `/v1/policies/${policy.id}/versions/1`,
      `/v1/policies/${policy.id}/history`,
    ]) {
      expect((await call("GET", path, { token: other.reader })).status, path).toBe(404);
    }
    const theirs = await call("POST", `/v1/policies/${policy.id}/versions`, {
      token: other.operator,
      body: { source: submission().source },
    });
    expect(theirs.status).toBe(404);
    const list = await call<{ items: Policy[] }>("GET", "/v1/policies?tag=render", {
      token: other.reader,
    });
    expect(list.body.items).toEqual([]);
  });

  it("refuses a source that fails the static checks with the diagnostics, storing nothing", async () => {
    const t = await newTenant("sp-refuse");
    const bad = submission({
      source: submission().source.replace(
        "return scx_bpf_create_dsq(SHARED_DSQ, -1);",
        "bpf_send_signal(9);\n\treturn scx_bpf_create_dsq(SHARED_DSQ, -1);",
      ),
    });
    const res = await call<Problem>("POST", "/v1/policies", { token: t.operator, body: bad });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(res.body.code).toBe("static_check_failed");
    const line =
      (bad.source as string).split("\n").findIndex((l) => l.includes("bpf_send_signal")) + 1;
    expect(res.body.diagnostics).toEqual([
      expect.objectContaining({ code: "callee_forbidden", line, column: 2, severity: "error" }),
    ]);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ path: "source", code: "callee_forbidden" }),
    ]);
    const list = await call<{ items: Policy[] }>("GET", `/v1/policies?q=${bad.name}`, {
      token: t.reader,
    });
    expect(list.body.items.filter((p) => p.name === bad.name)).toEqual([]);
    expect(await auditOf(t, "sched_policy.create")).toEqual([
      expect.objectContaining({ decision: "error", status: 422 }),
    ]);
  });

  it("checks parameters against the tunables' bounds", async () => {
    const t = await newTenant("sp-params");
    const res = await call<Problem>("POST", "/v1/policies", {
      token: t.operator,
      body: submission({ parameters: { slice_us: 1_000_001 } }),
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ path: "parameters.slice_us", code: "parameter_out_of_bounds" }),
    ]);
    const edge = await call("POST", "/v1/policies", {
      token: t.operator,
      body: submission({ parameters: { slice_us: 1_000_000 } }),
    });
    expect(edge.status).toBe(201);
  });

  it("takes a source at the size limit and refuses one byte more; a body over 1 MiB is 413", async () => {
    const t = await newTenant("sp-size");
    const base = submission().source;
    const fill =
      STATIC_CHECK_LIMITS.maxSourceBytes - new TextEncoder().encode(`${base}/**/`).byteLength;
    const atLimit = `${base}/*${"x".repeat(fill)}*/`;
    expect(
      (
        await call("POST", "/v1/policies", {
          token: t.operator,
          body: submission({ source: atLimit }),
        })
      ).status,
    ).toBe(201);
    const over = await call<Problem>("POST", "/v1/policies", {
      token: t.operator,
      body: submission({ source: `${atLimit} ` }),
    });
    expect(over.status).toBe(422);
    expect(over.body.errors![0]).toMatchObject({ code: "source_too_large" });
    const huge = await call<Problem>("POST", "/v1/policies", {
      token: t.operator,
      body: submission({ source: "x".repeat(1_100_000) }),
    });
    expect(huge.status).toBe(413);
  });

  it("refuses a taken name: its own, or a built-in's", async () => {
    const t = await newTenant("sp-name");
    const { policy } = await submit(t);
    const again = await call<Problem & { reason: string }>("POST", "/v1/policies", {
      token: t.operator,
      body: submission({ name: policy.name }),
    });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe("name_taken");
    expect(
      (
        await call("POST", "/v1/policies", {
          token: t.operator,
          body: submission({ name: "fifo" }),
        })
      ).status,
    ).toBe(409);
  });

  it("validates the metadata: fields, types, unknown fields, tunables, malformed JSON", async () => {
    const t = await newTenant("sp-valid");
    const post = (body: unknown) =>
      call<Problem>("POST", "/v1/policies", { token: t.operator, body });
    const { name: _n, ...noName } = submission();
    const missing = await post(noName);
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ code: "validation_failed" });
    expect(missing.body.errors![0]!.path).toBe("name");
    expect((await post(submission({ name: "Has Spaces" }))).body.errors![0]!.path).toBe("name");
    expect((await post(submission({ opsName: "x".repeat(32) }))).body.errors![0]!.path).toBe(
      "opsName",
    );
    expect((await post(submission({ extra: 1 }))).body.errors![0]).toMatchObject({
      path: "extra",
      code: "unrecognized_key",
    });
    const unbounded = await post(
      submission({
        tunables: [{ name: "slice_us", type: "int", default: 5, description: "no bounds" }],
      }),
    );
    expect(unbounded.body.errors!.map((e) => e.path)).toEqual([
      "tunables[0].min",
      "tunables[0].max",
    ]);
    expect((await post(submission({ parameters: { "Bad-Key": 1 } }))).status).toBe(422);
    const malformed = await call<Problem>("POST", "/v1/policies", {
      token: t.operator,
      raw: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe("malformed_json");
  });

  it("lets readers read but not write, and refuses the system administrator", async () => {
    const t = await newTenant("sp-roles");
    const reader = await call<Problem>("POST", "/v1/policies", {
      token: t.reader,
      body: submission(),
    });
    expect(reader.status).toBe(403);
    expect(await auditOf(t, "sched_policy.create")).toEqual([
      expect.objectContaining({ decision: "deny", status: 403 }),
    ]);
    expect(
      (await call("POST", "/v1/policies", { token: t.admin, body: submission() })).status,
    ).toBe(201);
    expect((await call("GET", "/v1/policies", { token: ADMIN_TOKEN })).status).toBe(403);
    expect((await call("GET", "/v1/policies")).status).toBe(401);
  });
});

describe("new versions", () => {
  it("numbers versions with their parents and updates the policy's metadata", async () => {
    const t = await newTenant("sp-versions");
    const { policy } = await submit(t);
    const base = submission().source;
    const add = (body: Record<string, unknown>) =>
      call<Version & Problem>("POST", `/v1/policies/${policy.id}/versions`, {
        token: t.operator,
        body,
      });
    const v2 = await add({
      source: base.replace("20000", "15000"),
      description: "Shorter default slice.",
    });
    expect(v2.status).toBe(201);
    expect(v2.headers.get("location")).toBe(`/v1/policies/${policy.id}/versions/2`);
    expect(v2.body).toMatchObject({
      version: 2,
      parentVersion: 1,
      status: "checked",
      parameters: { slice_us: 20000 },
    });
    const v3 = await add({ source: base, parentVersion: 1, parameters: { slice_us: 5000 } });
    expect(v3.body).toMatchObject({ version: 3, parentVersion: 1, parameters: { slice_us: 5000 } });
    const missingParent = await add({ source: base, parentVersion: 99 });
    expect(missingParent.status).toBe(422);
    expect(missingParent.body.errors![0]).toMatchObject({ path: "parentVersion" });
    const refused = await add({ source: base.replace('"my_fifo"', '"other"') });
    expect(refused.status).toBe(422);
    expect(refused.body.errors![0]).toMatchObject({ code: "ops_name_mismatch" });

    const after = await call<Policy>("GET", `/v1/policies/${policy.id}`, { token: t.reader });
    expect(after.body).toMatchObject({ latestVersion: 3, description: "Shorter default slice." });
    const page1 = await call<{ items: Version[]; nextCursor: string }>(
      "GET",
      `/v1/policies/${policy.id}/versions?limit=2`,
      { token: t.reader },
    );
    expect(page1.body.items.map((v) => v.version)).toEqual([3, 2]);
    const page2 = await call<{ items: Version[]; nextCursor: string | null }>(
      "GET",
      `/v1/policies/${policy.id}/versions?limit=2&cursor=${page1.body.nextCursor}`,
      { token: t.reader },
    );
    expect(page2.body).toEqual({
      items: [expect.objectContaining({ version: 1 })],
      nextCursor: null,
    });
    const audit = await auditOf(t, "sched_policy.version_create");
    expect(audit.map((a) => a.decision).sort()).toEqual(["allow", "allow", "error", "error"]);
    expect(audit.every((a) => a.target === policy.id)).toBe(true);
  });

  it("checks a new version against new tunables when it brings them", async () => {
    const t = await newTenant("sp-tunables");
    const { policy } = await submit(t);
    const withBoost = submission().source.replace(
      "#define SHARED_DSQ 0",
      "#ifndef EK_BOOST\n#define EK_BOOST 0\n#endif\n#define SHARED_DSQ (EK_BOOST ? 0 : 0)",
    );
    const tunables = [
      ...FIFO.tunables,
      { name: "boost", type: "bool", default: false, description: "b" },
    ];
    const res = await call<Version>("POST", `/v1/policies/${policy.id}/versions`, {
      token: t.operator,
      body: { source: withBoost, tunables, parameters: { boost: true } },
    });
    expect(res.status).toBe(201);
    expect(res.body.parameters).toEqual({ slice_us: 20000, boost: true });
    const unknown = await call<Problem>("POST", `/v1/policies/${policy.id}/versions`, {
      token: t.operator,
      body: { source: submission().source, tunables: FIFO.tunables, parameters: { boost: true } },
    });
    expect(unknown.body.errors![0]).toMatchObject({ code: "parameter_unknown" });
  });
});

describe("history and quarantine", () => {
  it("shows rollout transitions and performance records, newest first, in pages", async () => {
    const t = await newTenant("sp-history");
    const { policy } = await submit(t);
    await appendRolloutHistory(db, t.id, [
      {
        atMs: 1_000,
        rolloutId: "rol_a",
        policyId: policy.id,
        version: 1,
        nodeId: null,
        from: "none",
        to: "canary",
        reason: null,
      },
      {
        atMs: 2_000,
        rolloutId: "rol_a",
        policyId: policy.id,
        version: 1,
        nodeId: "n1",
        from: "pending",
        to: "assigning",
        reason: "canary",
      },
    ]);
    await recordPerformance(
      db,
      {
        tenantId: t.id,
        policyId: policy.id,
        version: 1,
        targetKind: "group",
        target: "role=render",
        workloadClass: "cpu-bound-batch",
        metricsBefore: { psiSomeAvg10Pct: 12 },
        metricsAfter: { psiSomeAvg10Pct: 7 },
        outcome: "improved",
        rolloutId: "rol_a",
      },
      3_000,
    );
    const res = await call<{ items: Array<Record<string, unknown>>; nextCursor: string }>(
      "GET",
      `/v1/policies/${policy.id}/history?limit=2`,
      { token: t.reader },
    );
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({
        kind: "performance",
        at: new Date(3_000).toISOString(),
        target: "role=render",
        outcome: "improved",
      }),
      expect.objectContaining({ kind: "rollout", nodeId: "n1", from: "pending", to: "assigning" }),
    ]);
    const next = await call<{ items: Array<Record<string, unknown>>; nextCursor: string | null }>(
      "GET",
      `/v1/policies/${policy.id}/history?limit=2&cursor=${res.body.nextCursor}`,
      { token: t.reader },
    );
    expect(next.body).toEqual({
      items: [expect.objectContaining({ kind: "rollout", to: "canary" })],
      nextCursor: null,
    });
    const n1 = await call<{ items: unknown[] }>(
      "GET",
      `/v1/policies/${policy.id}/history?nodeId=n1`,
      { token: t.reader },
    );
    expect(n1.body.items).toHaveLength(1);
    expect(
      (await call("GET", `/v1/policies/${policy.id}/history?nodeId=-bad`, { token: t.reader }))
        .status,
    ).toBe(422);
    // A built-in's history is the tenant's own.
    const builtin = await call<{ items: unknown[] }>("GET", "/v1/policies/spol_fifo/history", {
      token: t.reader,
    });
    expect(builtin.body.items).toEqual([]);
  });

  it("shows a quarantined version as such for the tenant only, and clears it on command", async () => {
    const t = await newTenant("sp-quarantine");
    const other = await newTenant("sp-quarantine-other");
    await quarantineVersion(db, {
      tenantId: t.id,
      policyId: "spol_fifo",
      version: 1,
      failedNodes: ["n1", "n2", "n3"],
      reason: "failed on 3 nodes (threshold 3)",
      atMs: 5_000,
    });
    const v = await call<Version>("GET", "/v1/policies/spol_fifo/versions/1", { token: t.reader });
    expect(v.body).toMatchObject({
      status: "quarantined",
      quarantine: { failedNodes: ["n1", "n2", "n3"] },
    });
    expect(
      (await call<Policy>("GET", "/v1/policies/spol_fifo", { token: t.reader })).body.latestStatus,
    ).toBe("quarantined");
    expect(
      (await call<Version>("GET", "/v1/policies/spol_fifo/versions/1", { token: other.reader }))
        .body.status,
    ).toBe("checked");

    const path = "/v1/policies/spol_fifo/versions/1/clear-quarantine";
    expect((await call("POST", path, { token: t.reader })).status).toBe(403);
    const cleared = await call<Version>("POST", path, { token: t.operator });
    expect(cleared.status).toBe(200);
    expect(cleared.body.status).toBe("checked");
    const again = await call<Problem>("POST", path, { token: t.operator });
    expect(again.status).toBe(409);
    expect(await auditOf(t, "sched_policy.clear_quarantine")).toHaveLength(3);
  });
});

describe("recommendations from the repository", () => {
  it("ranks the tenant's visible policies for a class, leaving quarantined ones out", async () => {
    const t = await newTenant("sp-recommend");
    await submit(t, {
      useCases: ["latency-sensitive", "gaming"],
      name: `snappy-${crypto.randomUUID().slice(0, 6)}`,
    });
    const before = await recommendForWorkload(
      env as unknown as Env,
      db,
      t.id,
      "latency-sensitive",
      [null],
    );
    const names = before.recommendations.map((r) => r.name);
    expect(names).toContain("latency");
    expect(names.some((n) => n.startsWith("snappy-"))).toBe(true);
    await quarantineVersion(db, {
      tenantId: t.id,
      policyId: "spol_latency",
      version: 1,
      failedNodes: ["a"],
      reason: "r",
      atMs: 1,
    });
    const after = await recommendForWorkload(env as unknown as Env, db, t.id, "latency-sensitive", [
      null,
    ]);
    expect(after.recommendations.map((r) => r.name)).not.toContain("latency");
    expect(after.excluded.map((e) => e.name)).toContain("latency");
  });
});

describe("the API description", () => {
  it("documents every scheduler-policy route", async () => {
    const res = await call<{
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>("GET", "/openapi.json");
    const expected: Array<[string, string]> = [
      ["/v1/policies", "get"],
      ["/v1/policies", "post"],
      ["/v1/policies/{id}", "get"],
      ["/v1/policies/{id}/versions", "get"],
      ["/v1/policies/{id}/versions", "post"],
      ["/v1/policies/{id}/versions/{version}", "get"],
      ["/v1/policies/{id}/versions/{version}/clear-quarantine", "post"],
      ["/v1/policies/{id}/history", "get"],
    ];
    for (const [path, method] of expected) {
      expect(res.body.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    for (const schema of [
      "SchedPolicy",
      "SchedPolicyCreateRequest",
      "SchedPolicyVersionDetail",
      "StaticCheckDiagnostic",
    ]) {
      expect(res.body.components.schemas[schema], schema).toBeDefined();
    }
  });
});
