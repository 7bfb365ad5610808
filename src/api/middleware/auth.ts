/**
 * Bearer authentication. The ADMIN_TOKEN secret is the system administrator; anything else
 * must be a live API key. Revocation and expiry take effect on the next request: keys are
 * looked up on every call, never cached.
 */

import type { MiddlewareHandler } from "hono";
import { findKeyBySecret } from "../../store/api-keys.js";
import type { AppEnv, Principal } from "../context.js";
import { ApiError } from "../problem.js";

const BEARER = /^Bearer\s+(\S+)$/i;

/** Resolves `c.var.principal` or answers 401. */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const match = BEARER.exec(c.req.header("authorization") ?? "");
    const token = match?.[1];
    if (!token) throw new ApiError("unauthenticated", "missing bearer token");
    c.set("principal", await resolvePrincipal(c.env.ADMIN_TOKEN, token, c.var.db));
    await next();
  };
}

/**
 * The principal a bearer token stands for: the system administrator or a live API key.
 * Throws a 401 `ApiError` for an unknown, revoked or expired key.
 *
 * @example await resolvePrincipal(env.ADMIN_TOKEN, "ek_…", db)
 */
export async function resolvePrincipal(
  adminToken: string | undefined,
  token: string,
  db: AppEnv["Variables"]["db"],
): Promise<Principal> {
  if (adminToken && (await equalSecrets(token, adminToken))) {
    return { kind: "system", actor: "system:admin", role: "system" };
  }
  const key = await findKeyBySecret(db, token);
  if (!key) throw new ApiError("unauthenticated", "unknown credential");
  if (key.revokedAtMs !== null) {
    throw new ApiError("credential_revoked", "this key has been revoked");
  }
  if (key.expiresAtMs !== null && key.expiresAtMs <= Date.now()) {
    throw new ApiError("credential_expired", "this key has expired");
  }
  return {
    kind: "key",
    actor: key.id,
    keyId: key.id,
    tenantId: key.tenantId,
    role: key.role,
    processId: key.processId,
  };
}

/** Constant-time comparison: hash both sides so lengths match, then compare the digests. */
async function equalSecrets(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  const subtle = crypto.subtle as SubtleCrypto & {
    timingSafeEqual?: (x: ArrayBuffer, y: ArrayBuffer) => boolean;
  };
  if (subtle.timingSafeEqual) return subtle.timingSafeEqual(da, db);
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
