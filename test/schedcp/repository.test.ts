/**
 * The policy repository against real D1 and R2: seeding the built-ins (idempotent, upgrades
 * become versions), tenants' policies and versions, full-text search, the circuit breaker's
 * quarantine, verification and signing transitions, and history.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { toFtsQuery } from "../../src/kernel/memory/fts-query";
import { BUILTIN_POLICIES } from "../../src/schedcp/bpf/catalog";
import { type CatalogEntry, catalogMetadata, defaultParameters } from "../../src/schedcp/metadata";
import type { VerifyResult } from "../../src/schedcp/protocol";
import type { HistoryEntry } from "../../src/schedcp/rollout-types";
import { openDb } from "../../src/store/db";
import { seedBuiltinPolicies } from "../../src/store/sched-builtins";
import {
  activeQuarantines,
  clearQuarantine,
  quarantineVersion,
  recordPolicyFailure,
} from "../../src/store/sched-circuit-breaker";
import {
  appendRolloutHistory,
  listPolicyHistory,
  recordPerformance,
} from "../../src/store/sched-history";
import {
  builtinPolicyId,
  createPolicy,
  createVersion,
  getPolicy,
  getVersion,
  listPolicies,
  listVersions,
  type NewVersionFields,
  newSchedPolicyId,
  putPolicySource,
  readPolicySource,
  sourceKey,
} from "../../src/store/sched-policies";
import {
  markSigned,
  recordVerification,
  setVersionStatus,
} from "../../src/store/sched-verification";
import { SAMPLE_POLICIES } from "./policy-fixtures";

const testEnv = env as unknown as Env;
const db = openDb(testEnv.DB);
const blobs = testEnv.BLOBS;
const NOW = 1_800_000_000_000;
const uniq = () => crypto.randomUUID().slice(0, 8);

/** A copy of a catalog entry under a fresh name, so tests do not share built-ins. */
function entry(base: CatalogEntry, overrides: Partial<CatalogEntry> = {}): CatalogEntry {
  return { ...base, name: `${base.name}-${uniq()}`, ...overrides };
}

async function versionFields(source: string, by = "key_test"): Promise<NewVersionFields> {
  const { sha256, sizeBytes } = await putPolicySource(blobs, source);
  const fifo = SAMPLE_POLICIES[0]!;
  return {
    sourceSha256: sha256,
    sourceSizeBytes: sizeBytes,
    parameters: defaultParameters(fifo.tunables),
    tunables: fifo.tunables,
    diagnostics: [],
    status: "checked",
    statusReason: null,
    createdBy: by,
  };
}

async function tenantPolicy(tenantId: string, name = `p-${uniq()}`, description?: string) {
  const fifo = SAMPLE_POLICIES[0]!;
  const metadata = catalogMetadata({ ...fifo, name, ...(description ? { description } : {}) });
  const out = await createPolicy(
    db,
    { id: newSchedPolicyId(NOW), tenantId, metadata, version: await versionFields(fifo.source) },
    NOW,
  );
  if (!out.ok) throw new Error(out.code);
  return out;
}

