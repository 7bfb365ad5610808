/**
 * The mailbox as its process's object runs it: delivery from the queue consumer (deduplicated by
 * message id, bounded, waking a process that waits for mail), and the reads and acknowledgements
 * callers make through the API. AgentProcess delegates its `bus*` RPC methods here.
 *
 * Ordering: messages are read in the order they arrived in this mailbox (`seq`). The queue
 * delivers at least once and unordered, so no order between sends is promised beyond that —
 * only that each message is in the mailbox at most once.
 */

import type { Envelope } from "../bus/envelope.js";
import { BUS_LIMITS } from "../bus/envelope.js";
import { isTerminal } from "../kernel/process/state.js";
import { type MailboxMessage, MailboxStore } from "./mailbox-store.js";
import type { ProcessStore } from "./process-store.js";

/** What an object must offer to hold a mailbox. */
export interface MailboxHost {
  readonly store: ProcessStore;
  setAlarmAt(atMs: number): Promise<void>;
}

const mailboxes = new WeakMap<object, MailboxStore>();

/** Gives `host` its mailbox tables (call once, from the object's constructor). */
export function attachMailbox(host: object, sql: SqlStorage): void {
  mailboxes.set(host, new MailboxStore(sql));
}

/** The mailbox of the object `host`. */
export function mailboxOf(host: object): MailboxStore {
  const mailbox = mailboxes.get(host);
  if (!mailbox) throw new Error("this object has no mailbox attached");
  return mailbox;
}

export type DeliveryResult =
  | { ok: true; outcome: "delivered" | "duplicate" | "late_reply_dropped" }
  | { ok: false; code: "not_found" | "ended" | "mailbox_full"; detail: string };

/**
 * Puts one envelope in the mailbox, at most once. A reply to a request this process still waits
 * on is held for that request; a reply to one already answered or timed out is dropped (the
 * requester saw the timeout and never sees both). A full mailbox refuses the delivery, which the
 * consumer retries with backoff.
 */
export async function deliver(
  host: MailboxHost,
  tenantId: string,
  envelope: Envelope,
): Promise<DeliveryResult> {
  const record = host.store.load();
  if (!record || record.tenantId !== tenantId)
    return { ok: false, code: "not_found", detail: `no process ${envelope.to}` };
  if (isTerminal(record.status))
    return { ok: false, code: "ended", detail: `process ${record.id} has ${record.status}` };
  const mailbox = mailboxOf(host);
  if (mailbox.wasDelivered(envelope.id)) return { ok: true, outcome: "duplicate" };
  const nowMs = Date.now();
  const requestState = envelope.correlationId ? mailbox.requestState(envelope.correlationId) : null;
  if (requestState === "answered" || requestState === "timed_out") {
    mailbox.markDelivered(envelope.id, nowMs);
    return { ok: true, outcome: "late_reply_dropped" };
  }
  const forRequest = requestState === "pending";
  if (!forRequest) {
    const used = mailbox.usage();
    if (
      used.messages >= BUS_LIMITS.mailboxMaxMessages ||
      used.bytes + envelope.sizeBytes > BUS_LIMITS.mailboxMaxBytes
    ) {
      return {
        ok: false,
        code: "mailbox_full",
        detail: `mailbox of ${record.id} is full (${used.messages} messages, ${used.bytes} bytes)`,
      };
    }
  }
  mailbox.insert(
    {
      messageId: envelope.id,
      from: envelope.from,
      topic: envelope.topic,
      correlationId: envelope.correlationId,
      payload: envelope.payload,
      sizeBytes: envelope.sizeBytes,
      sentAtMs: envelope.sentAtMs,
      deliveredAtMs: nowMs,
    },
    forRequest,
  );
  mailbox.markDelivered(envelope.id, nowMs);
  const on = record.waitingOn;
  if (
    record.status === "waiting" &&
    on?.kind === "message" &&
    (on.correlationId === null ? !forRequest : on.correlationId === envelope.correlationId)
  ) {
    await host.setAlarmAt(nowMs);
  }
  return { ok: true, outcome: "delivered" };
}

export interface MailboxPage {
  messages: MailboxMessage[];
  /** `seq` to pass as `afterSeq` for the next page, or null at the end. */
  nextAfterSeq: number | null;
}

/** A page of unread messages in order of arrival; null when the process is not visible. */
export function listMailbox(
  host: MailboxHost,
  tenantId: string,
  afterSeq: number,
  limit: number,
): MailboxPage | null {
  const record = host.store.load();
  if (!record || record.tenantId !== tenantId) return null;
  const { messages, more } = mailboxOf(host).list(afterSeq, limit);
  const last = messages[messages.length - 1];
  return { messages, nextAfterSeq: more && last ? last.seq : null };
}

/**
 * Acknowledges (removes) one message; returns it, `missing` when it is not in the mailbox, or
 * null when the process is not visible.
 */
export function ackMessage(
  host: MailboxHost,
  tenantId: string,
  messageId: string,
): MailboxMessage | "missing" | null {
  const record = host.store.load();
  if (!record || record.tenantId !== tenantId) return null;
  return mailboxOf(host).remove(messageId) ?? "missing";
}
