/**
 * The HTTP surface of MCP: `/mcp` (origin check → authentication → Streamable HTTP) and the
 * RFC 9728 protected-resource metadata that a 401 points clients at.
 */

import { Hono } from "hono";
import {
  authenticateMcp,
  type OAuthTokenResolver,
  PROTECTED_RESOURCE_METADATA_PATH,
} from "./auth.js";
import type { McpAppEnv } from "./context.js";
import { checkOrigin } from "./origin.js";
import { handleMcpRequest } from "./server.js";

/** Where the MCP endpoint is mounted. */
export const MCP_PATH = "/mcp";

export interface McpRoutesOptions {
  /** Accepts OAuth access tokens on /mcp besides API keys. */
  resolveOAuthToken?: OAuthTokenResolver | undefined;
}

/**
 * The protected-resource metadata of the Worker at `origin`: the whole origin is the resource
 * (so the document lives at the root well-known path), and this Worker is its authorization
 * server. No `scopes_supported`: the consent page, not the client, picks the role to grant.
 *
 * @example protectedResourceMetadata("https://ek.example").resource // "https://ek.example"
 */
export function protectedResourceMetadata(origin: string) {
  return {
    resource: origin,
    authorization_servers: [origin],
    bearer_methods_supported: ["header"],
    resource_name: "edgekernel",
    resource_documentation: `${origin}/docs`,
  };
}

/**
 * The MCP routes, to mount at the root of the app.
 *
 * @example app.route("/", mcpRoutes())
 */
export function mcpRoutes(options: McpRoutesOptions = {}): Hono<McpAppEnv> {
  const app = new Hono<McpAppEnv>();
  app.use(MCP_PATH, checkOrigin());
  app.use(MCP_PATH, authenticateMcp(options.resolveOAuthToken));
  app.all(MCP_PATH, (c) =>
    handleMcpRequest(c.req.raw, {
      env: c.env,
      db: c.var.db,
      requestId: c.var.requestId,
      caller: c.var.mcpCaller,
    }),
  );
  app.get(PROTECTED_RESOURCE_METADATA_PATH, (c) =>
    c.json(protectedResourceMetadata(new URL(c.req.url).origin), 200, {
      "cache-control": "public, max-age=3600",
      "access-control-allow-origin": "*",
    }),
  );
  return app;
}
