/**
 * The OAuth 2.1 authorization server for hosted MCP clients (`@cloudflare/workers-oauth-provider`):
 * RFC 8414 metadata, dynamic client registration (RFC 7591), authorization code with PKCE (S256
 * only) and refresh tokens, all stored in the `OAUTH_KV` namespace. The consent step is ours
 * (consent.ts): a person approves a client with a tenant API key and picks the role to grant.
 *
 * Issuer and protected resource are the origin the Worker is reached at, so the same code
 * serves `https://<your domain>`, `http://localhost:8787` in development and the test origin.
 * A token is bound to the origin that issued it: it is refused on any other.
 */

import { OAuthAuthorizationServer } from "@cloudflare/workers-oauth-provider";
import { z } from "zod";
import type { Env } from "../../env.js";
import { KEY_ROLES, type KeyRole } from "../../store/api-keys.js";

export const AUTHORIZE_PATH = "/oauth/authorize";
export const TOKEN_PATH = "/oauth/token";
export const REGISTER_PATH = "/oauth/register";
export const AUTHORIZATION_SERVER_METADATA_PATH = "/.well-known/oauth-authorization-server";

/** One hour: a leaked access token is short-lived; clients refresh. */
export const ACCESS_TOKEN_TTL_S = 3_600;
/** Distinct origins one isolate keeps a server for (a Worker normally has one or two). */
export const MAX_CACHED_ORIGINS = 8;

/** One scope per role: the token carries the role its grant was approved for. */
export const ROLE_SCOPE_PREFIX = "edgekernel:";
export const ROLE_SCOPES = KEY_ROLES.map((role) => `${ROLE_SCOPE_PREFIX}${role}`);

/** What a grant stores (encrypted) and every token of it carries. */
export const GrantPropsSchema = z.object({
  tenantId: z.string(),
  role: z.enum(KEY_ROLES),
  /** The API key whose holder approved the client; revoking it ends the grant's access. */
  keyId: z.string(),
});
export type GrantProps = z.infer<typeof GrantPropsSchema>;

/**
 * The scope naming `role`.
 *
 * @example roleScope("operator") // "edgekernel:operator"
 */
export function roleScope(role: KeyRole): string {
  return `${ROLE_SCOPE_PREFIX}${role}`;
}

const servers = new Map<string, OAuthAuthorizationServer<Env> | null>();

/**
 * The authorization server for `origin`, or null when OAuth cannot be offered there (plain
 * `http` on a host that is not loopback: OAuth 2.1 requires TLS).
 *
 * @example authorizationServerFor("https://ek.example")?.fetch(request, env, ctx)
 */
export function authorizationServerFor(origin: string): OAuthAuthorizationServer<Env> | null {
  const cached = servers.get(origin);
  if (cached !== undefined) return cached;
  let server: OAuthAuthorizationServer<Env> | null;
  try {
    server = new OAuthAuthorizationServer<Env>({
      issuer: origin,
      resources: [origin],
      authorizeEndpoint: AUTHORIZE_PATH,
      tokenEndpoint: TOKEN_PATH,
      clientRegistrationEndpoint: REGISTER_PATH,
      scopesSupported: ROLE_SCOPES,
      accessTokenTTL: ACCESS_TOKEN_TTL_S,
    });
  } catch (error) {
    console.warn("OAuth is unavailable on this origin", origin, (error as Error).message);
    server = null;
  }
  if (servers.size >= MAX_CACHED_ORIGINS) {
    const oldest = servers.keys().next().value;
    if (oldest !== undefined) servers.delete(oldest);
  }
  servers.set(origin, server);
  return server;
}
