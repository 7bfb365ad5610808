/** The audit log: who did what to which resource, with the decision and the request id. */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { queryAudit } from "../../store/audit.js";
import { decodeCursor, encodeCursor } from "../../store/cursor.js";
import { ADMIN_ROLES, principalOf, requireTenantKey } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError, fieldError } from "../problem.js";
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
  const principal = principalOf(c.var.principal);
  let tenantId: string | undefined;
  if (principal.kind === "system") {
    tenantId = q.tenantId;
  } else {
    tenantId = requireTenantKey(principal, ADMIN_ROLES).tenantId;
    if (q.tenantId && q.tenantId !== tenantId) {
      throw new ApiError("forbidden", "a tenant admin reads only its own tenant's audit log");
    }
  }
  const fromMs = q.from ? Date.parse(q.from) : undefined;
  const toMs = q.to ? Date.parse(q.to) : undefined;
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) {
    throw fieldError("from", "must not be after `to`", "invalid_range");
  }
  const beforeId = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
  if (beforeId === null)
    throw fieldError("cursor", "not a cursor issued by this API", "invalid_cursor");
  const rows = await queryAudit(c.var.db, {
    tenantId,
    actor: q.actor,
    action: q.action,
    fromMs,
    toMs,
    beforeId,
    limit: q.limit,
  });
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return c.json(
    {
      items: page.map((r) => ({
        id: r.id,
        at: new Date(r.atMs).toISOString(),
        tenantId: r.tenantId,
        actor: r.actor,
        actorRole: r.actorRole,
        action: r.action,
        target: r.target,
        decision: r.decision,
        status: r.status,
        requestId: r.requestId,
        detail: r.detailJson ? (JSON.parse(r.detailJson) as Record<string, unknown>) : null,
      })),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.id) : null,
    },
    200,
  );
});
