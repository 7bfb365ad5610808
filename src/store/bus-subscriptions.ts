/** Topic subscriptions in D1: who receives a tenant's publications on a topic. */

import { and, asc, count, eq, sql } from "drizzle-orm";
import type { Db } from "./db.js";
import { busSubscriptions } from "./schema-bus.js";

/** Subscribes a process (idempotent); returns false when it was subscribed already. */
export async function addSubscription(
  db: Db,
  row: { tenantId: string; topic: string; processId: string },
  nowMs: number,
): Promise<boolean> {
  const inserted = await db
    .insert(busSubscriptions)
    .values({ ...row, createdAtMs: nowMs })
    .onConflictDoNothing()
    .returning({ topic: busSubscriptions.topic });
  return inserted.length > 0;
}

/** Unsubscribes a process; returns false when it was not subscribed. */
export async function removeSubscription(
  db: Db,
  row: { tenantId: string; topic: string; processId: string },
): Promise<boolean> {
  const deleted = await db
    .delete(busSubscriptions)
    .where(
      and(
        eq(busSubscriptions.tenantId, row.tenantId),
        eq(busSubscriptions.topic, row.topic),
        eq(busSubscriptions.processId, row.processId),
      ),
    )
    .returning({ topic: busSubscriptions.topic });
  return deleted.length > 0;
}

/** The processes subscribed to a topic, at most `limit`. */
export async function subscribersOf(
  db: Db,
  tenantId: string,
  topic: string,
  limit: number,
): Promise<string[]> {
  const rows = await db
    .select({ processId: busSubscriptions.processId })
    .from(busSubscriptions)
    .where(and(eq(busSubscriptions.tenantId, tenantId), eq(busSubscriptions.topic, topic)))
    .orderBy(asc(busSubscriptions.processId))
    .limit(limit);
  return rows.map((r) => r.processId);
}

/** How many subscriptions a tenant holds across topics. */
export async function subscriptionCount(db: Db, tenantId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(busSubscriptions)
    .where(eq(busSubscriptions.tenantId, tenantId));
  return row?.n ?? 0;
}

/** A tenant's topics with their subscriber counts, by name. */
export async function listTopics(
  db: Db,
  tenantId: string,
): Promise<Array<{ topic: string; subscribers: number }>> {
  return db
    .select({ topic: busSubscriptions.topic, subscribers: sql<number>`count(*)` })
    .from(busSubscriptions)
    .where(eq(busSubscriptions.tenantId, tenantId))
    .groupBy(busSubscriptions.topic)
    .orderBy(asc(busSubscriptions.topic));
}

/** The topics one process is subscribed to. */
export async function topicsOfProcess(
  db: Db,
  tenantId: string,
  processId: string,
): Promise<string[]> {
  const rows = await db
    .select({ topic: busSubscriptions.topic })
    .from(busSubscriptions)
    .where(and(eq(busSubscriptions.tenantId, tenantId), eq(busSubscriptions.processId, processId)))
    .orderBy(asc(busSubscriptions.topic));
  return rows.map((r) => r.topic);
}
