/**
 * Authentication for /mcp. A bearer credential is either an API key (`ek_…`, or the
 * ADMIN_TOKEN), resolved exactly as the HTTPS API resolves it, or an OAuth access token issued
 * by this Worker's authorization server (`userId:grantId:secret`, the provider's format, which
 * no API key can take since keys never contain `:`). Failures answer 401 with the RFC 9728
 * challenge that points clients at the protected-resource metadata.
 */

import type { Context, MiddlewareHandler } from "hono";
import { resolvePrincipal } from "../api/middleware/auth.js";
import { ApiError } from "../api/problem.js";
import type { McpAppEnv, McpCaller } from "./context.js";

const BEARER = /^Bearer\s+(\S+)$/i;

/** Where RFC 9728 protected-resource metadata lives, relative to the origin. */
export const PROTECTED_RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource";

/** Resolves an OAuth access token to a caller, or null when it is not a valid one. */
export type OAuthTokenResolver = (
  c: Context<McpAppEnv>,
  token: string,
) => Promise<McpCaller | null>;

/**
 * The protected-resource metadata URL of the Worker that `requestUrl` reached.
 *
 * @example resourceMetadataUrl("https://ek.example/mcp") // "https://ek.example/.well-known/oauth-protected-resource"
 */
export function resourceMetadataUrl(requestUrl: string): string {
  return `${new URL(requestUrl).origin}${PROTECTED_RESOURCE_METADATA_PATH}`;
}

/**
 * The `WWW-Authenticate` value of a 401: the metadata URL, plus `invalid_token` when a
 * credential was presented and refused (RFC 6750 §3).
 *
 * @example bearerChallenge("https://ek.example/mcp") // 'Bearer resource_metadata="https://ek.example/.well-known/oauth-protected-resource"'
 */
export function bearerChallenge(requestUrl: string, refused?: string): string {
  const metadata = `resource_metadata="${resourceMetadataUrl(requestUrl)}"`;
  if (refused === undefined) return `Bearer ${metadata}`;
  const description = refused.replace(/["\\]/g, "");
  return `Bearer error="invalid_token", error_description="${description}", ${metadata}`;
}

function unauthorized(c: Context<McpAppEnv>, error: ApiError, presented: boolean): Response {
  return c.json(
    {
      jsonrpc: "2.0",
      error: {
        code: -32000,
        message: `${error.code}: ${error.message}`,
        data: { code: error.code },
      },
      id: null,
    },
    401,
    {
      "www-authenticate": bearerChallenge(c.req.url, presented ? error.message : undefined),
    },
  );
}

/**
 * Sets `c.var.mcpCaller` (and `c.var.principal`) from the bearer credential, or answers 401.
 * `resolveOAuthToken` handles tokens in the provider's format; without it they are refused.
 *
 * @example app.use("/mcp", authenticateMcp(resolveOAuthToken))
 */
export function authenticateMcp(
  resolveOAuthToken?: OAuthTokenResolver,
): MiddlewareHandler<McpAppEnv> {
  return async (c, next) => {
    const token = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
    if (!token)
      return unauthorized(c, new ApiError("unauthenticated", "missing bearer token"), false);
    let caller: McpCaller | null = null;
    try {
      // Only a token in the provider's format can be an access token; anything else (and an
      // unknown one, in case an ADMIN_TOKEN contains `:`) is looked up as an API key.
      if (token.includes(":") && resolveOAuthToken) caller = await resolveOAuthToken(c, token);
      if (!caller) {
        const principal = await resolvePrincipal(c.env.ADMIN_TOKEN, token, c.var.db);
        caller = {
          principal,
          credential: principal.kind === "system" ? "admin_token" : "api_key",
        };
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return unauthorized(c, error, true);
      throw error;
    }
    c.set("principal", caller.principal);
    c.set("mcpCaller", caller);
    await next();
  };
}
