/**
 * The bus tools of the agent loop: a process blocked in `recv` holds no compute and wakes on
 * delivery; `request` ends with the reply or, after its timeout, a timeout result — never both.
 */

import { describe, expect, it } from "vitest";
import {
  call,
  defineType,
  ended,
  type FullProcess,
  finishTurn,
  newTenant,
  spawn,
  spawnIdle,
  until,
} from "../helpers.js";
import { busType, send, toolResults, untilMailbox } from "./helpers.js";

const turn = (name: string, args: Record<string, unknown>) => ({
  toolCalls: [{ name, arguments: args }],
});

async function waitingOnMessage(token: string, id: string): Promise<FullProcess> {
  return (await until(token, id, (p) => {
    const full = p as FullProcess;
    return full.status === "waiting" && full.waitingOn?.kind === "message";
  })) as FullProcess;
}

describe("agent-loop bus tools", () => {
  it("a process sleeping on its mailbox wakes on a message and reads it", async () => {
    const t = await newTenant("recv");
    const type = await busType(t);
    const p = await spawn(t.operator, {
      type,
      script: [turn("recv", {}), finishTurn("done")],
    });
    expect(p.status).toBe(201);
    const waiting = await waitingOnMessage(t.reader, p.body.id);
    expect(waiting.waitingOn).toMatchObject({ kind: "message", correlationId: null, until: null });
    const sent = await send(t.operator, { to: p.body.id, body: { task: "wake up" } });
    expect(sent.status).toBe(202);
    const done = await until(t.reader, p.body.id, ended);
    expect(done.status).toBe("exited");
    const results = await toolResults(p.body.id);
    expect(results[0]).toMatchObject({
      tool: "recv",
      value: { id: sent.body.messageId, body: { task: "wake up" }, from: t.keyIds.operator },
    });
    // recv took it out of the mailbox.
    const box = await call<{ items: unknown[] }>("GET", `/v1/messages?processId=${p.body.id}`, {
      token: t.reader,
    });
    expect(box.body.items).toHaveLength(0);
  });

  it("recv with timeoutMs 0 polls an empty mailbox, and a timed recv ends with a timeout", async () => {
    const t = await newTenant("recv-timeout");
    const type = await busType(t);
    const p = await spawn(t.operator, {
      type,
      script: [turn("recv", { timeoutMs: 0 }), turn("recv", { timeoutMs: 300 }), finishTurn("ok")],
    });
    await until(t.reader, p.body.id, ended);
    const results = await toolResults(p.body.id);
    expect(results.slice(0, 2).map((r) => r.value)).toEqual([{ empty: true }, { timedOut: true }]);
  });

  it("request/response: the requester gets the reply carrying its correlation id", async () => {
    const t = await newTenant("reqresp");
    const type = await busType(t);
    const responder = await spawnIdle(t.operator);
    const requester = await spawn(t.operator, {
      type,
      script: [
        turn("request", { to: responder.id, body: { q: "ping" }, timeoutMs: 600_000 }),
        finishTurn("ok"),
      ],
    });
    await waitingOnMessage(t.reader, requester.body.id);
    const [request] = await untilMailbox(t.reader, responder.id, (m) => m.length === 1);
    expect(request?.from).toBe(requester.body.id);
    expect(request?.correlationId).toMatch(/^corr_[0-9a-f]{32}$/);
    // An unrelated message does not satisfy the request (it waits in the mailbox).
    const unrelated = await send(t.operator, { to: requester.body.id, body: "not the reply" });
    await untilMailbox(t.reader, requester.body.id, (m) => m.length === 1);
    expect(
      (await call<FullProcess>("GET", `/v1/processes/${requester.body.id}`, { token: t.reader }))
        .body.status,
    ).toBe("waiting");
    const reply = await send(t.operator, {
      to: requester.body.id,
      body: { a: "pong" },
      correlationId: request?.correlationId,
    });
    expect(reply.status).toBe(202);
    await until(t.reader, requester.body.id, ended);
    const [result] = await toolResults(requester.body.id);
    expect(result).toMatchObject({
      tool: "request",
      value: { reply: { id: reply.body.messageId, body: { a: "pong" } } },
    });
    const left = await untilMailbox(t.reader, requester.body.id, (m) => m.length === 1);
    expect(left[0]?.id).toBe(unrelated.body.messageId);
  });

  it("request/response timeout: the requester gets a timeout, and a late reply is dropped", async () => {
    const t = await newTenant("reqtimeout");
    const type = await busType(t);
    const responder = await spawnIdle(t.operator);
    const requester = await spawn(t.operator, {
      type,
      script: [
        turn("request", { to: responder.id, body: "anyone?", timeoutMs: 300 }),
        turn("recv", {}),
        finishTurn("ok"),
      ],
    });
    const [request] = await untilMailbox(t.reader, responder.id, (m) => m.length === 1);
    // The request times out; the process then blocks in recv.
    await until(t.reader, requester.body.id, (p) => {
      const w = (p as FullProcess).waitingOn as {
        kind: string;
        correlationId?: string | null;
      } | null;
      return p.status === "waiting" && w?.kind === "message" && w.correlationId === null;
    });
    const late = await send(t.operator, {
      to: requester.body.id,
      body: "too late",
      correlationId: request?.correlationId,
    });
    expect(late.status).toBe(202);
    const next = await send(t.operator, { to: requester.body.id, body: "next" });
    await until(t.reader, requester.body.id, ended);
    const results = await toolResults(requester.body.id);
    expect(results[0]).toMatchObject({
      tool: "request",
      value: { timedOut: true, correlationId: request?.correlationId },
    });
    expect(results[1]).toMatchObject({
      tool: "recv",
      value: { id: next.body.messageId, body: "next" },
    });
    // The late reply never reached the mailbox nor the conversation.
    expect(JSON.stringify(results)).not.toContain("too late");
    expect(JSON.stringify(results)).not.toContain(late.body.messageId);
  });

  it("send, subscribe and publish from the loop; a send to an unknown process is an error result", async () => {
    const t = await newTenant("loop-pub");
    const type = await busType(t);
    const peer = await spawnIdle(t.operator);
    const p = await spawn(t.operator, {
      type,
      script: [
        turn("subscribe", { topic: "news" }),
        turn("send", { to: peer.id, body: "direct" }),
        turn("send", { to: "proc_00000000000070008000000000000000", body: "nobody" }),
        turn("publish", { topic: "news", body: "headline" }),
        turn("recv", {}),
        finishTurn("ok"),
      ],
    });
    await until(t.reader, p.body.id, ended);
    const results = await toolResults(p.body.id);
    expect(results[0]?.value).toMatchObject({ topic: "news", created: true });
    expect(results[1]?.value).toMatchObject({ to: peer.id });
    expect(results[2]).toMatchObject({ isError: true, value: { code: "not_found" } });
    expect(results[3]?.value).toMatchObject({ topic: "news", deliveries: 1 });
    expect(results[4]?.value).toMatchObject({ topic: "news", body: "headline", from: p.body.id });
    const [direct] = await untilMailbox(t.reader, peer.id, (m) => m.length === 1);
    expect(direct).toMatchObject({ body: "direct", from: p.body.id });
  });

  it("a process without msg.recv is refused recv by the gate", async () => {
    const t = await newTenant("nocap");
    const type = await defineType(t, { capabilities: ["proc.finish"] });
    const p = await spawn(t.operator, { type, script: [turn("recv", {}), finishTurn("ok")] });
    await until(t.reader, p.body.id, ended);
    const [result] = await toolResults(p.body.id);
    expect(result?.isError).toBe(true);
  });
});
