/**
 * Direct messages over HTTPS: delivery through the real queue into the target's mailbox, the
 * receiver's dedupe, the ordering guarantee (mailbox order of arrival, each message once), large
 * payloads by R2 reference, acknowledgement, tenant isolation and the edges.
 */

import { env as workerEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/bus/envelope.js";
import type { Env } from "../../src/env.js";
import { newId } from "../../src/kernel/ids.js";
import { processStub } from "../../src/objects/agent-process.js";
import { call, newTenant, spawnIdle } from "../helpers.js";
import { mailbox, send, untilMailbox } from "./helpers.js";

/** The Worker's bindings, typed as the Worker sees them. */
const env = workerEnv as unknown as Env;

function envelopeTo(tenantId: string, to: string, body: unknown): Envelope {
  return {
    v: 1,
    id: newId("message"),
    tenantId,
    from: "test",
    to,
    topic: null,
    correlationId: null,
    sentAtMs: Date.now(),
    sizeBytes: JSON.stringify(body).length,
    payload: { kind: "inline", json: JSON.stringify(body) },
  };
}

describe("direct messages", () => {
  it("delivers a message through the queue into the target's mailbox, and ack removes it", async () => {
    const t = await newTenant("bus");
    const p = await spawnIdle(t.operator);
    const sent = await send(t.operator, { to: p.id, body: { hello: "world", n: 1 } });
    expect(sent.status).toBe(202);
    expect(sent.body.messageId).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(sent.body.from).toBe(t.keyIds.operator);
    expect(sent.body.byReference).toBe(false);
    const items = await untilMailbox(t.reader, p.id, (m) => m.length === 1);
    expect(items[0]).toMatchObject({
      id: sent.body.messageId,
      from: t.keyIds.operator,
      body: { hello: "world", n: 1 },
      byReference: false,
      correlationId: null,
      topic: null,
    });
    // Reading removes nothing.
    expect((await mailbox(t.reader, p.id)).items).toHaveLength(1);
    // A reader may look but not acknowledge.
    const denied = await call("DELETE", `/v1/messages/${sent.body.messageId}?processId=${p.id}`, {
      token: t.reader,
    });
    expect(denied.status).toBe(403);
    const ack = await call("DELETE", `/v1/messages/${sent.body.messageId}?processId=${p.id}`, {
      token: t.operator,
    });
    expect(ack.status).toBe(204);
    expect((await mailbox(t.reader, p.id)).items).toHaveLength(0);
    const again = await call("DELETE", `/v1/messages/${sent.body.messageId}?processId=${p.id}`, {
      token: t.operator,
    });
    expect(again.status).toBe(404);
  });

  it("delivers a duplicated envelope once: the receiver acks the redelivery without a copy", async () => {
    const t = await newTenant("dedupe");
    const p = await spawnIdle(t.operator);
    const envelope = envelopeTo(t.id, p.id, { once: true });
    // Straight into the object twice: the second is recognised as a duplicate.
    const first = await processStub(env, p.id).busDeliver(t.id, envelope);
    const second = await processStub(env, p.id).busDeliver(t.id, envelope);
    expect(first).toEqual({ ok: true, outcome: "delivered" });
    expect(second).toEqual({ ok: true, outcome: "duplicate" });
    // And through the queue, twice more (as a redelivery would), followed by a marker.
    await env.BUS.send(envelope, { contentType: "json" });
    await env.BUS.send(envelope, { contentType: "json" });
    const marker = await send(t.operator, { to: p.id, body: "marker" });
    const items = await untilMailbox(t.reader, p.id, (m) =>
      m.some((x) => x.id === marker.body.messageId),
    );
    expect(items.filter((m) => m.id === envelope.id)).toHaveLength(1);
    // Even after it is acknowledged, a late redelivery does not bring it back.
    await call("DELETE", `/v1/messages/${envelope.id}?processId=${p.id}`, { token: t.operator });
    expect(await processStub(env, p.id).busDeliver(t.id, envelope)).toEqual({
      ok: true,
      outcome: "duplicate",
    });
    expect((await mailbox(t.reader, p.id)).items.map((m) => m.id)).toEqual([marker.body.messageId]);
  });

  it("keeps its ordering guarantee: mailbox order of arrival, every message exactly once", async () => {
    const t = await newTenant("order");
    const p = await spawnIdle(t.operator);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const sent = await send(t.operator, { to: p.id, body: { i } });
      expect(sent.status).toBe(202);
      ids.push(sent.body.messageId);
    }
    await untilMailbox(t.reader, p.id, (m) => m.length === 12);
    // Page through with a small page: the cursor walks `seq` upward, no gaps, no repeats.
    const seen: Array<{ id: string; seq: number }> = [];
    let cursor: string | null = null;
    do {
      const page: {
        status: number;
        body: { items: Array<{ id: string; seq: number }>; nextCursor: string | null };
      } = await call(
        "GET",
        `/v1/messages?processId=${p.id}&limit=5${cursor ? `&cursor=${cursor}` : ""}`,
        {
          token: t.reader,
        },
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(12);
    expect(new Set(seen.map((m) => m.id))).toEqual(new Set(ids));
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).toBeGreaterThan(seen[i - 1]!.seq);
    // Arrival order is the order the object accepted them: an envelope delivered later (here,
    // straight into the object) goes after every earlier one.
    const late = envelopeTo(t.id, p.id, "late");
    await processStub(env, p.id).busDeliver(t.id, late);
    const all = (await mailbox(t.reader, p.id)).items;
    expect(all.at(-1)?.id).toBe(late.id);
  });

  it("carries a payload over 64 KiB by R2 reference, byte-exact, and deletes it on ack", async () => {
    const t = await newTenant("large");
    const p = await spawnIdle(t.operator);
    // Multi-byte text and every ASCII control-free character, ~300 KiB as JSON.
    let text = "";
    for (let i = 0; text.length < 100_000; i++) text += `é€𝄞${String.fromCharCode(32 + (i % 95))}`;
    const body = { text, list: Array.from({ length: 1000 }, (_, i) => i * 1.5) };
    const sent = await send(t.operator, { to: p.id, body });
    expect(sent.status).toBe(202);
    expect(sent.body.byReference).toBe(true);
    expect(sent.body.sizeBytes).toBe(new TextEncoder().encode(JSON.stringify(body)).byteLength);
    expect(sent.body.sizeBytes).toBeGreaterThan(64 * 1024);
    const key = `msg/${t.id}/${sent.body.messageId}`;
    const stored = await env.BLOBS.get(key);
    expect(await stored?.text()).toBe(JSON.stringify(body));
    const [got] = await untilMailbox(t.reader, p.id, (m) => m.length === 1);
    expect(got?.byReference).toBe(true);
    expect(JSON.stringify(got?.body)).toBe(JSON.stringify(body));
    await call("DELETE", `/v1/messages/${sent.body.messageId}?processId=${p.id}`, {
      token: t.operator,
    });
    expect(await env.BLOBS.head(key)).toBeNull();
  });

  it("keeps a payload of exactly 64 KiB inline", async () => {
    const t = await newTenant("edge64");
    const p = await spawnIdle(t.operator);
    const body = "x".repeat(64 * 1024 - 2); // the quotes make it 64 KiB of JSON
    const sent = await send(t.operator, { to: p.id, body });
    expect(sent.body.sizeBytes).toBe(64 * 1024);
    expect(sent.body.byReference).toBe(false);
    const over = await send(t.operator, { to: p.id, body: `${body}y` });
    expect(over.body.byReference).toBe(true);
  });

  it("refuses the edges: malformed, wrong types, oversize, unknown and ended targets", async () => {
    const t = await newTenant("edges");
    const p = await spawnIdle(t.operator);
    const malformed = await call("POST", "/v1/messages", {
      token: t.operator,
      raw: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    const wrongType = await call<{ errors: Array<{ path: string }> }>("POST", "/v1/messages", {
      token: t.operator,
      body: { to: 42, body: "x" },
    });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.errors[0]?.path).toBe("to");
    const noBody = await call<{ errors: Array<{ path: string }> }>("POST", "/v1/messages", {
      token: t.operator,
      body: { to: p.id },
    });
    expect(noBody.status).toBe(422);
    expect(noBody.body.errors[0]?.path).toBe("body");
    const extra = await call("POST", "/v1/messages", {
      token: t.operator,
      body: { to: p.id, body: 1, priority: 3 },
    });
    expect(extra.status).toBe(422);
    const badCorrelation = await call("POST", "/v1/messages", {
      token: t.operator,
      body: { to: p.id, body: 1, correlationId: "has space" },
    });
    expect(badCorrelation.status).toBe(422);
    // 1 MiB is the hard cap on a payload (and on a request body).
    const oversize = await send(t.operator, { to: p.id, body: "é".repeat(600_000) });
    expect(oversize.status).toBe(413);
    expect((oversize.body as unknown as { code: string }).code).toBe("payload_too_large");
    const unknown = await send(t.operator, { to: newId("process"), body: 1 });
    expect(unknown.status).toBe(404);
    const reader = await send(t.reader, { to: p.id, body: 1 });
    expect(reader.status).toBe(403);
    await call("POST", `/v1/processes/${p.id}/terminate`, { token: t.operator, body: {} });
    const ended = await send(t.operator, { to: p.id, body: 1 });
    expect(ended.status).toBe(409);
    expect((ended.body as unknown as { code: string }).code).toBe("process_ended");
    const noProcess = await call("GET", "/v1/messages", { token: t.reader });
    expect(noProcess.status).toBe(422);
    const badCursor = await call("GET", `/v1/messages?processId=${p.id}&cursor=zzz`, {
      token: t.reader,
    });
    expect(badCursor.status).toBe(422);
    const badAck = await call("DELETE", `/v1/messages/${newId("message")}?processId=${p.id}`, {
      token: t.operator,
    });
    expect(badAck.status).toBe(404);
  });

  it("isolates tenants: another tenant's process answers 404 to send, read and ack", async () => {
    const a = await newTenant("iso-a");
    const b = await newTenant("iso-b");
    const p = await spawnIdle(a.operator);
    const sent = await send(a.operator, { to: p.id, body: "mine" });
    await untilMailbox(a.reader, p.id, (m) => m.length === 1);
    expect((await send(b.operator, { to: p.id, body: "theirs" })).status).toBe(404);
    expect((await call("GET", `/v1/messages?processId=${p.id}`, { token: b.reader })).status).toBe(
      404,
    );
    const ack = await call("DELETE", `/v1/messages/${sent.body.messageId}?processId=${p.id}`, {
      token: b.operator,
    });
    expect(ack.status).toBe(404);
    // An envelope forged with the wrong tenant is refused by the object itself.
    const forged = envelopeTo(b.id, p.id, "forged");
    expect(await processStub(env, p.id).busDeliver(b.id, forged)).toMatchObject({
      ok: false,
      code: "not_found",
    });
    expect((await mailbox(a.reader, p.id)).items).toHaveLength(1);
  });
  it("an agent key sends as its process, reads its own mailbox only, and the send is counted", async () => {
    const t = await newTenant("agentkey");
    const a = await spawnIdle(t.operator);
    const b = await spawnIdle(t.operator);
    const key = await call<{ secret: string }>("POST", "/v1/keys", {
      token: t.admin,
      body: { name: "agent", role: "operator", processId: a.id },
    });
    expect(key.status).toBe(201);
    const before = await call<{ usage: { toolCalls: number } }>("GET", `/v1/processes/${a.id}`, {
      token: t.reader,
    });
    const sent = await send(key.body.secret, { to: b.id, body: "from a" });
    expect(sent.status).toBe(202);
    expect(sent.body.from).toBe(a.id);
    const [m] = await untilMailbox(t.reader, b.id, (items) => items.length === 1);
    expect(m?.from).toBe(a.id);
    const after = await call<{ usage: { toolCalls: number } }>("GET", `/v1/processes/${a.id}`, {
      token: t.reader,
    });
    expect(after.body.usage.toolCalls).toBe(before.body.usage.toolCalls + 1);
    // Its own mailbox without naming it; another process's mailbox is 404 to it.
    const own = await call<{ items: unknown[] }>("GET", "/v1/messages", { token: key.body.secret });
    expect(own.status).toBe(200);
    const other = await call("GET", `/v1/messages?processId=${b.id}`, { token: key.body.secret });
    expect(other.status).toBe(404);
  });
});
