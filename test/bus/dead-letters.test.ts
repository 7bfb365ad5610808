/**
 * Failures of the bus: a delivery no retry can fix is dead-lettered at once; one refused again
 * and again (a full mailbox) is retried with backoff, moved by the queue to the dead-letter
 * queue after max_retries, recorded in D1, listed and replayed by an operator.
 */

import { env as workerEnv } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BUS_LIMITS, type Envelope } from "../../src/bus/envelope.js";
import type { Env } from "../../src/env.js";
import { newId } from "../../src/kernel/ids.js";
import { processStub } from "../../src/objects/agent-process.js";
import { call, newTenant, spawnIdle } from "../helpers.js";
import { eventually, mailbox, send, untilMailbox } from "./helpers.js";

/** The Worker's bindings, typed as the Worker sees them. */
const env = workerEnv as unknown as Env;

interface DeadLetterBody {
  id: string;
  messageId: string;
  targetId: string;
  status: string;
  lastError: string;
  attempts: number;
  replays: number;
}

async function deadLetters(token: string, query = "") {
  const res = await call<{ items: DeadLetterBody[]; nextCursor: string | null }>(
    "GET",
    `/v1/messages/dead-letters${query}`,
    { token },
  );
  if (res.status !== 200) throw new Error(`dead letters: ${JSON.stringify(res.body)}`);
  return res.body.items;
}

function untilDead(token: string, messageId: string, status = "dead") {
  return eventually(async () => {
    const items = await deadLetters(token);
    return items.find((d) => d.messageId === messageId && d.status === status);
  }, `dead letter ${messageId} ${status}`);
}

describe("dead letters", () => {
  it("a message to a process that ended in flight is dead-lettered at once; replay is once per death", async () => {
    const t = await newTenant("dlq-ended");
    const p = await spawnIdle(t.operator);
    await call("POST", `/v1/processes/${p.id}/terminate`, { token: t.operator, body: {} });
    // As if it had been sent just before the process ended.
    const envelope: Envelope = {
      v: 1,
      id: newId("message"),
      tenantId: t.id,
      from: t.keyIds.operator,
      to: p.id,
      topic: null,
      correlationId: null,
      sentAtMs: Date.now(),
      sizeBytes: 4,
      payload: { kind: "inline", json: '"hi"' },
    };
    await env.BUS.send(envelope, { contentType: "json" });
    const dead = await untilDead(t.operator, envelope.id);
    expect(dead).toMatchObject({ targetId: p.id, attempts: 1, replays: 0 });
    expect(dead.lastError).toMatch(/terminated/);
    expect(dead.id).toMatch(/^dl_[0-9a-f]{32}$/);
    const replay = await call<DeadLetterBody>(
      "POST",
      `/v1/messages/dead-letters/${dead.id}/replay`,
      { token: t.operator },
    );
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ status: "replayed", replays: 1 });
    // The target is still gone, so the replay dies again and may be replayed again.
    const again = await eventually(async () => {
      const items = await deadLetters(t.operator, "?status=dead");
      return items.find((d) => d.id === dead.id && d.replays >= 1);
    }, "dead again after replay");
    expect(again.status).toBe("dead");
  });

  it("a poison message (its target's mailbox stays full) is retried, lands in the DLQ and replays", async () => {
    const t = await newTenant("dlq-poison");
    const p = await spawnIdle(t.operator);
    // Fill the mailbox to its byte limit exactly, straight through the object (each envelope
    // declares 1 MiB; the mailbox counts declared sizes, wherever the bytes are kept).
    const fillCount = BUS_LIMITS.mailboxMaxBytes / BUS_LIMITS.maxPayloadBytes;
    for (let i = 0; i < fillCount; i++) {
      const filler: Envelope = {
        v: 1,
        id: newId("message"),
        tenantId: t.id,
        from: "test",
        to: p.id,
        topic: null,
        correlationId: null,
        sentAtMs: Date.now(),
        sizeBytes: BUS_LIMITS.maxPayloadBytes,
        payload: { kind: "inline", json: `{"filler":${i}}` },
      };
      expect(await processStub(env, p.id).busDeliver(t.id, filler)).toMatchObject({ ok: true });
    }
    expect((await mailbox(t.reader, p.id)).items).toHaveLength(fillCount);
    const poison = await send(t.operator, { to: p.id, body: { poison: true } });
    expect(poison.status).toBe(202);
    const dead = await untilDead(t.operator, poison.body.messageId);
    expect(dead.lastError).toMatch(/full/);
    // max_retries = 3 in wrangler.toml: the first attempt and three retries all failed.
    expect(dead.attempts).toBe(4);
    expect((await mailbox(t.reader, p.id)).items.map((m) => m.id)).not.toContain(
      poison.body.messageId,
    );
    // The operator makes room, then replays it: this time it is delivered.
    for (const m of (await mailbox(t.reader, p.id)).items) {
      const ack = await call("DELETE", `/v1/messages/${m.id}?processId=${p.id}`, {
        token: t.operator,
      });
      expect(ack.status).toBe(204);
    }
    const replay = await call("POST", `/v1/messages/dead-letters/${dead.id}/replay`, {
      token: t.operator,
    });
    expect(replay.status).toBe(202);
    const [delivered] = await untilMailbox(t.reader, p.id, (m) => m.length === 1);
    expect(delivered).toMatchObject({ id: poison.body.messageId, body: { poison: true } });
    const conflict = await call("POST", `/v1/messages/dead-letters/${dead.id}/replay`, {
      token: t.operator,
    });
    expect(conflict.status).toBe(409);
  }, 60_000);

  it("dead letters are the tenant's own, for operators; unknown ids are 404", async () => {
    const a = await newTenant("dlq-a");
    const b = await newTenant("dlq-b");
    const p = await spawnIdle(a.operator);
    await call("POST", `/v1/processes/${p.id}/terminate`, { token: a.operator, body: {} });
    const envelope: Envelope = {
      v: 1,
      id: newId("message"),
      tenantId: a.id,
      from: "test",
      to: p.id,
      topic: null,
      correlationId: null,
      sentAtMs: Date.now(),
      sizeBytes: 1,
      payload: { kind: "inline", json: "1" },
    };
    await env.BUS.send(envelope, { contentType: "json" });
    const dead = await untilDead(a.operator, envelope.id);
    expect(await deadLetters(b.operator)).toEqual([]);
    const foreign = await call("POST", `/v1/messages/dead-letters/${dead.id}/replay`, {
      token: b.operator,
    });
    expect(foreign.status).toBe(404);
    const unknown = await call("POST", `/v1/messages/dead-letters/dl_${"0".repeat(32)}/replay`, {
      token: a.operator,
    });
    expect(unknown.status).toBe(404);
    expect((await call("GET", "/v1/messages/dead-letters", { token: a.reader })).status).toBe(403);
    expect(
      (await call("POST", `/v1/messages/dead-letters/${dead.id}/replay`, { token: a.reader }))
        .status,
    ).toBe(403);
    expect(
      (await call("GET", "/v1/messages/dead-letters?status=bogus", { token: a.operator })).status,
    ).toBe(422);
  });
});
