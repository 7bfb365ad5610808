/** Tenants: the unit of isolation. Every other row belongs to exactly one. */

import { eq } from "drizzle-orm";
import { newId } from "../kernel/ids.js";
import type { Db } from "./db.js";
import { tenants } from "./schema.js";

export type TenantRow = typeof tenants.$inferSelect;

/** Creates a tenant; returns null when the name is taken. */
export async function createTenant(db: Db, name: string, nowMs: number): Promise<TenantRow | null> {
  const row: TenantRow = { id: newId("tenant", nowMs), name, status: "active", createdAtMs: nowMs };
  const inserted = await db.insert(tenants).values(row).onConflictDoNothing().returning();
  return inserted[0] ?? null;
}

/** The tenant with this id, if any. */
export async function findTenant(db: Db, id: string): Promise<TenantRow | undefined> {
  const rows = await db.select().from(tenants).where(eq(tenants.id, id)).limit(1);
  return rows[0];
}