describe("seeding the built-ins", () => {
  it("writes each catalog policy once, with its source in R2 and version 1 checked", async () => {
    const catalog = BUILTIN_POLICIES.map((e) => entry(e));
    const first = await seedBuiltinPolicies(db, blobs, catalog, NOW);
    expect(first).toEqual({ policies: 3, versionsAdded: 3, rejected: [] });
    const again = await seedBuiltinPolicies(db, blobs, catalog, NOW + 1);
    expect(again.versionsAdded).toBe(0);

    const id = builtinPolicyId(catalog[0]!.name);
    const policy = await getPolicy(db, "any-tenant", id);
    expect(policy).toMatchObject({
      tenantId: null,
      latestVersion: 1,
      opsName: "ek_fifo",
      updatedAtMs: NOW,
    });
    const v1 = await getVersion(db, id, 1);
    expect(v1).toMatchObject({ status: "checked", parentVersion: null, diagnosticsJson: "[]" });
    expect(await readPolicySource(blobs, v1!.sourceSha256)).toBe(catalog[0]!.source);
    expect(JSON.parse(v1!.parametersJson)).toEqual({ slice_us: 20000 });
  });

  it("turns a changed source into the next version, and changed metadata into an update only", async () => {
    const [original] = [entry(BUILTIN_POLICIES[0]!)];
    await seedBuiltinPolicies(db, blobs, [original!], NOW);
    const id = builtinPolicyId(original!.name);

    const described = { ...original!, description: "A clearer description." };
    expect((await seedBuiltinPolicies(db, blobs, [described], NOW + 1)).versionsAdded).toBe(0);
    expect(await getPolicy(db, "t", id)).toMatchObject({
      description: "A clearer description.",
      latestVersion: 1,
    });

    const changed = { ...described, source: described.source.replace("20000", "25000") };
    expect((await seedBuiltinPolicies(db, blobs, [changed], NOW + 2)).versionsAdded).toBe(1);
    expect(await getPolicy(db, "t", id)).toMatchObject({ latestVersion: 2 });
    expect(await getVersion(db, id, 2)).toMatchObject({ parentVersion: 1, status: "checked" });
  });

  it("stores a built-in whose source fails the checks as rejected, with the diagnostics", async () => {
    const broken = entry(BUILTIN_POLICIES[0]!, {
      source: BUILTIN_POLICIES[0]!.source.replace("scx_bpf_dsq_move_to_local", "bpf_send_signal"),
    });
    const out = await seedBuiltinPolicies(db, blobs, [broken], NOW);
    expect(out.rejected).toEqual([broken.name]);
    const v = await getVersion(db, builtinPolicyId(broken.name), 1);
    expect(v!.status).toBe("rejected");
    expect(JSON.parse(v!.diagnosticsJson)[0]).toMatchObject({ code: "callee_forbidden" });
  });

  it("seeds the same catalog from two isolates at once without a duplicate version", async () => {
    const catalog = [entry(BUILTIN_POLICIES[1]!)];
    const reports = await Promise.all([
      seedBuiltinPolicies(db, blobs, catalog, NOW),
      seedBuiltinPolicies(db, blobs, catalog, NOW),
    ]);
    expect(reports.map((r) => r.versionsAdded).sort()).toEqual([0, 1]);
    expect(await listVersions(db, builtinPolicyId(catalog[0]!.name), { limit: 10 })).toHaveLength(
      1,
    );
  });
});

