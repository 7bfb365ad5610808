/**
 * The message-bus tools as they run in the calling process's object: send, recv (blocks on an
 * empty mailbox, holding no compute, until a delivery sets the alarm), request (blocks until the
 * reply or the timeout: exactly one of the two), reply, publish and subscribe.
 *
 * Sends made from a step carry ids derived from (process, step, call), so a step repeated after
 * a crash sends the same message id again and the receiver's dedupe drops the copy.
 */

import { ApiError } from "../../api/problem.js";
import { messageView } from "../../bus/calls.js";
import { sendDirect } from "../../bus/direct.js";
import { BUS_LIMITS } from "../../bus/envelope.js";
import { publish, subscribe, unsubscribe } from "../../bus/topics.js";
import { sha256Hex } from "../../kernel/hash.js";
import type { ProcessRecord, WaitingOn } from "../../kernel/process/record.js";
import { openDb } from "../../store/db.js";
import type { LoopHost } from "../agent-loop.js";
import { mailboxOf } from "../mailbox.js";
import type { MailboxMessage } from "../mailbox-store.js";
import type { WakeCheck } from "../syscalls.js";
import { resultOf, type ToolHandlers, type ToolInvocation, toolMessage } from "./types.js";

/** An id of `prefix` derived from the call's place, stable across a repeated step. */
async function stableId(prefix: "msg" | "corr", inv: ToolInvocation): Promise<string> {
  const hex = await sha256Hex(`${inv.record.id}:${inv.stepNo}:${inv.index}:${prefix}`);
  return `${prefix}_${hex.slice(0, 32)}`;
}

/** A bus refusal (unknown target, ended, too large) as an error the model reads. */
function refusal(inv: ToolInvocation, error: unknown) {
  if (error instanceof ApiError)
    return resultOf(inv.call, { error: error.message, code: error.code }, true);
  throw error;
}

/** Takes a message out of the mailbox: its view first (R2 read), then the removal. */
async function take(h: LoopHost, m: MailboxMessage) {
  const view = await messageView(h.processEnv, m);
  mailboxOf(h).remove(m.messageId);
  if (m.payload.kind === "r2" && m.topic === null) await h.processEnv.BLOBS.delete(m.payload.key);
  return view;
}

export const BUS_TOOL_HANDLERS: ToolHandlers<
  "send" | "recv" | "request" | "reply" | "publish" | "subscribe"
> = {
  send: async (inv, args) => {
    const { h, record } = inv;
    try {
      const sent = await sendDirect(
        h.processEnv,
        openDb(h.processEnv.DB),
        {
          tenantId: record.tenantId,
          from: record.id,
          to: args.to,
          body: args.body,
          correlationId: args.correlationId,
        },
        { messageId: await stableId("msg", inv) },
      );
      return resultOf(inv.call, { messageId: sent.messageId, to: args.to });
    } catch (error) {
      return refusal(inv, error);
    }
  },

  recv: async (inv, args) => {
    const oldest = mailboxOf(inv.h).oldest();
    if (oldest) return resultOf(inv.call, await take(inv.h, oldest));
    if (args.timeoutMs === 0) return resultOf(inv.call, { empty: true });
    return {
      kind: "block",
      waitingOn: {
        kind: "message",
        toolCallId: inv.call.id,
        correlationId: null,
        until:
          args.timeoutMs === undefined ? null : new Date(Date.now() + args.timeoutMs).toISOString(),
      },
    };
  },

  request: async (inv, args) => {
    const { h, record } = inv;
    const correlationId = await stableId("corr", inv);
    const mailbox = mailboxOf(h);
    mailbox.openRequest(correlationId, Date.now());
    try {
      await sendDirect(
        h.processEnv,
        openDb(h.processEnv.DB),
        { tenantId: record.tenantId, from: record.id, to: args.to, body: args.body, correlationId },
        { messageId: await stableId("msg", inv) },
      );
    } catch (error) {
      mailbox.closeRequest(correlationId, "timed_out");
      return refusal(inv, error);
    }
    const timeoutMs = args.timeoutMs ?? BUS_LIMITS.defaultRequestTimeoutMs;
    return {
      kind: "block",
      waitingOn: {
        kind: "message",
        toolCallId: inv.call.id,
        correlationId,
        until: new Date(Date.now() + timeoutMs).toISOString(),
      },
    };
  },

  reply: async (inv, args) => {
    const { h, record } = inv;
    try {
      const sent = await sendDirect(
        h.processEnv,
        openDb(h.processEnv.DB),
        {
          tenantId: record.tenantId,
          from: record.id,
          to: args.to,
          body: args.body,
          correlationId: args.correlationId,
        },
        { messageId: await stableId("msg", inv) },
      );
      return resultOf(inv.call, { messageId: sent.messageId, to: args.to });
    } catch (error) {
      return refusal(inv, error);
    }
  },

  publish: async (inv, args) => {
    const { h, record } = inv;
    try {
      const out = await publish(
        h.processEnv,
        openDb(h.processEnv.DB),
        { tenantId: record.tenantId, from: record.id, topic: args.topic, body: args.body },
        { messageId: await stableId("msg", inv) },
      );
      return resultOf(inv.call, { ...out, topic: args.topic });
    } catch (error) {
      return refusal(inv, error);
    }
  },

  subscribe: async (inv, args) => {
    const { h, record } = inv;
    const db = openDb(h.processEnv.DB);
    const sub = { tenantId: record.tenantId, topic: args.topic, processId: record.id };
    try {
      if (args.unsubscribe)
        return resultOf(inv.call, { topic: args.topic, ...(await unsubscribe(db, sub)) });
      return resultOf(inv.call, {
        topic: args.topic,
        ...(await subscribe(h.processEnv, db, sub)),
      });
    } catch (error) {
      return refusal(inv, error);
    }
  },
};

/**
 * Whether a process blocked in `recv` or `request` can go on: a message (or the reply) is in
 * the mailbox, or the timeout passed. A reply found first wins over a timeout that passed too;
 * a timeout closes the request, so a reply arriving later is dropped — never both.
 */
export async function messageWake(
  h: LoopHost,
  _record: ProcessRecord,
  waitingOn: Extract<WaitingOn, { kind: "message" }>,
): Promise<WakeCheck> {
  const mailbox = mailboxOf(h);
  const corr = waitingOn.correlationId;
  const call = { id: waitingOn.toolCallId, name: corr === null ? "recv" : "request" };
  const found = corr === null ? mailbox.oldest() : mailbox.reply(corr);
  if (found) {
    const view = await take(h, found);
    if (corr !== null) mailbox.closeRequest(corr, "answered");
    return { kind: "now", message: toolMessage(call, corr === null ? view : { reply: view }) };
  }
  const untilMs = waitingOn.until === null ? null : Date.parse(waitingOn.until);
  if (untilMs !== null && Date.now() >= untilMs) {
    if (corr !== null) mailbox.closeRequest(corr, "timed_out");
    return {
      kind: "now",
      message: toolMessage(
        call,
        corr === null ? { timedOut: true } : { timedOut: true, correlationId: corr },
      ),
    };
  }
  return { kind: "later", atMs: untilMs };
}
