/**
 * Publish/subscribe, tenant-scoped: subscriptions are D1 rows; a publish enqueues one envelope
 * per subscriber, all carrying the publication's message id (each mailbox dedupes on its own)
 * and, for a large payload, one shared R2 object.
 */

import { ApiError } from "../api/problem.js";
import type { Env } from "../env.js";
import { newId } from "../kernel/ids.js";
import {
  addSubscription,
  removeSubscription,
  subscribersOf,
  subscriptionCount,
} from "../store/bus-subscriptions.js";
import type { Db } from "../store/db.js";
import { requireLiveTarget } from "./direct.js";
import { BUS_LIMITS, type Envelope } from "./envelope.js";
import { encodePayload, storePayload } from "./payload.js";

/** Most messages one `sendBatch` call takes. */
const SEND_BATCH_MAX = 100;

export interface Publication {
  tenantId: string;
  from: string;
  topic: string;
  body: unknown;
}

/**
 * Publishes to every current subscriber of the topic; returns the publication's id and how
 * many deliveries were enqueued (0 when nobody is subscribed: the message goes nowhere).
 *
 * @example await publish(env, db, { tenantId, from: "key_…", topic: "builds.done", body: { ok: true } })
 */
export async function publish(
  env: Env,
  db: Db,
  pub: Publication,
  options: { messageId?: string | undefined } = {},
): Promise<{ messageId: string; deliveries: number; sizeBytes: number }> {
  const payload = encodePayload(pub.body);
  const messageId = options.messageId ?? newId("message");
  const subscribers = await subscribersOf(
    db,
    pub.tenantId,
    pub.topic,
    BUS_LIMITS.subscribersPerTopic,
  );
  if (subscribers.length === 0) return { messageId, deliveries: 0, sizeBytes: payload.sizeBytes };
  const ref = await storePayload(env, pub.tenantId, messageId, payload);
  const sentAtMs = Date.now();
  const envelopes: Envelope[] = subscribers.map((to) => ({
    v: 1,
    id: messageId,
    tenantId: pub.tenantId,
    from: pub.from,
    to,
    topic: pub.topic,
    correlationId: null,
    sentAtMs,
    sizeBytes: payload.sizeBytes,
    payload: ref,
  }));
  for (let i = 0; i < envelopes.length; i += SEND_BATCH_MAX) {
    await env.BUS.sendBatch(
      envelopes.slice(i, i + SEND_BATCH_MAX).map((body) => ({ body, contentType: "json" })),
    );
  }
  return { messageId, deliveries: envelopes.length, sizeBytes: payload.sizeBytes };
}

/**
 * Subscribes a live process of the tenant to a topic (idempotent); 404 for an unknown process,
 * 409 for an ended one or when the tenant holds the most subscriptions it may.
 */
export async function subscribe(
  env: Env,
  db: Db,
  sub: { tenantId: string; topic: string; processId: string },
): Promise<{ created: boolean }> {
  await requireLiveTarget(env, sub.tenantId, sub.processId, "processId");
  if ((await subscriptionCount(db, sub.tenantId)) >= BUS_LIMITS.subscriptionsPerTenant) {
    throw new ApiError(
      "conflict",
      `the tenant holds ${BUS_LIMITS.subscriptionsPerTenant} subscriptions, the most it may`,
      { extra: { limit: BUS_LIMITS.subscriptionsPerTenant } },
    );
  }
  return { created: await addSubscription(db, sub, Date.now()) };
}

/** Unsubscribes; returns whether there was a subscription to remove. */
export async function unsubscribe(
  db: Db,
  sub: { tenantId: string; topic: string; processId: string },
): Promise<{ removed: boolean }> {
  return { removed: await removeSubscription(db, sub) };
}