describe("tenants' policies and versions", () => {
  it("creates a policy with version 1, content-addressed in R2", async () => {
    const tenant = `ten_${uniq()}`;
    const { policy, version } = await tenantPolicy(tenant);
    expect(policy).toMatchObject({ tenantId: tenant, latestVersion: 1 });
    expect(version).toMatchObject({ version: 1, parentVersion: null, status: "checked" });
    expect(await blobs.head(sourceKey(version.sourceSha256))).not.toBeNull();
  });

  it("refuses a name the tenant or a built-in already has; another tenant may use it", async () => {
    const tenant = `ten_${uniq()}`;
    const { policy } = await tenantPolicy(tenant);
    const fields = await versionFields("x");
    const metadata = catalogMetadata({ ...SAMPLE_POLICIES[0]!, name: policy.name });
    const again = await createPolicy(
      db,
      { id: newSchedPolicyId(), tenantId: tenant, metadata, version: fields },
      NOW,
    );
    expect(again).toEqual({ ok: false, code: "name_taken" });
    const builtin = entry(BUILTIN_POLICIES[2]!);
    await seedBuiltinPolicies(db, blobs, [builtin], NOW);
    const clash = await createPolicy(
      db,
      {
        id: newSchedPolicyId(),
        tenantId: tenant,
        metadata: { ...metadata, name: builtin.name },
        version: fields,
      },
      NOW,
    );
    expect(clash).toEqual({ ok: false, code: "name_taken" });
    const other = await createPolicy(
      db,
      { id: newSchedPolicyId(), tenantId: `ten_${uniq()}`, metadata, version: fields },
      NOW,
    );
    expect(other.ok).toBe(true);
  });

  it("numbers versions in order, also when two writers race, each with its parent", async () => {
    const tenant = `ten_${uniq()}`;
    const { policy } = await tenantPolicy(tenant);
    const metadata = catalogMetadata(SAMPLE_POLICIES[0]!);
    const add = async (parentVersion: number, source: string) =>
      createVersion(
        db,
        { policyId: policy.id, parentVersion, metadata, version: await versionFields(source) },
        NOW + 5,
      );
    const [a, b] = await Promise.all([add(1, "// a"), add(1, "// b")]);
    expect([a, b].map((o) => (o.ok ? o.version.version : 0)).sort()).toEqual([2, 3]);
    const c = await createVersion(
      db,
      {
        policyId: policy.id,
        parentVersion: 3,
        metadata: { ...metadata, description: "Version four's description." },
        version: await versionFields("// c"),
      },
      NOW + 6,
    );
    expect(c).toMatchObject({ ok: true, version: { version: 4, parentVersion: 3 } });
    expect(await getPolicy(db, tenant, policy.id)).toMatchObject({
      latestVersion: 4,
      description: "Version four's description.",
      updatedAtMs: NOW + 6,
    });
    const page = await listVersions(db, policy.id, { limit: 2 });
    expect(page.map((v) => v.version)).toEqual([4, 3]);
    expect(
      (await listVersions(db, policy.id, { limit: 10, beforeVersion: 3 })).map((v) => v.version),
    ).toEqual([2, 1]);
  });

  it("hides another tenant's policy", async () => {
    const { policy } = await tenantPolicy(`ten_${uniq()}`);
    expect(await getPolicy(db, `ten_${uniq()}`, policy.id)).toBeNull();
  });
});

describe("search", () => {
  it("finds policies by words in any indexed field, best match first, tenant-scoped", async () => {
    const tenant = `ten_${uniq()}`;
    const word = `zq${uniq().replace(/[^a-z]/g, "")}`;
    const best = await tenantPolicy(
      tenant,
      `a-${uniq()}`,
      `${word} ${word} scheduling for ${word} rendering farms`,
    );
    const weaker = await tenantPolicy(
      tenant,
      `b-${uniq()}`,
      `general scheduling, mentions ${word} once among many other words here`,
    );
    await tenantPolicy(`ten_${uniq()}`, `c-${uniq()}`, `${word} in another tenant`);
    const hits = await listPolicies(db, {
      tenantId: tenant,
      ftsQuery: toFtsQuery(word)!,
      limit: 10,
    });
    expect(hits.map((h) => h.row.id)).toEqual([best.policy.id, weaker.policy.id]);
    expect(hits[0]!.rank!).toBeLessThan(hits[1]!.rank!);
    const page2 = await listPolicies(db, {
      tenantId: tenant,
      ftsQuery: toFtsQuery(word)!,
      limit: 10,
      after: { rank: hits[0]!.rank!, id: hits[0]!.row.id },
    });
    expect(page2.map((h) => h.row.id)).toEqual([weaker.policy.id]);
  });

  it("stems words and searches use cases, filters by tag and by workload tags", async () => {
    const builtin = entry(BUILTIN_POLICIES[2]!); // latency: latency-sensitive, mixed, io-bound
    await seedBuiltinPolicies(db, blobs, [builtin], NOW);
    const tenant = `ten_${uniq()}`;
    // Its description says the short runners "are dispatched first".
    const stemmed = await listPolicies(db, {
      tenantId: tenant,
      ftsQuery: toFtsQuery("dispatching")!,
      limit: 100,
    });
    expect(stemmed.map((h) => h.row.name)).toContain(builtin.name);
    const tagged = await listPolicies(db, { tenantId: tenant, tag: "io-bound", limit: 100 });
    expect(tagged.map((h) => h.row.name)).toContain(builtin.name);
    const notTagged = await listPolicies(db, {
      tenantId: tenant,
      tag: "cpu-bound-batch",
      limit: 100,
    });
    expect(notTagged.map((h) => h.row.name)).not.toContain(builtin.name);
    const byClass = await listPolicies(db, {
      tenantId: tenant,
      anyTag: ["gaming", "latency-sensitive"],
      limit: 100,
    });
    expect(byClass.map((h) => h.row.name)).toContain(builtin.name);
  });

  it("browses by name with keyset pages", async () => {
    const tenant = `ten_${uniq()}`;
    const prefix = `zz-${uniq()}`;
    for (const n of ["c", "a", "b"]) await tenantPolicy(tenant, `${prefix}-${n}`);
    const all = (await listPolicies(db, { tenantId: tenant, limit: 500 })).filter(
      (h) => h.row.tenantId === tenant,
    );
    expect(all.map((h) => h.row.name)).toEqual(["a", "b", "c"].map((n) => `${prefix}-${n}`));
    const after = await listPolicies(db, {
      tenantId: tenant,
      limit: 1,
      after: { name: all[0]!.row.name, id: all[0]!.row.id },
    });
    expect(after.map((h) => h.row.name)).toEqual([`${prefix}-b`]);
  });
});

