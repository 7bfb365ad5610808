/**
 * The bus's queue consumers. `edgekernel-bus`: each envelope goes into its target's mailbox
 * (the mailbox dedupes, so a redelivery is acknowledged without a second copy). A delivery that
 * may succeed later (a full mailbox, an object or D1 hiccup) is retried with exponential backoff;
 * after `max_retries` (wrangler.toml) the queue moves it to `edgekernel-bus-dlq`, whose consumer
 * marks its dead letter `dead`. A delivery no retry can fix — the target does not exist (any
 * more) in the tenant, or has ended — is dead-lettered at once, except a topic copy to an ended
 * subscriber, which is dropped and its subscription removed.
 */

import type { Env } from "../env.js";
import { sha256Hex } from "../kernel/hash.js";
import { processStub } from "../objects/agent-process.js";
import { markDead, markRetryDelivered, recordFailure } from "../store/bus-dead-letters.js";
import { removeSubscription } from "../store/bus-subscriptions.js";
import { type Db, openDb } from "../store/db.js";
import { type Envelope, EnvelopeSchema } from "./envelope.js";

export const BUS_QUEUE = "edgekernel-bus";
export const BUS_DLQ_QUEUE = "edgekernel-bus-dlq";

/** Backoff before retry `attempts` (1-based): 1 s, 2 s, 4 s, … up to a minute. */
export const RETRY_BASE_SECONDS = 1;
export const RETRY_CAP_SECONDS = 60;

/**
 * The delay before retrying after attempt number `attempts`.
 *
 * @example retryDelaySeconds(3) // 4
 */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.max(0, attempts - 1));
}

/** The dead letter of one (message, recipient): stable, so every failure finds the same row. */
export async function deadLetterId(messageId: string, targetId: string): Promise<string> {
  return `dl_${(await sha256Hex(`${messageId}:${targetId}`)).slice(0, 32)}`;
}

async function failureOf(envelope: Envelope, error: string, attempts: number) {
  return {
    id: await deadLetterId(envelope.id, envelope.to),
    messageId: envelope.id,
    tenantId: envelope.tenantId,
    targetId: envelope.to,
    envelopeJson: JSON.stringify(envelope),
    error,
    attempts,
  };
}

/** Routes a batch to its queue's consumer by name. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue === BUS_QUEUE) await consumeBus(batch, env);
  else if (batch.queue === BUS_DLQ_QUEUE) await consumeDeadLetters(batch, env);
  else {
    console.error("message batch from an unknown queue; retrying later", batch.queue);
    batch.retryAll({ delaySeconds: RETRY_CAP_SECONDS });
  }
}

/** Delivers each envelope of a batch into its target's mailbox. */
export async function consumeBus(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = openDb(env.DB);
  for (const message of batch.messages) {
    const parsed = EnvelopeSchema.safeParse(message.body);
    if (!parsed.success) {
      // Only a bug produces one (envelopes are built here); it names no tenant to show it to.
      console.error("malformed bus envelope dropped", message.id, parsed.error.issues[0]);
      message.ack();
      continue;
    }
    await deliverOne(db, env, parsed.data, message);
  }
}

async function deliverOne(db: Db, env: Env, envelope: Envelope, message: Message<unknown>) {
  const nowMs = Date.now();
  let result: Awaited<ReturnType<ReturnType<typeof processStub>["busDeliver"]>>;
  try {
    result = await processStub(env, envelope.to).busDeliver(envelope.tenantId, envelope);
  } catch (error) {
    await retry(db, envelope, message, `delivery threw: ${String(error)}`, nowMs);
    return;
  }
  if (result.ok) {
    message.ack();
    if (message.attempts > 1)
      await markRetryDelivered(db, await deadLetterId(envelope.id, envelope.to));
    return;
  }
  if (result.code === "mailbox_full") {
    await retry(db, envelope, message, result.detail, nowMs);
    return;
  }
  if (result.code === "ended" && envelope.topic !== null) {
    await removeSubscription(db, {
      tenantId: envelope.tenantId,
      topic: envelope.topic,
      processId: envelope.to,
    });
    message.ack();
    return;
  }
  await recordFailure(
    db,
    await failureOf(envelope, result.detail, message.attempts),
    "dead",
    nowMs,
  );
  message.ack();
}

async function retry(
  db: Db,
  envelope: Envelope,
  message: Message<unknown>,
  error: string,
  nowMs: number,
): Promise<void> {
  try {
    await recordFailure(db, await failureOf(envelope, error, message.attempts), "retrying", nowMs);
  } catch (noteError) {
    console.error("could not record a failed delivery", envelope.id, noteError);
  }
  message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
}

/** Marks what the queue gave up on as dead, for an operator to list and replay. */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = openDb(env.DB);
  const nowMs = Date.now();
  for (const message of batch.messages) {
    const parsed = EnvelopeSchema.safeParse(message.body);
    if (!parsed.success) {
      console.error("malformed dead letter dropped", message.id);
      message.ack();
      continue;
    }
    try {
      await markDead(
        db,
        await failureOf(parsed.data, "retries exhausted", message.attempts),
        nowMs,
      );
      message.ack();
    } catch (error) {
      console.error("could not record a dead letter; retrying", message.id, error);
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
