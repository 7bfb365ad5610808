/**
 * The caller-facing bus system calls as plain functions `(env, db, caller, input)`: the HTTPS
 * routes (messages.ts, topics.ts) and the MCP tools are thin adapters over these, so the two
 * surfaces cannot drift apart. Each call that does something passes `gateSyscall`: a tenant key
 * acts as itself (`from` is the key), an agent key as its own process.
 */

import {
  READ_ROLES,
  requireActor,
  requireProcessAccess,
  requireTenantKey,
  WRITE_ROLES,
} from "../api/authorize.js";
import { cursorKey, INVALID_CURSOR } from "../api/pagination.js";
import { ApiError, fieldError } from "../api/problem.js";
import type {
  DeadLetterQuery,
  DeadLetterView,
  MailboxQuery,
  MessageView,
  SendMessageRequest,
} from "../api/schemas-bus.js";
import type { Env } from "../env.js";
import { processStub } from "../objects/agent-process.js";
import { gateSyscall } from "../objects/call-gate.js";
import type { MailboxMessage } from "../objects/mailbox-store.js";
import type { Caller, Page } from "../objects/process-calls.js";
import {
  claimReplay,
  type DeadLetterRow,
  getDeadLetter,
  listDeadLetters,
  unclaimReplay,
} from "../store/bus-dead-letters.js";
import { listTopics } from "../store/bus-subscriptions.js";
import { encodeCursor } from "../store/cursor.js";
import type { Db } from "../store/db.js";
import { sendDirect } from "./direct.js";
import { BUS_LIMITS, type Envelope, EnvelopeSchema } from "./envelope.js";
import { loadPayloadJson } from "./payload.js";
import { publish, subscribe, unsubscribe } from "./topics.js";

/** The process a call names, or for an agent key that names none, its own; 422 otherwise. */
function processOf(caller: Caller, processId: string | undefined, field = "processId"): string {
  if (processId !== undefined) return processId;
  const principal = requireActor(caller, READ_ROLES);
  if (principal.processId !== null) return principal.processId;
  throw fieldError(field, "required with a tenant key", "required");
}

// ---------------------------------------------------------------------------------------------
// messages

/**
 * Sends a direct message (operator, admin or an agent key as its process): 202-style, delivery
 * is asynchronous. 404 unknown target, 409 ended target, 413 over 1 MiB.
 *
 * @example await sendMessageAs(env, db, principal, { to: "proc_…", body: { text: "hi" } })
 */
export async function sendMessageAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: SendMessageRequest,
): Promise<{
  messageId: string;
  from: string;
  to: string;
  sizeBytes: number;
  byReference: boolean;
}> {
  const acting = await gateSyscall(env, db, caller, "msg.send", WRITE_ROLES, {
    type: "Process",
    id: input.to,
  });
  const from = acting.as === "process" ? acting.processId : acting.principal.keyId;
  const { messageId, sizeBytes } = await sendDirect(env, db, {
    tenantId: acting.tenantId,
    from,
    to: input.to,
    body: input.body,
    correlationId: input.correlationId,
  });
  return {
    messageId,
    from,
    to: input.to,
    sizeBytes,
    byReference: sizeBytes > BUS_LIMITS.inlinePayloadBytes,
  };
}

/** A mailbox message as the API shows it, its payload fetched from R2 when it is there. */
export async function messageView(env: Env, m: MailboxMessage): Promise<MessageView> {
  const json = await loadPayloadJson(env, m.payload);
  return {
    id: m.messageId,
    seq: m.seq,
    from: m.from,
    topic: m.topic,
    correlationId: m.correlationId,
    body: json === null ? null : JSON.parse(json),
    sizeBytes: m.sizeBytes,
    byReference: m.payload.kind === "r2",
    sentAt: new Date(m.sentAtMs).toISOString(),
    deliveredAt: new Date(m.deliveredAtMs).toISOString(),
  };
}

/**
 * A page of a process's unread messages in order of arrival (any tenant key, or the process's
 * own agent key). Reading is the process's `msg.recv` system call, so it is gated; it does not
 * remove anything (see `ackMessageAs`).
 *
 * @example await readMailbox(env, db, principal, { processId: "proc_…", limit: 20 })
 */
