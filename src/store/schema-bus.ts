/**
 * D1 tables of the message bus: topic subscriptions (publish fans out over them) and dead
 * letters (deliveries that failed for good, listed and replayed by an operator). Mailboxes
 * themselves live in each process's Durable Object, not here.
 */

import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One process subscribed to one topic of its tenant. */
export const busSubscriptions = sqliteTable(
  "bus_subscriptions",
  {
    tenantId: text("tenant_id").notNull(),
    topic: text("topic").notNull(),
    processId: text("process_id").notNull(),
    createdAtMs: integer("created_at_ms").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.topic, t.processId] }),
    index("bus_subscriptions_process_idx").on(t.processId),
  ],
);

/**
 * A delivery that failed: `retrying` while the queue still retries it, `dead` once it gave up
 * (or at once for a failure no retry can fix), `replayed` after an operator re-enqueued it,
 * `delivered` when a retry got through after all. One row per (message, recipient): a topic
 * publication shares its message id between subscribers.
 */
export const busDeadLetters = sqliteTable(
  "bus_dead_letters",
  {
    /** `dl_` and a hash of (message id, recipient): stable, so a second failure finds the row. */
    id: text("id").primaryKey(),
    messageId: text("message_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    targetId: text("target_id").notNull(),
    envelopeJson: text("envelope_json").notNull(),
    status: text("status", { enum: ["retrying", "dead", "replayed", "delivered"] }).notNull(),
    lastError: text("last_error").notNull(),
    attempts: integer("attempts").notNull(),
    replays: integer("replays").notNull().default(0),
    firstFailedAtMs: integer("first_failed_at_ms").notNull(),
    lastFailedAtMs: integer("last_failed_at_ms").notNull(),
    deadAtMs: integer("dead_at_ms"),
    replayedAtMs: integer("replayed_at_ms"),
  },
  (t) => [index("bus_dead_letters_tenant_status_idx").on(t.tenantId, t.status, t.lastFailedAtMs)],
);
