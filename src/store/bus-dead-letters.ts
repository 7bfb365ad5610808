/**
 * Dead letters in D1: deliveries of the bus that failed. A row is written at the first failed
 * attempt (`retrying`), becomes `dead` when the queue gives up (or at once for a failure no
 * retry fixes), `replayed` when an operator re-enqueues it, or `delivered` when a retry got
 * through after all.
 */

import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import type { Db } from "./db.js";
import { busDeadLetters } from "./schema-bus.js";

export type DeadLetterRow = typeof busDeadLetters.$inferSelect;
export type DeadLetterStatus = DeadLetterRow["status"];

export interface FailedDelivery {
  id: string;
  messageId: string;
  tenantId: string;
  targetId: string;
  envelopeJson: string;
  error: string;
  /** Delivery attempts so far (the queue's count). */
  attempts: number;
}

/**
 * Records a failed attempt: `retrying` while the queue will try again, `dead` when it will not.
 */
export async function recordFailure(
  db: Db,
  failure: FailedDelivery,
  status: "retrying" | "dead",
  nowMs: number,
): Promise<void> {
  await db
    .insert(busDeadLetters)
    .values({
      id: failure.id,
      messageId: failure.messageId,
      tenantId: failure.tenantId,
      targetId: failure.targetId,
      envelopeJson: failure.envelopeJson,
      status,
      lastError: failure.error,
      attempts: failure.attempts,
      firstFailedAtMs: nowMs,
      lastFailedAtMs: nowMs,
      deadAtMs: status === "dead" ? nowMs : null,
    })
    .onConflictDoUpdate({
      target: busDeadLetters.id,
      set: {
        status,
        lastError: failure.error,
        attempts: sql`max(${busDeadLetters.attempts}, ${failure.attempts})`,
        lastFailedAtMs: nowMs,
        deadAtMs: status === "dead" ? nowMs : busDeadLetters.deadAtMs,
      },
    });
}

/**
 * Moves a row the queue gave up on to `dead` (from the dead-letter queue's consumer); keeps the
 * last error the main consumer recorded. Creates the row when none was written.
 */
export async function markDead(db: Db, failure: FailedDelivery, nowMs: number): Promise<void> {
  await db
    .insert(busDeadLetters)
    .values({
      id: failure.id,
      messageId: failure.messageId,
      tenantId: failure.tenantId,
      targetId: failure.targetId,
      envelopeJson: failure.envelopeJson,
      status: "dead",
      lastError: failure.error,
      attempts: failure.attempts,
      firstFailedAtMs: nowMs,
      lastFailedAtMs: nowMs,
      deadAtMs: nowMs,
    })
    .onConflictDoUpdate({
      target: busDeadLetters.id,
      set: { status: "dead", deadAtMs: nowMs },
    });
}

/** A retry got through: the row (if any) says so. */
export async function markRetryDelivered(db: Db, id: string): Promise<void> {
  await db
    .update(busDeadLetters)
    .set({ status: "delivered" })
    .where(and(eq(busDeadLetters.id, id), eq(busDeadLetters.status, "retrying")));
}

/** Dead letters of a tenant, most recently failed first, after the (ms, id) cursor. */
export async function listDeadLetters(
  db: Db,
  q: {
    tenantId: string;
    status: DeadLetterStatus | undefined;
    before: { ms: number; id: string } | undefined;
    limit: number;
  },
): Promise<DeadLetterRow[]> {
  const conditions = [eq(busDeadLetters.tenantId, q.tenantId)];
  if (q.status) conditions.push(eq(busDeadLetters.status, q.status));
  if (q.before) {
    conditions.push(
      or(
        lt(busDeadLetters.lastFailedAtMs, q.before.ms),
        and(eq(busDeadLetters.lastFailedAtMs, q.before.ms), lt(busDeadLetters.id, q.before.id)),
      )!,
    );
  }
  return db
    .select()
    .from(busDeadLetters)
    .where(and(...conditions))
    .orderBy(desc(busDeadLetters.lastFailedAtMs), desc(busDeadLetters.id))
    .limit(q.limit + 1);
}

export async function getDeadLetter(
  db: Db,
  tenantId: string,
  id: string,
): Promise<DeadLetterRow | null> {
  const [row] = await db
    .select()
    .from(busDeadLetters)
    .where(and(eq(busDeadLetters.tenantId, tenantId), eq(busDeadLetters.id, id)));
  return row ?? null;
}

/**
 * Claims a dead letter for replay: `dead` → `replayed`, in one conditional statement so two
 * operators replaying at once enqueue it once. Null when it was not dead.
 */
export async function claimReplay(
  db: Db,
  tenantId: string,
  id: string,
  nowMs: number,
): Promise<DeadLetterRow | null> {
  const [row] = await db
    .update(busDeadLetters)
    .set({ status: "replayed", replayedAtMs: nowMs, replays: sql`${busDeadLetters.replays} + 1` })
    .where(
      and(
        eq(busDeadLetters.tenantId, tenantId),
        eq(busDeadLetters.id, id),
        eq(busDeadLetters.status, "dead"),
      ),
    )
    .returning();
  return row ?? null;
}

/** Undoes a claim whose enqueue failed, so the operator can try again. */
export async function unclaimReplay(db: Db, id: string): Promise<void> {
  await db
    .update(busDeadLetters)
    .set({ status: "dead", replays: sql`${busDeadLetters.replays} - 1` })
    .where(and(eq(busDeadLetters.id, id), eq(busDeadLetters.status, "replayed")));
}
