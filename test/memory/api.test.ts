/**
 * Long-term memory over HTTPS: write, full-text search ranked by bm25 with provenance, delete,
 * the tenant-wide view, tenant and agent-type isolation, and the edges of every input.
 */

import { describe, expect, it } from "vitest";
import { MAX_MEMORY_CHARS, MAX_MEMORY_TAGS } from "../../src/kernel/memory/limits";
import { call, defineType, eventsOf, newTenant, spawnIdle, type TestTenant } from "../helpers";

interface Provenance {
  memoryId: string;
  agentType: string;
  processId: string | null;
  step: number | null;
  source: string;
  createdAt: string;
}
interface Memory {
  id: string;
  content: string;
  tags: string[];
  provenance: Provenance;
  snippet?: string;
  score?: number;
}

const base = (id: string) => `/v1/processes/${id}/workspace/memory`;

async function write(t: TestTenant, id: string, content: string, tags: string[] = []) {
  const res = await call<Memory>("POST", base(id), { token: t.operator, body: { content, tags } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function search(token: string, id: string, q: string, extra = "") {
  return call<{ items: Memory[] }>("GET", `${base(id)}?q=${encodeURIComponent(q)}${extra}`, {
    token,
  });
}

describe("memory search", () => {
  it("ranks the memory that matches the query best first, by bm25", async () => {
    const t = await newTenant("mem-rank");
    const p = await spawnIdle(t.operator);
    await write(t, p.id, "The weekly report goes out on Friday afternoon.");
    await write(t, p.id, "Canary hosts are rolled back when latency regresses.");
    const best = await write(
      t,
      p.id,
      "The canary rollout of scheduler policy scx_lavd regressed p99 latency on host n7.",
      ["fleet"],
    );
    await write(t, p.id, "Latency dashboards live in the observability folder.");
    await write(t, p.id, "The scheduler pool for scripted models has eight slots.");

    const res = await search(t.reader, p.id, "canary scheduler latency regressed");
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThanOrEqual(3);
    expect(res.body.items[0]!.id).toBe(best.id);
    // Scores descend (higher is better) and the snippet marks the matched terms.
    const scores = res.body.items.map((m) => m.score!);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(res.body.items[0]!.snippet).toContain("[canary]");
    // An unrelated memory does not match at all.
    expect(res.body.items.map((m) => m.content)).not.toContain(
      "The weekly report goes out on Friday afternoon.",
    );
  });

  it("finds stemmed forms and honours limit and tag", async () => {
    const t = await newTenant("mem-stem");
    const p = await spawnIdle(t.operator);
    const a = await write(t, p.id, "Deploying to the edge takes two minutes.", ["ops"]);
    const b = await write(t, p.id, "We deployed the fix on Monday.");
    const stemmed = await search(t.reader, p.id, "deploy");
    expect(stemmed.body.items.map((m) => m.id).sort()).toEqual([a.id, b.id].sort());
    const limited = await search(t.reader, p.id, "deploy", "&limit=1");
    expect(limited.body.items).toHaveLength(1);
    const tagged = await search(t.reader, p.id, "deploy", "&tag=ops");
    expect(tagged.body.items.map((m) => m.id)).toEqual([a.id]);
  });

  it("carries full provenance on every result", async () => {
    const t = await newTenant("mem-prov");
    const p = await spawnIdle(t.operator);
    const written = await write(t, p.id, "Provenance matters for retrieved memories.", ["audit"]);
    expect(written.id).toMatch(/^mem_[0-9a-f]{32}$/);
    const res = await search(t.reader, p.id, "provenance");
    const hit = res.body.items[0]!;
    expect(hit.id).toBe(written.id);
    expect(hit.content).toBe("Provenance matters for retrieved memories.");
    expect(hit.tags).toEqual(["audit"]);
    expect(hit.provenance).toEqual({
      memoryId: written.id,
      agentType: "assistant",
      processId: p.id,
      step: null,
      source: "explicit",
      createdAt: written.provenance.createdAt,
    });
    expect(Number.isNaN(Date.parse(hit.provenance.createdAt))).toBe(false);
  });

  it("treats FTS syntax in the query as plain words, never as a 500", async () => {
    const t = await newTenant("mem-syntax");
    const p = await spawnIdle(t.operator);
    const m = await write(t, p.id, "Quotes and stars in a query are harmless.");
    for (const q of [
      '"quotes',
      'quotes" OR "',
      "stars*",
      "NEAR(quotes stars)",
      "content:quotes",
      "quotes AND NOT -stars ^",
      "(quotes",
      "quotes'); DROP TABLE memories; --",
    ]) {
      const res = await search(t.reader, p.id, q);
      expect(res.status, q).toBe(200);
      expect(
        res.body.items.map((x) => x.id),
        q,
      ).toContain(m.id);
    }
    // Operators are searched as the words they are: "AND" finds the memory saying "and"...
    const and = await search(t.reader, p.id, "AND");
    expect(and.body.items.map((x) => x.id)).toEqual([m.id]);
    // ...and words the memory does not hold find nothing, harmlessly.
    const ops = await search(t.reader, p.id, "OR NOT NEAR");
    expect(ops.status).toBe(200);
    expect(ops.body.items).toEqual([]);
  });

  it("answers 422 for a query without a word, a missing one or a bad limit", async () => {
    const t = await newTenant("mem-empty");
    const p = await spawnIdle(t.operator);
    for (const q of ["", "   ", '"', '""', "*", "(-)^"]) {
      const res = await search(t.reader, p.id, q);
      expect(res.status, JSON.stringify(q)).toBe(422);
      expect((res.body as unknown as { errors: Array<{ path: string }> }).errors[0]!.path).toBe(
        "q",
      );
    }
    expect((await call("GET", base(p.id), { token: t.reader })).status).toBe(422);
    expect((await search(t.reader, p.id, "x", "&limit=0")).status).toBe(422);
    expect((await search(t.reader, p.id, "x", "&limit=51")).status).toBe(422);
    expect((await search(t.reader, p.id, "x", "&tag=Bad%20Tag")).status).toBe(422);
    expect((await search(t.reader, p.id, "x".repeat(1001))).status).toBe(422);
  });
});

describe("memory scoping", () => {
  it("never shows one tenant's memories to another", async () => {
    const a = await newTenant("mem-ten-a");
    const b = await newTenant("mem-ten-b");
    const pa = await spawnIdle(a.operator);
    const pb = await spawnIdle(b.operator);
    const secret = await write(a, pa.id, "Tenant A keeps its zanzibar secret here.");
    // B's own process of the same agent type finds nothing.
    const own = await search(b.reader, pb.id, "zanzibar secret");
    expect(own.status).toBe(200);
    expect(own.body.items).toEqual([]);
    // B's keys on A's process answer as for a missing process.
    expect((await search(b.reader, pa.id, "zanzibar")).status).toBe(404);
    expect(
      (await call("POST", base(pa.id), { token: b.operator, body: { content: "intrusion" } }))
        .status,
    ).toBe(404);
    expect(
      (await call("DELETE", `${base(pa.id)}/${secret.id}`, { token: b.operator })).status,
    ).toBe(404);
    // Nor can B delete A's memory through its own process.
    expect(
      (await call("DELETE", `${base(pb.id)}/${secret.id}`, { token: b.operator })).status,
    ).toBe(404);
    const view = await call<{ items: Memory[] }>("GET", "/v1/memories?q=zanzibar", {
      token: b.reader,
    });
    expect(view.body.items).toEqual([]);
    // A still has it.
    expect((await search(a.reader, pa.id, "zanzibar")).body.items.map((m) => m.id)).toEqual([
      secret.id,
    ]);
  });

  it("keeps each agent type's memory to itself; the tenant view sees all of them", async () => {
    const t = await newTenant("mem-type");
    const other = await defineType(t, { capabilities: ["proc.finish", "proc.sleep"] });
    const p1 = await spawnIdle(t.operator);
    const p2 = await spawnIdle(t.operator, { type: other });
    const m1 = await write(t, p1.id, "Glacier notes for the assistant type.");
    const m2 = await write(t, p2.id, "Glacier notes for the other type.");
    expect((await search(t.reader, p1.id, "glacier")).body.items.map((m) => m.id)).toEqual([m1.id]);
    expect((await search(t.reader, p2.id, "glacier")).body.items.map((m) => m.id)).toEqual([m2.id]);
    const all = await call<{ items: Memory[] }>("GET", "/v1/memories?q=glacier", {
      token: t.reader,
    });
    expect(all.body.items.map((m) => m.id).sort()).toEqual([m1.id, m2.id].sort());
    const one = await call<{ items: Memory[] }>(
      "GET",
      `/v1/memories?q=glacier&agentType=${other}`,
      { token: t.reader },
    );
    expect(one.body.items.map((m) => m.id)).toEqual([m2.id]);
    // Without q: newest first.
    const newest = await call<{ items: Memory[] }>("GET", "/v1/memories?limit=1", {
      token: t.reader,
    });
    expect(newest.body.items.map((m) => m.id)).toEqual([m2.id]);
    expect((await call("GET", "/v1/memories?q=%22", { token: t.reader })).status).toBe(422);
    expect((await call("GET", "/v1/memories?agentType=Bad!", { token: t.reader })).status).toBe(
      422,
    );
  });
});

describe("memory writes and deletes", () => {
  it("deletes a memory once; a second delete and unknown ids are 404", async () => {
    const t = await newTenant("mem-del");
    const p = await spawnIdle(t.operator);
    const m = await write(t, p.id, "Ephemeral fact about puffins.");
    const del = await call("DELETE", `${base(p.id)}/${m.id}`, { token: t.operator });
    expect(del.status).toBe(204);
    expect((await search(t.reader, p.id, "puffins")).body.items).toEqual([]);
    expect((await call("DELETE", `${base(p.id)}/${m.id}`, { token: t.operator })).status).toBe(404);
    expect((await call("DELETE", `${base(p.id)}/mem_nope`, { token: t.operator })).status).toBe(
      404,
    );
    // A reader may search but not delete or write.
    const m2 = await write(t, p.id, "Readers cannot delete this.");
    expect((await call("DELETE", `${base(p.id)}/${m2.id}`, { token: t.reader })).status).toBe(403);
    expect(
      (await call("POST", base(p.id), { token: t.reader, body: { content: "no" } })).status,
    ).toBe(403);
  });

  it("records writes and deletes in the audit log", async () => {
    const t = await newTenant("mem-audit");
    const p = await spawnIdle(t.operator);
    const m = await write(t, p.id, "Audited memory.");
    await call("DELETE", `${base(p.id)}/${m.id}`, { token: t.operator });
    const log = await call<{ items: Array<{ action: string; target: string; status: number }> }>(
      "GET",
      "/v1/audit?limit=50",
      { token: t.admin },
    );
    const actions = log.body.items.map((r) => `${r.action} ${r.target} ${r.status}`);
    expect(actions).toContain(`memory.write ${p.id} 201`);
    expect(actions).toContain(`memory.delete ${m.id} 204`);
  });

  it("refuses bad bodies with the field at fault, and unknown processes with 404", async () => {
    const t = await newTenant("mem-edges");
    const p = await spawnIdle(t.operator);
    const post = (body: unknown, id = p.id) => call("POST", base(id), { token: t.operator, body });
    expect((await post({ content: "" })).status).toBe(422);
    expect((await post({ content: "   " })).status).toBe(422);
    expect((await post({ content: 42 })).status).toBe(422);
    expect((await post({})).status).toBe(422);
    expect((await post({ content: "x", extra: 1 })).status).toBe(422);
    expect((await post({ content: "x", tags: ["Upper"] })).status).toBe(422);
    expect((await post({ content: "x", tags: "one" })).status).toBe(422);
    const tooMany = Array.from({ length: MAX_MEMORY_TAGS + 1 }, (_, i) => `t${i}`);
    expect((await post({ content: "x", tags: tooMany })).status).toBe(422);
    const atCap = await post({ content: "y".repeat(MAX_MEMORY_CHARS) });
    expect(atCap.status).toBe(201);
    const over = await post({ content: "y".repeat(MAX_MEMORY_CHARS + 1) });
    expect(over.status).toBe(422);
    expect((over.body as { errors: Array<{ path: string }> }).errors[0]!.path).toBe("content");
    const malformed = await call("POST", base(p.id), {
      token: t.operator,
      raw: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect((await post({ content: "x" }, "proc_00000000000070008000000000000000")).status).toBe(
      404,
    );
    expect((await post({ content: "x" }, "not-an-id")).status).toBe(404);
    expect((await search(t.reader, "proc_00000000000070008000000000000000", "x")).status).toBe(404);
    // Duplicate tags are stored once.
    const dup = await post({ content: "dup tags", tags: ["a", "a", "b"] });
    expect((dup.body as unknown as Memory).tags).toEqual(["a", "b"]);
  });
});

describe("memory calls made with an agent key", () => {
  it("are the process's own system calls: gated by its capabilities, counted and logged", async () => {
    const t = await newTenant("mem-agent");
    const withMemory = await defineType(t, {
      capabilities: ["proc.finish", "proc.sleep", "memory.read", "memory.write"],
    });
    const p = await spawnIdle(t.operator, { type: withMemory });
    const other = await spawnIdle(t.operator, { type: withMemory });
    const key = await call<{ secret: string }>("POST", "/v1/keys", {
      token: t.admin,
      body: { name: "agent", role: "operator", processId: p.id },
    });
    expect(key.status).toBe(201);
    const agent = key.body.secret;
    const before = await call<{ usage: { toolCalls: number } }>("GET", `/v1/processes/${p.id}`, {
      token: t.reader,
    });
    const w = await call<Memory>("POST", base(p.id), {
      token: agent,
      body: { content: "Written by the process itself about otters." },
    });
    expect(w.status).toBe(201);
    expect(w.body.provenance.processId).toBe(p.id);
    expect((await search(agent, p.id, "otters")).body.items.map((m) => m.id)).toEqual([w.body.id]);
    const after = await call<{ usage: { toolCalls: number } }>("GET", `/v1/processes/${p.id}`, {
      token: t.reader,
    });
    expect(after.body.usage.toolCalls).toBe(before.body.usage.toolCalls + 2);
    const log = (await eventsOf(t.reader, p.id)).map((e) => e.reason ?? "");
    expect(log.some((r) => r.startsWith("memory.write via agent key"))).toBe(true);
    expect(log.some((r) => r.startsWith("memory.read via agent key"))).toBe(true);
    // Another process's memory route is not the agent key's to use.
    expect((await search(agent, other.id, "otters")).status).toBe(404);

    // assistant@1.0.0 has no memory capabilities (1.1.0 has): its agent key is refused.
    const plain = await spawnIdle(t.operator, { version: "1.0.0" });
    const plainKey = await call<{ secret: string }>("POST", "/v1/keys", {
      token: t.admin,
      body: { name: "agent", role: "operator", processId: plain.id },
    });
    const refused = await call<{ code: string }>("POST", base(plain.id), {
      token: plainKey.body.secret,
      body: { content: "not allowed" },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("capability_denied");
  });
});