describe("the circuit breaker's records", () => {
  it("counts distinct failed nodes per tenant, quarantines, and clears with the failures", async () => {
    const tenant = `ten_${uniq()}`;
    const { policy } = await tenantPolicy(tenant);
    const fail = (nodeId: string, t = tenant) =>
      recordPolicyFailure(db, {
        tenantId: t,
        policyId: policy.id,
        version: 1,
        nodeId,
        rolloutId: "rol_1",
        reason: "ejected",
        atMs: NOW,
      });
    expect(await fail("n1")).toEqual(["n1"]);
    expect(await fail("n1")).toEqual(["n1"]);
    expect(await fail("n2")).toEqual(["n1", "n2"]);
    expect(await fail("n9", `ten_${uniq()}`)).toEqual(["n9"]);

    await quarantineVersion(db, {
      tenantId: tenant,
      policyId: policy.id,
      version: 1,
      failedNodes: ["n1", "n2"],
      reason: "2 nodes",
      atMs: NOW,
    });
    const listed = await listPolicies(db, { tenantId: tenant, tag: "hpc", limit: 500 });
    expect(listed.find((h) => h.row.id === policy.id)?.latestStatus).toBe("quarantined");
    expect(await activeQuarantines(db, tenant, policy.id)).toHaveLength(1);

    expect(
      await clearQuarantine(db, {
        tenantId: tenant,
        policyId: policy.id,
        version: 1,
        actor: "key_x",
        atMs: NOW + 1,
      }),
    ).toBe(true);
    expect(await activeQuarantines(db, tenant, policy.id)).toEqual([]);
    expect(await fail("n3")).toEqual(["n3"]);
    expect(
      await clearQuarantine(db, {
        tenantId: tenant,
        policyId: policy.id,
        version: 1,
        actor: "key_x",
        atMs: NOW + 2,
      }),
    ).toBe(false);
  });
});

