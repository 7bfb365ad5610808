/** Tenants: created by the system administrator only. */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { createTenant } from "../../store/tenants.js";
import { principalOf } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError } from "../problem.js";
import { CreateTenantSchema, TenantSchema } from "../schemas.js";

export const tenantRoutes = new OpenAPIHono<AppEnv>();

const route = createRoute({
  method: "post",
  path: "/v1/tenants",
  tags: ["tenants and keys"],
  summary: "Create a tenant (system administrator)",
  security: BEARER,
  request: {
    body: { content: { "application/json": { schema: CreateTenantSchema } }, required: true },
  },
  responses: {
    201: json(TenantSchema, "The new tenant"),
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

tenantRoutes.openapi(route, async (c) => {
  if (principalOf(c.var.principal).kind !== "system") {
    throw new ApiError("forbidden", "only the system administrator creates tenants");
  }
  const { name } = c.req.valid("json");
  const tenant = await createTenant(c.var.db, name, Date.now());
  if (!tenant)
    throw new ApiError("conflict", `a tenant named ${name} exists`, { extra: { field: "name" } });
  c.var.audit.target = tenant.id;
  c.var.audit.tenantId = tenant.id;
  return c.json(
    {
      id: tenant.id,
      name: tenant.name,
      status: tenant.status,
      createdAt: new Date(tenant.createdAtMs).toISOString(),
    },
    201,
  );
});
