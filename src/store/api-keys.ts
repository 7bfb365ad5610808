/**
 * API keys. A key is 32 random bytes shown once at creation; only its SHA-256 is stored, so a
 * database leak yields no usable credential. Keys are high-entropy, which is why a plain hash
 * (rather than a slow password hash) is the right tool here.
 */

import { and, desc, eq, lt } from "drizzle-orm";
import { sha256Hex } from "../kernel/hash.js";
import { newId } from "../kernel/ids.js";
import type { Db } from "./db.js";
import { apiKeys } from "./schema.js";

export const KEY_ROLES = ["admin", "operator", "reader"] as const;
export type KeyRole = (typeof KEY_ROLES)[number];
export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** Every secret starts with this, so leaked keys are easy to find by secret scanners. */
export const KEY_SECRET_PREFIX = "ek_";
const KEY_SECRET_BYTES = 32;
const KEY_DISPLAY_CHARS = 11;

function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

/** A fresh random secret such as `ek_3q2-…` (46 characters). */
export function newKeySecret(): string {
  const bytes = new Uint8Array(KEY_SECRET_BYTES);
  crypto.getRandomValues(bytes);
  return `${KEY_SECRET_PREFIX}${base64url(bytes)}`;
}

export interface NewKey {
  tenantId: string;
  name: string;
  role: KeyRole;
  processId: string | null;
  createdBy: string;
  expiresAtMs: number | null;
}

/** Creates a key; returns its row and the secret, which is never retrievable again. */
export async function createApiKey(
  db: Db,
  input: NewKey,
  nowMs: number,
): Promise<{ row: ApiKeyRow; secret: string }> {
  const secret = newKeySecret();
  const row: ApiKeyRow = {
    id: newId("key", nowMs),
    ...input,
    prefix: secret.slice(0, KEY_DISPLAY_CHARS),
    secretHash: await sha256Hex(secret),
    createdAtMs: nowMs,
    revokedAtMs: null,
  };
  await db.insert(apiKeys).values(row);
  return { row, secret };
}

/** The key whose secret is `secret`, revoked or not; the caller decides what revoked means. */
export async function findKeyBySecret(db: Db, secret: string): Promise<ApiKeyRow | undefined> {
  const hash = await sha256Hex(secret);
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.secretHash, hash)).limit(1);
  return rows[0];
}

/** One page of a tenant's keys, newest first (`limit + 1` rows, see listProcessIndex). */
export async function listApiKeys(
  db: Db,
  tenantId: string,
  beforeId: string | undefined,
  limit: number,
): Promise<ApiKeyRow[]> {
  const where = [eq(apiKeys.tenantId, tenantId)];
  if (beforeId) where.push(lt(apiKeys.id, beforeId));
  return db
    .select()
    .from(apiKeys)
    .where(and(...where))
    .orderBy(desc(apiKeys.id))
    .limit(limit + 1);
}

/** The key with this id, within `tenantId` when given (the system administrator sees all). */
export async function findKey(
  db: Db,
  id: string,
  tenantId: string | undefined,
): Promise<ApiKeyRow | undefined> {
  const where = [eq(apiKeys.id, id)];
  if (tenantId) where.push(eq(apiKeys.tenantId, tenantId));
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(...where))
    .limit(1);
  return rows[0];
}

/** Marks a key revoked (idempotent: the first revocation time is kept). */
export async function revokeApiKey(db: Db, id: string, nowMs: number): Promise<void> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
  if (rows[0]?.revokedAtMs) return;
  await db.update(apiKeys).set({ revokedAtMs: nowMs }).where(eq(apiKeys.id, id));
}
