/** The D1 list of model pools, so `GET /v1/scheduler/pools` can find every Scheduler object. */

import { desc } from "drizzle-orm";
import type { PoolConfig } from "../kernel/scheduler/pool-config.js";
import type { Db } from "./db.js";
import { schedulerPools } from "./schema.js";

/** Records that `pool` exists, with its current configuration. */
export async function upsertPoolIndex(
  db: Db,
  pool: string,
  config: PoolConfig,
  nowMs: number,
): Promise<void> {
  await db
    .insert(schedulerPools)
    .values({ name: pool, configJson: JSON.stringify(config), updatedAtMs: nowMs })
    .onConflictDoUpdate({
      target: schedulerPools.name,
      set: { configJson: JSON.stringify(config), updatedAtMs: nowMs },
    });
}

/** Every pool that has been used or configured, most recently changed first. */
export async function listPoolNames(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .select({ name: schedulerPools.name })
    .from(schedulerPools)
    .orderBy(desc(schedulerPools.updatedAtMs))
    .limit(limit);
  return rows.map((r) => r.name);
}
