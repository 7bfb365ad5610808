/** What every MCP tool and resource handler gets: the bindings, the database and the caller. */

import type { AppEnv, Principal } from "../api/context.js";
import type { Env } from "../env.js";
import type { Db } from "../store/db.js";

/** How the caller's bearer credential was issued. */
export type CredentialKind = "api_key" | "admin_token" | "oauth";

/** The authenticated caller of one /mcp request. */
export interface McpCaller {
  principal: Principal;
  credential: CredentialKind;
  /** The OAuth client acting for the key that approved it (OAuth tokens only). */
  oauthClientId?: string | undefined;
}

/** Built once per /mcp request; a stateless server holds nothing across requests. */
export interface McpContext {
  env: Env;
  db: Db;
  /** The HTTP request id, written to every audit row this request causes. */
  requestId: string;
  caller: McpCaller;
}

/** The Hono environment of the MCP routes: the API's, plus the authenticated MCP caller. */
export interface McpAppEnv {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { mcpCaller: McpCaller };
}
