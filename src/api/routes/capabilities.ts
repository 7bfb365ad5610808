/**
 * The capability manager over HTTPS: the registry of capabilities a tenant can see, its
 * entitlements (which agent types may call what, with rate limits and token budgets), and
 * external MCP servers registered as capability providers.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { newId } from "../../kernel/ids.js";
import { RISK_LEVELS } from "../../kernel/syscall/policy.js";
import { invalidateGateContext } from "../../objects/gate-context.js";
import { listProviders, registerProvider } from "../../objects/mcp-providers.js";
import {
  createEntitlement,
  deleteEntitlement,
  listCapabilities,
  listEntitlements,
} from "../../store/capabilities.js";
import { ADMIN_ROLES, READ_ROLES, requireTenantKey } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError } from "../problem.js";

export const capabilityRoutes = new OpenAPIHono<AppEnv>();

const CapabilitySchema = z
  .object({
    name: z.string().meta({ description: "`namespace.name`" }),
    namespace: z.string(),
    version: z.string(),
    description: z.string(),
    inputSchema: z.record(z.string(), z.unknown()),
    risk: z.enum(RISK_LEVELS),
    provider: z.string(),
    builtin: z.boolean(),
  })
  .meta({ id: "Capability" });

const NamespaceSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, "lowercase letters, digits and _, at most 32");

const EntitlementSchema = z
  .object({
    id: z.string(),
    agentType: z.string(),
    capability: z.string(),
    callsPerMin: z.number().int().nullable(),
    budgetTokens: z.number().int().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "Entitlement" });

const CreateEntitlementSchema = z
  .strictObject({
    agentType: z
      .string()
      .regex(/^(\*|[a-z][a-z0-9-]{0,62})$/, "an agent type name, or * for all")
      .default("*"),
    capability: z
      .string()
      .regex(
        /^[a-z][a-z0-9_]{0,31}\.(\*|[A-Za-z0-9_.:-]{1,128})$/,
        "`namespace.name` or `namespace.*`",
      ),
    callsPerMin: z.number().int().min(1).max(1_000_000).optional(),
    budgetTokens: z.number().int().min(1).max(1_000_000_000).optional(),
  })
  .meta({ id: "CreateEntitlementRequest" });

const CreateProviderSchema = z
  .strictObject({
    namespace: NamespaceSchema,
    url: z.url({ protocol: /^https?$/ }).max(2_000),
    defaultRisk: z.enum(RISK_LEVELS).default("medium"),
    toolRisk: z.record(z.string(), z.enum(RISK_LEVELS)).default({}),
  })
  .meta({ id: "CreateCapabilityProviderRequest" });

const ProviderSchema = z
  .object({
    id: z.string(),
    namespace: z.string(),
    url: z.string(),
    status: z.string(),
    tools: z.array(z.string()),
    refreshedAt: z.string(),
  })
  .meta({ id: "CapabilityProvider" });

capabilityRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/capabilities",
    tags: ["capabilities"],
    summary:
      "Capabilities the tenant can see: built-ins and its providers' tools, with risk levels",
    security: BEARER,
    responses: {
      200: json(z.object({ items: z.array(CapabilitySchema) }), "Capabilities"),
      ...problems(401, 403),
    },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, READ_ROLES);
    const items = await listCapabilities(c.var.db, principal.tenantId);
    return c.json(
      {
        items: items.map((cap) => ({
          name: cap.fullName,
          namespace: cap.namespace,
          version: cap.version,
          description: cap.description,
          inputSchema: cap.inputSchema,
          risk: cap.risk,
          provider: cap.provider,
          builtin: cap.provider === "builtin",
        })),
      },
      200,
    );
  },
);

capabilityRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/entitlements",
    tags: ["capabilities"],
    summary: "The tenant's entitlements",
    security: BEARER,
    responses: {
      200: json(z.object({ items: z.array(EntitlementSchema) }), "Entitlements"),
      ...problems(401, 403),
    },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, READ_ROLES);
    const rows = await listEntitlements(c.var.db, principal.tenantId);
    return c.json(
      {
        items: rows.map((r) => ({
          ...r,
          createdAt: new Date(r.createdAtMs).toISOString(),
          createdAtMs: undefined,
          tenantId: undefined,
        })),
      },
      200,
    );
  },
);

capabilityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/entitlements",
    tags: ["capabilities"],
    summary:
      "Grant an agent type (or `*`) a capability or a namespace, with optional limits (tenant admin)",
    security: BEARER,
    request: {
      body: {
        content: { "application/json": { schema: CreateEntitlementSchema } },
        required: true,
      },
    },
    responses: {
      201: json(EntitlementSchema, "The entitlement"),
      ...problems(400, 401, 403, 413, 415, 422),
    },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, ADMIN_ROLES);
    const body = c.req.valid("json");
    const nowMs = Date.now();
    const row = await createEntitlement(c.var.db, {
      id: newId("entitlement", nowMs),
      tenantId: principal.tenantId,
      agentType: body.agentType,
      capability: body.capability,
      callsPerMin: body.callsPerMin ?? null,
      budgetTokens: body.budgetTokens ?? null,
      createdAtMs: nowMs,
    });
    invalidateGateContext(principal.tenantId);
    c.var.audit.target = row.id;
    c.var.audit.detail = { agentType: row.agentType, capability: row.capability };
    const { tenantId: _t, createdAtMs, ...rest } = row;
    return c.json({ ...rest, createdAt: new Date(createdAtMs).toISOString() }, 201);
  },
);

capabilityRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/entitlements/{id}",
    tags: ["capabilities"],
    summary: "Revoke an entitlement (tenant admin)",
    security: BEARER,
    request: { params: z.object({ id: z.string().meta({ param: { name: "id", in: "path" } }) }) },
    responses: { 204: { description: "Revoked" }, ...problems(401, 403, 404) },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, ADMIN_ROLES);
    const { id } = c.req.valid("param");
    c.var.audit.target = id;
    if (!(await deleteEntitlement(c.var.db, principal.tenantId, id)))
      throw new ApiError("not_found", `no entitlement ${id}`);
    invalidateGateContext(principal.tenantId);
    return c.body(null, 204);
  },
);

capabilityRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/capability-providers",
    tags: ["capabilities"],
    summary: "External MCP servers registered as capability providers",
    security: BEARER,
    responses: {
      200: json(z.object({ items: z.array(ProviderSchema) }), "Providers"),
      ...problems(401, 403),
    },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, READ_ROLES);
    const rows = await listProviders(c.var.db, principal.tenantId);
    return c.json(
      {
        items: rows.map((r) => ({
          id: r.id,
          namespace: r.namespace,
          url: r.url,
          status: r.status,
          tools: JSON.parse(r.toolsJson) as string[],
          refreshedAt: new Date(r.refreshedAtMs).toISOString(),
        })),
      },
      200,
    );
  },
);

capabilityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/capability-providers",
    tags: ["capabilities"],
    summary:
      "Register (or refresh) an external MCP server: its tools become capabilities `namespace.tool` (tenant admin)",
    security: BEARER,
    request: {
      body: { content: { "application/json": { schema: CreateProviderSchema } }, required: true },
    },
    responses: {
      201: json(ProviderSchema, "The provider and its tools"),
      ...problems(400, 401, 403, 413, 415, 422),
    },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, ADMIN_ROLES);
    const body = c.req.valid("json");
    c.var.audit.target = body.namespace;
    const { provider, tools } = await registerProvider(c.var.db, principal.tenantId, body);
    invalidateGateContext(principal.tenantId);
    c.var.audit.detail = { url: provider.url, tools };
    return c.json(
      {
        id: provider.id,
        namespace: provider.namespace,
        url: provider.url,
        status: provider.status,
        tools,
        refreshedAt: new Date(provider.refreshedAtMs).toISOString(),
      },
      201,
    );
  },
);
