/**
 * A2A over HTTP: the Agent Cards and the JSON-RPC endpoints (src/a2a/). These live outside
 * /v1 because A2A fixes their shape: the card at the well-known path, and JSON-RPC errors (not
 * problem+json) for everything past authentication. So the JSON guard skips them (see app.ts)
 * and they authenticate here, with the same bearer keys and the same `resolvePrincipal`.
 *
 *   GET  /.well-known/agent-card.json            the deployment's card (built-in types), public
 *   GET  /a2a/{type}/.well-known/agent-card.json one type's card (a tenant's own: its keys only)
 *   POST /a2a                                    JSON-RPC, any type (metadata.agentType)
 *   POST /a2a/{type}                             JSON-RPC, that type's tasks
 */

import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  A2A_PATH,
  AGENT_CARD_PATH,
  agentTypeCard,
  deploymentCard,
  newestActive,
} from "../../a2a/card.js";
import { A2A_VERSION_HEADER } from "../../a2a/protocol.js";
import { handleA2aRpc } from "../../a2a/rpc.js";
import { AgentTypeNameSchema } from "../../kernel/process/record.js";
import { GLOBAL_SCOPE, listAgentTypes } from "../../store/agent-types.js";
import type { AppEnv, Principal } from "../context.js";
import { resolvePrincipal } from "../middleware/auth.js";
import { ApiError } from "../problem.js";

const BEARER = /^Bearer\s+(\S+)$/i;

/** The caller if it sent a bearer token (401 for a bad one), else undefined. */
async function optionalPrincipal(c: Context<AppEnv>): Promise<Principal | undefined> {
  const header = c.req.header("authorization");
  if (header === undefined) return undefined;
  const token = BEARER.exec(header)?.[1];
  if (!token) throw new ApiError("unauthenticated", "malformed bearer token");
  const principal = await resolvePrincipal(c.env.ADMIN_TOKEN, token, c.var.db);
  c.set("principal", principal);
  return principal;
}

async function requirePrincipal(c: Context<AppEnv>): Promise<Principal> {
  const principal = await optionalPrincipal(c);
  if (!principal) throw new ApiError("unauthenticated", "missing bearer token");
  return principal;
}

/** The newest active version of `name` the caller may see (built-ins for anyone). */
async function visibleType(c: Context<AppEnv>, name: string, principal: Principal | undefined) {
  if (!AgentTypeNameSchema.safeParse(name).success) return undefined;
  const tenantId = principal?.kind === "key" ? principal.tenantId : null;
  return newestActive(await listAgentTypes(c.var.db, tenantId, name))[0];
}

export const a2aRoutes = new OpenAPIHono<AppEnv>();

a2aRoutes.get(AGENT_CARD_PATH, async (c) => {
  const builtins = (await listAgentTypes(c.var.db, null)).filter((t) => t.scope === GLOBAL_SCOPE);
  return c.json(deploymentCard(new URL(c.req.url).origin, builtins), 200, {
    "cache-control": "public, max-age=300",
    "access-control-allow-origin": "*",
  });
});

a2aRoutes.get(`${A2A_PATH}/:type${AGENT_CARD_PATH}`, async (c) => {
  const name = c.req.param("type");
  const principal = await optionalPrincipal(c);
  const type = await visibleType(c, name, principal);
  if (!type) throw new ApiError("not_found", `no agent type ${name}`);
  const isPublic = type.scope === GLOBAL_SCOPE;
  return c.json(agentTypeCard(new URL(c.req.url).origin, type), 200, {
    "cache-control": isPublic ? "public, max-age=300" : "private, no-store",
    ...(isPublic ? { "access-control-allow-origin": "*" } : {}),
    vary: "authorization",
  });
});

a2aRoutes.post(A2A_PATH, async (c) => {
  const principal = await requirePrincipal(c);
  return handleA2aRpc(
    await c.req.text(),
    {
      env: c.env,
      db: c.var.db,
      caller: principal,
      requestId: c.var.requestId,
      agentType: null,
    },
    { version: c.req.header(A2A_VERSION_HEADER) },
  );
});

a2aRoutes.post(`${A2A_PATH}/:type`, async (c) => {
  const principal = await requirePrincipal(c);
  const name = c.req.param("type");
  const type = await visibleType(c, name, principal);
  if (!type) throw new ApiError("not_found", `no agent type ${name}`);
  return handleA2aRpc(
    await c.req.text(),
    {
      env: c.env,
      db: c.var.db,
      caller: principal,
      requestId: c.var.requestId,
      agentType: type.name,
    },
    { version: c.req.header(A2A_VERSION_HEADER) },
  );
});
