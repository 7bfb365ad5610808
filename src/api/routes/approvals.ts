/**
 * The human gate over HTTPS: calls that policy parked for a person's decision. Approving runs
 * the parked call exactly once; denying fails it with the reason; an unanswered request
 * expires. Tenant admins and operators decide; readers may look.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { isId } from "../../kernel/ids.js";
import { approvalView, decideApproval, listApprovals } from "../../objects/approvals.js";
import { getApproval } from "../../store/approvals.js";
import { READ_ROLES, requireTenantKey, WRITE_ROLES } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { cursorKey } from "../pagination.js";
import { ApiError } from "../problem.js";
import { PageQuerySchema } from "../schemas.js";

export const approvalRoutes = new OpenAPIHono<AppEnv>();

const STATUSES = ["pending", "approved", "denied", "expired"] as const;

export const ApprovalSchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    processId: z.string().nullable(),
    principal: z.string(),
    capability: z.string(),
    arguments: z.unknown(),
    risk: z.string(),
    status: z.enum(STATUSES),
    policyIds: z.array(z.string()),
    reason: z.string().nullable(),
    decidedBy: z.string().nullable(),
    createdAt: z.string(),
    expiresAt: z.string(),
    decidedAt: z.string().nullable(),
  })
  .meta({ id: "Approval" });

const ApprovalPageSchema = z
  .object({ items: z.array(ApprovalSchema), nextCursor: z.string().nullable() })
  .meta({ id: "ApprovalPage" });

export const DecisionBodySchema = z
  .strictObject({ reason: z.string().min(1).max(500).optional() })
  .meta({ id: "ApprovalDecision" });

const IdParam = z.object({ id: z.string().meta({ param: { name: "id", in: "path" } }) });

approvalRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/approvals",
    tags: ["approvals"],
    summary: "List approval requests, newest first",
    security: BEARER,
    request: { query: PageQuerySchema.extend({ status: z.enum(STATUSES).optional() }) },
    responses: {
      200: json(ApprovalPageSchema, "One page of approvals"),
      ...problems(401, 403, 422),
    },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, READ_ROLES);
    const q = c.req.valid("query");
    const page = await listApprovals(c.var.db, principal.tenantId, {
      status: q.status,
      beforeId: cursorKey(q.cursor),
      limit: q.limit,
    });
    return c.json(page, 200);
  },
);

approvalRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/approvals/{id}",
    tags: ["approvals"],
    summary: "Get an approval request",
    security: BEARER,
    request: { params: IdParam },
    responses: { 200: json(ApprovalSchema, "The approval"), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const principal = requireTenantKey(c.var.principal, READ_ROLES);
    const { id } = c.req.valid("param");
    const row = isId("approval", id)
      ? await getApproval(c.var.db, principal.tenantId, id)
      : undefined;
    if (!row) throw new ApiError("not_found", `no approval ${id}`);
    return c.json(approvalView(row), 200);
  },
);

for (const decision of ["approve", "deny"] as const) {
  approvalRoutes.openapi(
    createRoute({
      method: "post",
      path: `/v1/approvals/{id}/${decision}`,
      tags: ["approvals"],
      summary:
        decision === "approve"
          ? "Approve a parked call: it runs exactly once"
          : "Deny a parked call: it fails with the reason",
      security: BEARER,
      request: {
        params: IdParam,
        body: { content: { "application/json": { schema: DecisionBodySchema } }, required: false },
      },
      responses: {
        200: json(ApprovalSchema, "The decided approval"),
        ...problems(400, 401, 403, 404, 409, 415, 422),
      },
    }),
    async (c) => {
      const principal = requireTenantKey(c.var.principal, WRITE_ROLES);
      const { id } = c.req.valid("param");
      const body = c.req.valid("json") as z.infer<typeof DecisionBodySchema>;
      c.var.audit.target = id;
      const view = await decideApproval(
        c.env,
        c.var.db,
        principal.tenantId,
        id,
        decision,
        body.reason ?? null,
        principal.actor,
      );
      c.var.audit.detail = {
        capability: view.capability,
        processId: view.processId,
        reason: view.reason,
      };
      return c.json(view, 200);
    },
  );
}
