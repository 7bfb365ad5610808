/**
 * Publish/subscribe over HTTPS and MCP: tenant-scoped topics, one delivery per subscriber,
 * idempotent subscribe, unsubscribe, and the edges.
 */

import { describe, expect, it } from "vitest";
import { newId } from "../../src/kernel/ids.js";
import { call, newTenant, spawnIdle } from "../helpers.js";
import { connect, structured } from "../mcp/client.js";
import { eventually, mailbox, untilMailbox } from "./helpers.js";

describe("topics", () => {
  it("publishes one copy to every subscriber of the tenant's topic", async () => {
    const t = await newTenant("topics");
    const other = await newTenant("topics-other");
    const a = await spawnIdle(t.operator);
    const b = await spawnIdle(t.operator);
    const outsider = await spawnIdle(other.operator);
    for (const p of [a, b]) {
      const sub = await call("POST", "/v1/topics/builds.done/subscriptions", {
        token: t.operator,
        body: { processId: p.id },
      });
      expect(sub.status).toBe(201);
      expect(sub.body).toMatchObject({ topic: "builds.done", processId: p.id, created: true });
    }
    const again = await call("POST", "/v1/topics/builds.done/subscriptions", {
      token: t.operator,
      body: { processId: a.id },
    });
    expect(again.body).toMatchObject({ created: false });
    // The same topic name in another tenant is another topic.
    await call("POST", "/v1/topics/builds.done/subscriptions", {
      token: other.operator,
      body: { processId: outsider.id },
    });
    const topics = await call("GET", "/v1/topics", { token: t.reader });
    expect(topics.body).toEqual({ items: [{ topic: "builds.done", subscribers: 2 }] });
    const pub = await call<{ messageId: string; deliveries: number }>(
      "POST",
      "/v1/topics/builds.done/messages",
      { token: t.operator, body: { body: { build: 7 } } },
    );
    expect(pub.status).toBe(202);
    expect(pub.body.deliveries).toBe(2);
    for (const p of [a, b]) {
      const [m] = await untilMailbox(t.reader, p.id, (items) => items.length === 1);
      expect(m).toMatchObject({ id: pub.body.messageId, topic: "builds.done", body: { build: 7 } });
    }
    expect((await mailbox(other.reader, outsider.id)).items).toHaveLength(0);
    // Unsubscribe: b no longer receives; a second unsubscribe is 404.
    const unsub = await call("DELETE", `/v1/topics/builds.done/subscriptions/${b.id}`, {
      token: t.operator,
    });
    expect(unsub.status).toBe(204);
    const unsubAgain = await call("DELETE", `/v1/topics/builds.done/subscriptions/${b.id}`, {
      token: t.operator,
    });
    expect(unsubAgain.status).toBe(404);
    const pub2 = await call<{ deliveries: number }>("POST", "/v1/topics/builds.done/messages", {
      token: t.operator,
      body: { body: "second" },
    });
    expect(pub2.body.deliveries).toBe(1);
    await untilMailbox(t.reader, a.id, (items) => items.length === 2);
    expect((await mailbox(t.reader, b.id)).items).toHaveLength(1);
  });

  it("refuses the edges: bad names, unknown and foreign processes, readers, nobody listening", async () => {
    const t = await newTenant("topic-edges");
    const other = await newTenant("topic-edges-other");
    const foreign = await spawnIdle(other.operator);
    const bad = await call("POST", "/v1/topics/Bad Name!/subscriptions", {
      token: t.operator,
      body: { processId: newId("process") },
    });
    expect(bad.status).toBe(422);
    const noProcess = await call("POST", "/v1/topics/x/subscriptions", {
      token: t.operator,
      body: {},
    });
    expect(noProcess.status).toBe(422);
    const unknown = await call("POST", "/v1/topics/x/subscriptions", {
      token: t.operator,
      body: { processId: newId("process") },
    });
    expect(unknown.status).toBe(404);
    const theirs = await call("POST", "/v1/topics/x/subscriptions", {
      token: t.operator,
      body: { processId: foreign.id },
    });
    expect(theirs.status).toBe(404);
    const reader = await call("POST", "/v1/topics/x/messages", {
      token: t.reader,
      body: { body: 1 },
    });
    expect(reader.status).toBe(403);
    const nobody = await call<{ deliveries: number }>("POST", "/v1/topics/quiet/messages", {
      token: t.operator,
      body: { body: 1 },
    });
    expect(nobody.status).toBe(202);
    expect(nobody.body.deliveries).toBe(0);
    const noBody = await call("POST", "/v1/topics/quiet/messages", { token: t.operator, body: {} });
    expect(noBody.status).toBe(422);
  });
});

