/**
 * Idempotency keys: the first request with a key claims it and records which resource it
 * made; a replay with the same body gets that resource back, a replay with another body is
 * refused. Claims expire after IDEMPOTENCY_TTL_MS, as in Stripe's API.
 */

import { and, eq, lt } from "drizzle-orm";
import type { Db } from "./db.js";
import { idempotencyKeys } from "./schema.js";

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export type Claim =
  | { kind: "claimed" }
  | { kind: "replay"; resourceId: string }
  | { kind: "mismatch"; resourceId: string };

/**
 * Claims `key` for `resourceId`, or reports who holds it. Atomic: two concurrent first requests
 * race on the primary key and exactly one wins.
 */
export async function claimIdempotencyKey(
  db: Db,
  claim: { tenantId: string; scope: string; key: string; requestHash: string; resourceId: string },
  nowMs: number,
): Promise<Claim> {
  const match = and(
    eq(idempotencyKeys.tenantId, claim.tenantId),
    eq(idempotencyKeys.scope, claim.scope),
    eq(idempotencyKeys.key, claim.key),
  );
  await db
    .delete(idempotencyKeys)
    .where(and(match, lt(idempotencyKeys.createdAtMs, nowMs - IDEMPOTENCY_TTL_MS)));
  // Two rounds: a claim that expires between our insert and our read is claimed again.
  for (let round = 0; round < 2; round++) {
    const inserted = await db
      .insert(idempotencyKeys)
      .values({ ...claim, createdAtMs: nowMs })
      .onConflictDoNothing()
      .returning();
    if (inserted.length > 0) return { kind: "claimed" };
    const held = (await db.select().from(idempotencyKeys).where(match).limit(1))[0];
    if (held) {
      return held.requestHash === claim.requestHash
        ? { kind: "replay", resourceId: held.resourceId }
        : { kind: "mismatch", resourceId: held.resourceId };
    }
  }
  throw new Error("idempotency key claim kept vanishing");
}