describe("verification and signing", () => {
  const result = (ok: boolean): VerifyResult => ({
    jobId: "vjob_1",
    ok,
    stages: [
      { stage: "compile", ok: true, durationMs: 10, log: "" },
      { stage: "load", ok, durationMs: 10, log: ok ? "" : "invalid access to map value" },
    ],
    loaded: ok,
    tasksScheduled: ok ? 12 : 0,
    ejected: false,
    ejectionReason: null,
    unloadedCleanly: ok,
    kernelRelease: "7.3.0",
    object: { sha256: "b".repeat(64), sizeBytes: 4096 },
  });

  it("moves checked → verifying → verified → signed, and refuses out-of-order writes", async () => {
    const { policy } = await tenantPolicy(`ten_${uniq()}`);
    expect(await recordVerification(db, policy.id, 1, result(true), NOW)).toBe(false);
    expect(
      await markSigned(db, policy.id, 1, { signature: "s", keyId: "k", expiresAtMs: NOW + 1 }, NOW),
    ).toBe(false);
    expect(await setVersionStatus(db, policy.id, 1, ["checked"], "verifying", null, NOW)).toBe(
      true,
    );
    expect(await recordVerification(db, policy.id, 1, result(true), NOW)).toBe(true);
    expect(await getVersion(db, policy.id, 1)).toMatchObject({
      status: "verified",
      objectSha256: "b".repeat(64),
      objectSizeBytes: 4096,
    });
    expect(
      await markSigned(
        db,
        policy.id,
        1,
        { signature: "sig", keyId: "0123456789abcdef", expiresAtMs: NOW + 9 },
        NOW,
      ),
    ).toBe(true);
    expect(await getVersion(db, policy.id, 1)).toMatchObject({
      status: "signed",
      signature: "sig",
      signedExpiresAtMs: NOW + 9,
    });
  });

  it("rejects a version whose verification failed, naming the stage", async () => {
    const { policy } = await tenantPolicy(`ten_${uniq()}`);
    await setVersionStatus(db, policy.id, 1, ["checked"], "verifying", null, NOW);
    await recordVerification(db, policy.id, 1, result(false), NOW);
    const v = await getVersion(db, policy.id, 1);
    expect(v).toMatchObject({
      status: "rejected",
      statusReason: "verification failed at load",
      objectSha256: null,
    });
    expect(JSON.parse(v!.verificationJson!).stages[1].log).toBe("invalid access to map value");
  });
});

describe("history", () => {
  it("interleaves rollout transitions and performance records, newest first, in pages", async () => {
    const tenant = `ten_${uniq()}`;
    const { policy } = await tenantPolicy(tenant);
    const entry = (
      atMs: number,
      nodeId: string | null,
      from: string,
      to: string,
    ): HistoryEntry => ({
      atMs,
      rolloutId: "rol_h",
      policyId: policy.id,
      version: 1,
      nodeId,
      from,
      to,
      reason: null,
    });
    const entries = [
      entry(NOW + 1, null, "none", "canary"),
      ...Array.from({ length: 20 }, (_, i) =>
        entry(NOW + 2 + i, `n${i % 3}`, "pending", "assigning"),
      ),
    ];
    await appendRolloutHistory(db, tenant, entries);
    await recordPerformance(
      db,
      {
        tenantId: tenant,
        policyId: policy.id,
        version: 1,
        targetKind: "node",
        target: "n1",
        workloadClass: "cpu-bound-batch",
        metricsBefore: { meanRunDelayUs: 900 },
        metricsAfter: { meanRunDelayUs: 400 },
        outcome: "improved",
        rolloutId: "rol_h",
      },
      NOW + 10,
    );
    const all = await listPolicyHistory(db, { tenantId: tenant, policyId: policy.id, limit: 100 });
    expect(all).toHaveLength(22);
    expect(all.map((h) => h.atMs)).toEqual([...all.map((h) => h.atMs)].sort((a, b) => b - a));
    expect(all.find((h) => h.kind === "performance")).toMatchObject({
      target: "n1",
      outcome: "improved",
      metricsAfter: { meanRunDelayUs: 400 },
    });

    const pages: string[] = [];
    let after: { atMs: number; kind: string; key: string } | undefined;
    for (;;) {
      const page = await listPolicyHistory(db, {
        tenantId: tenant,
        policyId: policy.id,
        limit: 5,
        after,
      });
      if (page.length === 0) break;
      pages.push(...page.map((h) => `${h.kind}:${h.key}`));
      const last = page.at(-1)!;
      after = { atMs: last.atMs, kind: last.kind, key: last.key };
    }
    expect(pages).toEqual(all.map((h) => `${h.kind}:${h.key}`));

    const n1 = await listPolicyHistory(db, {
      tenantId: tenant,
      policyId: policy.id,
      nodeId: "n1",
      limit: 100,
    });
    expect(n1.every((h) => (h.kind === "rollout" ? h.nodeId === "n1" : h.target === "n1"))).toBe(
      true,
    );
    expect(n1).toHaveLength(8);
    expect(
      await listPolicyHistory(db, { tenantId: `ten_${uniq()}`, policyId: policy.id, limit: 100 }),
    ).toEqual([]);
  });
});
