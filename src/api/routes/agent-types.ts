/** The agent-type registry: built-in types plus each tenant's own. */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { newId } from "../../kernel/ids.js";
import { ModelIdSchema } from "../../llm/registry.js";
import { agentTypeView, listAgentTypeViews } from "../../objects/process-calls.js";
import { createAgentType, nameTakenElsewhere } from "../../store/agent-types.js";
import { requireTenantKey, WRITE_ROLES } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError, fieldError } from "../problem.js";
import { AgentTypeListSchema, AgentTypeSchema, CreateAgentTypeSchema } from "../schemas.js";

export const agentTypeRoutes = new OpenAPIHono<AppEnv>();

const listRoute = createRoute({
  method: "get",
  path: "/v1/agent-types",
  tags: ["agent types"],
  summary: "List agent types: the built-ins and the tenant's own, every version, newest first",
  security: BEARER,
  responses: { 200: json(AgentTypeListSchema, "Agent types"), ...problems(401, 403) },
});

agentTypeRoutes.openapi(listRoute, async (c) => {
  return c.json(await listAgentTypeViews(c.env, c.var.db, c.var.principal), 200);
});

const createRouteDef = createRoute({
  method: "post",
  path: "/v1/agent-types",
  tags: ["agent types"],
  summary: "Register an agent type version in the caller's tenant",
  security: BEARER,
  request: {
    body: { content: { "application/json": { schema: CreateAgentTypeSchema } }, required: true },
  },
  responses: {
    201: json(AgentTypeSchema, "The registered version"),
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

agentTypeRoutes.openapi(createRouteDef, async (c) => {
  const principal = requireTenantKey(c.var.principal, WRITE_ROLES);
  const body = c.req.valid("json");
  c.var.audit.target = `${body.name}@${body.version}`;
  if (!ModelIdSchema.safeParse(body.model).success) {
    throw fieldError(
      "model",
      "expected `scripted` or `provider:model` (openai, anthropic, workers-ai)",
      "invalid_model",
    );
  }
  if (body.script && body.model !== "scripted") {
    throw fieldError(
      "script",
      "only an agent type whose model is `scripted` takes a script",
      "not_scripted",
    );
  }
  if (await nameTakenElsewhere(c.var.db, body.name, principal.tenantId)) {
    throw new ApiError(
      "conflict",
      `the name ${body.name} belongs to a built-in or another tenant's type`,
      {
        extra: { field: "name" },
      },
    );
  }
  const nowMs = Date.now();
  const created = await createAgentType(c.var.db, {
    id: newId("agentType", nowMs),
    scope: principal.tenantId,
    name: body.name,
    version: body.version,
    description: body.description,
    model: body.model,
    systemPrompt: body.systemPrompt,
    defaultBudget: body.defaultBudget,
    capabilities: [...new Set(body.capabilities)],
    script: body.script ?? null,
    pool: body.pool ?? null,
    status: body.status,
    createdAtMs: nowMs,
  });
  if (!created) {
    throw new ApiError(
      "conflict",
      `${body.name}@${body.version} already exists; versions are immutable`,
      {
        extra: { field: "version" },
      },
    );
  }
  return c.json(agentTypeView(created), 201);
});