export async function readMailbox(
  env: Env,
  db: Db,
  caller: Caller,
  q: MailboxQuery,
): Promise<Page<MessageView>> {
  const processId = processOf(caller, q.processId);
  requireProcessAccess(caller, processId, READ_ROLES);
  const after = cursorKey(q.cursor) ?? "0";
  if (!/^\d{1,15}$/.test(after)) throw fieldError("cursor", INVALID_CURSOR, "invalid_cursor");
  const acting = await gateSyscall(env, db, caller, "msg.recv", READ_ROLES, {
    type: "Process",
    id: processId,
  });
  const page = await processStub(env, processId).busMailbox(
    acting.tenantId,
    Number(after),
    q.limit,
  );
  if (!page) throw new ApiError("not_found", `no process ${processId}`);
  return {
    items: await Promise.all(page.messages.map((m) => messageView(env, m))),
    nextCursor: page.nextAfterSeq === null ? null : encodeCursor(String(page.nextAfterSeq)),
  };
}

/**
 * Acknowledges (removes) one message from a mailbox (operator, admin or the process's own agent
 * key); its R2 payload goes with it unless a publication shares it. 404 for an unknown message.
 *
 * @example await ackMessageAs(env, db, principal, { messageId: "msg_…", processId: "proc_…" })
 */
export async function ackMessageAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { messageId: string; processId?: string | undefined },
): Promise<{ messageId: string; processId: string }> {
  const processId = processOf(caller, input.processId);
  requireProcessAccess(caller, processId, WRITE_ROLES);
  const acting = await gateSyscall(env, db, caller, "msg.recv", WRITE_ROLES, {
    type: "Process",
    id: processId,
  });
  const removed = await processStub(env, processId).busAck(acting.tenantId, input.messageId);
  if (removed === null) throw new ApiError("not_found", `no process ${processId}`);
  if (removed === "missing")
    throw new ApiError("not_found", `no message ${input.messageId} in the mailbox of ${processId}`);
  if (removed.payload.kind === "r2" && removed.topic === null) {
    await env.BLOBS.delete(removed.payload.key);
  }
  return { messageId: input.messageId, processId };
}

// ---------------------------------------------------------------------------------------------
// topics

/**
 * Subscribes a process to a topic (operator, admin or the process's own agent key; idempotent).
 *
 * @example await subscribeAs(env, db, principal, { topic: "builds.done", processId: "proc_…" })
 */
export async function subscribeAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { topic: string; processId?: string | undefined },
): Promise<{ topic: string; processId: string; created: boolean }> {
  const processId = processOf(caller, input.processId);
  requireProcessAccess(caller, processId, WRITE_ROLES);
  const acting = await gateSyscall(env, db, caller, "topic.subscribe", WRITE_ROLES, {
    type: "Process",
    id: processId,
  });
  const { created } = await subscribe(env, db, {
    tenantId: acting.tenantId,
    topic: input.topic,
    processId,
  });
  return { topic: input.topic, processId, created };
}

/** Unsubscribes a process from a topic; 404 when it was not subscribed. */
export async function unsubscribeAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { topic: string; processId: string },
): Promise<{ topic: string; processId: string }> {
  requireProcessAccess(caller, input.processId, WRITE_ROLES);
  const acting = await gateSyscall(env, db, caller, "topic.subscribe", WRITE_ROLES, {
    type: "Process",
    id: input.processId,
  });
  const { removed } = await unsubscribe(db, {
    tenantId: acting.tenantId,
    topic: input.topic,
    processId: input.processId,
  });
  if (!removed)
    throw new ApiError("not_found", `${input.processId} is not subscribed to ${input.topic}`);
  return { topic: input.topic, processId: input.processId };
}

/**
 * Publishes to a topic of the caller's tenant (operator, admin or an agent key as its process).
 *
 * @example await publishAs(env, db, principal, { topic: "builds.done", body: { ok: true } })
 */