describe("subscriptions of ended processes", () => {
  it("a publication to an ended subscriber is dropped, not dead-lettered, and unsubscribes it", async () => {
    const t = await newTenant("topic-ended");
    const p = await spawnIdle(t.operator);
    await call("POST", "/v1/topics/alerts/subscriptions", {
      token: t.operator,
      body: { processId: p.id },
    });
    await call("POST", `/v1/processes/${p.id}/terminate`, { token: t.operator, body: {} });
    const pub = await call<{ deliveries: number }>("POST", "/v1/topics/alerts/messages", {
      token: t.operator,
      body: { body: "anyone?" },
    });
    expect(pub.body.deliveries).toBe(1);
    await eventually(async () => {
      const topics = await call<{ items: unknown[] }>("GET", "/v1/topics", { token: t.reader });
      return topics.body.items.length === 0 ? true : undefined;
    }, "the ended subscriber's subscription removed");
    const dead = await call<{ items: unknown[] }>("GET", "/v1/messages/dead-letters", {
      token: t.operator,
    });
    expect(dead.body.items).toEqual([]);
  });
});

describe("bus MCP tools", () => {
  it("send_message, read_mailbox, subscribe and publish reach the same calls as the API", async () => {
    const t = await newTenant("bus-mcp");
    const p = await spawnIdle(t.operator);
    const client = await connect(t.operator);
    const tools = (await client.listTools()).tools.map((x) => x.name);
    expect(tools).toEqual(
      expect.arrayContaining(["send_message", "read_mailbox", "publish", "subscribe"]),
    );
    const sent = structured<{ messageId: string }>(
      await client.callTool({
        name: "send_message",
        arguments: { to: p.id, body: { via: "mcp" } },
      }),
    );
    await untilMailbox(t.reader, p.id, (m) => m.length === 1);
    const page = structured<{ items: Array<{ id: string; body: unknown }> }>(
      await client.callTool({ name: "read_mailbox", arguments: { processId: p.id } }),
    );
    expect(page.items).toEqual([
      expect.objectContaining({ id: sent.messageId, body: { via: "mcp" } }),
    ]);
    const sub = structured<{ subscribed: boolean; changed: boolean }>(
      await client.callTool({
        name: "subscribe",
        arguments: { topic: "mcp.news", processId: p.id },
      }),
    );
    expect(sub).toMatchObject({ subscribed: true, changed: true });
    const pub = structured<{ deliveries: number }>(
      await client.callTool({ name: "publish", arguments: { topic: "mcp.news", body: "hi" } }),
    );
    expect(pub.deliveries).toBe(1);
    await untilMailbox(t.reader, p.id, (m) => m.length === 2);
    const unknown = await client.callTool({
      name: "send_message",
      arguments: { to: newId("process"), body: 1 },
    });
    expect(unknown.isError).toBe(true);
    const unsub = structured<{ subscribed: boolean }>(
      await client.callTool({
        name: "subscribe",
        arguments: { topic: "mcp.news", processId: p.id, unsubscribe: true },
      }),
    );
    expect(unsub.subscribed).toBe(false);
    const audit = await call<{ items: Array<{ action: string }> }>(
      "GET",
      "/v1/audit?action=message.send",
      { token: t.admin },
    );
    expect(audit.body.items.length).toBeGreaterThanOrEqual(1);
    await client.close();
  });
});
