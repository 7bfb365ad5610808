/**
 * The authorization server's HTTP surface: RFC 8414 metadata, the token endpoint (which also
 * revokes, RFC 7009) and dynamic client registration are the provider's; the consent page at
 * /oauth/authorize is ours (consent.ts).
 */

import { Hono } from "hono";
import type { AppEnv } from "../../api/context.js";
import { ApiError } from "../../api/problem.js";
import { consentRoutes } from "./consent.js";
import {
  AUTHORIZATION_SERVER_METADATA_PATH,
  authorizationServerFor,
  REGISTER_PATH,
  TOKEN_PATH,
} from "./server.js";

/** The OAuth routes, to mount at the root of the app: `app.route("/", oauthRoutes)`. */
export const oauthRoutes = new Hono<AppEnv>();

oauthRoutes.on(
  ["GET", "POST", "OPTIONS"],
  [AUTHORIZATION_SERVER_METADATA_PATH, TOKEN_PATH, REGISTER_PATH],
  (c) => {
    const server = authorizationServerFor(new URL(c.req.url).origin);
    if (!server)
      throw new ApiError("not_found", "OAuth needs https (or a loopback host in development)");
    // Hono types its own ExecutionContext; at run time it is workerd's.
    return server.fetch(c.req.raw, c.env, c.executionCtx as unknown as ExecutionContext);
  },
);

oauthRoutes.route("/", consentRoutes);