export async function publishAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { topic: string; body: unknown },
): Promise<{ messageId: string; topic: string; deliveries: number; sizeBytes: number }> {
  const tenantId = requireActor(caller, WRITE_ROLES).tenantId;
  const acting = await gateSyscall(env, db, caller, "topic.publish", WRITE_ROLES, {
    type: "Tenant",
    id: tenantId,
  });
  const from = acting.as === "process" ? acting.processId : acting.principal.keyId;
  const out = await publish(env, db, {
    tenantId: acting.tenantId,
    from,
    topic: input.topic,
    body: input.body,
  });
  return { ...out, topic: input.topic };
}

/** The tenant's topics (those with a subscriber) and their subscriber counts. */
export async function listTopicsAs(
  _env: Env,
  db: Db,
  caller: Caller,
): Promise<{ items: Array<{ topic: string; subscribers: number }> }> {
  const tenantId = requireActor(caller, READ_ROLES).tenantId;
  return { items: await listTopics(db, tenantId) };
}

// ---------------------------------------------------------------------------------------------
// dead letters

function deadLetterView(row: DeadLetterRow): DeadLetterView {
  const envelope = JSON.parse(row.envelopeJson) as Envelope;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    messageId: row.messageId,
    targetId: row.targetId,
    from: envelope.from,
    topic: envelope.topic,
    correlationId: envelope.correlationId,
    sizeBytes: envelope.sizeBytes,
    status: row.status,
    lastError: row.lastError,
    attempts: row.attempts,
    replays: row.replays,
    firstFailedAt: new Date(row.firstFailedAtMs).toISOString(),
    lastFailedAt: new Date(row.lastFailedAtMs).toISOString(),
    deadAt: iso(row.deadAtMs),
    replayedAt: iso(row.replayedAtMs),
  };
}

/**
 * The tenant's failed deliveries, most recently failed first (operator or admin).
 *
 * @example await listDeadLettersAs(env, db, principal, { status: "dead", limit: 20 })
 */
export async function listDeadLettersAs(
  _env: Env,
  db: Db,
  caller: Caller,
  q: DeadLetterQuery,
): Promise<Page<DeadLetterView>> {
  const principal = requireTenantKey(caller, WRITE_ROLES);
  const key = cursorKey(q.cursor);
  let before: { ms: number; id: string } | undefined;
  if (key !== undefined) {
    const m = /^(\d{1,15})\.(dl_[0-9a-f]{32})$/.exec(key);
    if (!m) throw fieldError("cursor", INVALID_CURSOR, "invalid_cursor");
    before = { ms: Number(m[1]), id: m[2]! };
  }
  const rows = await listDeadLetters(db, {
    tenantId: principal.tenantId,
    status: q.status,
    before,
    limit: q.limit,
  });
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(deadLetterView),
    nextCursor:
      rows.length > q.limit && last ? encodeCursor(`${last.lastFailedAtMs}.${last.id}`) : null,
  };
}

/**
 * Re-enqueues a dead letter on the bus (operator or admin; gated as a `msg.send` to its target).
 * Only a `dead` one replays: replaying one already replayed is 409 `conflict` (it is in flight
 * or delivered; if it fails again it comes back as `dead` and may be replayed again).
 *
 * @example await replayDeadLetterAs(env, db, principal, { id: "dl_…" })
 */
export async function replayDeadLetterAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string },
): Promise<DeadLetterView> {
  const principal = requireTenantKey(caller, WRITE_ROLES);
  const row = await getDeadLetter(db, principal.tenantId, input.id);
  if (!row) throw new ApiError("not_found", `no dead letter ${input.id}`);
  await gateSyscall(env, db, caller, "msg.send", WRITE_ROLES, {
    type: "Process",
    id: row.targetId,
  });
  const claimed = await claimReplay(db, principal.tenantId, input.id, Date.now());
  if (!claimed) {
    throw new ApiError("conflict", `dead letter ${input.id} is ${row.status}, not dead`, {
      extra: { status: row.status },
    });
  }
  try {
    const envelope = EnvelopeSchema.parse(JSON.parse(claimed.envelopeJson));
    await env.BUS.send(envelope, { contentType: "json" });
  } catch (error) {
    await unclaimReplay(db, input.id);
    throw error;
  }
  return deadLetterView(claimed);
}
