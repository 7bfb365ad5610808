/**
 * OAuth access tokens on /mcp: validated by the authorization server for this origin (the
 * audience must be this origin), then bound to the tenant and role the grant was approved for.
 * The approving API key is looked up on every request, like an API key: revoking or expiring
 * it ends the access of every token it approved.
 */

import type { Context } from "hono";
import { ApiError } from "../../api/problem.js";
import { findKey, KEY_ROLES, type KeyRole } from "../../store/api-keys.js";
import type { McpAppEnv, McpCaller } from "../context.js";
import { authorizationServerFor, GrantPropsSchema } from "./server.js";

/** The lower of two roles. */
function lesserRole(a: KeyRole, b: KeyRole): KeyRole {
  // KEY_ROLES runs from most to least privileged.
  return KEY_ROLES.indexOf(a) > KEY_ROLES.indexOf(b) ? a : b;
}

/**
 * The caller an OAuth access token stands for, or null when the token is unknown, expired or
 * for another origin. Throws a 401 `ApiError` when the approving key is revoked or expired.
 *
 * @example app.use("/mcp", authenticateMcp(resolveOAuthToken))
 */
export async function resolveOAuthToken(
  c: Context<McpAppEnv>,
  token: string,
): Promise<McpCaller | null> {
  const origin = new URL(c.req.url).origin;
  const server = authorizationServerFor(origin);
  if (!server) return null;
  const valid = await server.validateToken(origin, token, c.env);
  if (!valid) return null;
  const props = GrantPropsSchema.safeParse(valid.props);
  if (!props.success) return null;
  const key = await findKey(c.var.db, props.data.keyId, props.data.tenantId);
  if (!key || key.revokedAtMs !== null) {
    throw new ApiError("credential_revoked", "the key that approved this grant has been revoked");
  }
  if (key.expiresAtMs !== null && key.expiresAtMs <= Date.now()) {
    throw new ApiError("credential_expired", "the key that approved this grant has expired");
  }
  return {
    principal: {
      kind: "key",
      actor: key.id,
      keyId: key.id,
      tenantId: key.tenantId,
      role: lesserRole(props.data.role, key.role),
      processId: null,
    },
    credential: "oauth",
    oauthClientId: valid.clientId,
  };
}
