/** The audit log: who did what to which resource, with the decision and the request id. */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { queryAuditLog } from "../../objects/process-calls.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { AuditPageSchema, AuditQuerySchema } from "../schemas.js";

export const auditRoutes = new OpenAPIHono<AppEnv>();

const route = createRoute({
  method: "get",
  path: "/v1/audit",
  tags: ["audit"],
  summary:
    "Query the audit log, newest first (tenant admins see their tenant; the system administrator all)",
  security: BEARER,
  request: { query: AuditQuerySchema },
  responses: {
    200: json(AuditPageSchema, "One page of audit records"),
    ...problems(401, 403, 422),
  },
});

auditRoutes.openapi(route, async (c) => {
  const q = c.req.valid("query");
  return c.json(await queryAuditLog(c.env, c.var.db, c.var.principal, q), 200);
});
