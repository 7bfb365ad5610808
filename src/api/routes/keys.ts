/**
 * API keys: created by the system administrator (for any tenant) or a tenant admin (for its
 * own), shown once, listed without their secret, revoked with effect on the next request.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { isId } from "../../kernel/ids.js";
import { processStub } from "../../objects/agent-process.js";
import {
  type ApiKeyRow,
  createApiKey,
  findKey,
  listApiKeys,
  revokeApiKey,
} from "../../store/api-keys.js";
import { findTenant } from "../../store/tenants.js";
import { requireKeyManager } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { cursorKey, pageOf } from "../pagination.js";
import { ApiError, fieldError } from "../problem.js";
import {
  ApiKeySchema,
  CreatedKeySchema,
  CreateKeySchema,
  KeyListQuerySchema,
  KeyPageSchema,
} from "../schemas.js";

export const keyRoutes = new OpenAPIHono<AppEnv>();

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function view(row: ApiKeyRow) {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    role: row.role,
    processId: row.processId,
    prefix: row.prefix,
    createdAt: new Date(row.createdAtMs).toISOString(),
    expiresAt: iso(row.expiresAtMs),
    revokedAt: iso(row.revokedAtMs),
  };
}

const createKeyRoute = createRoute({
  method: "post",
  path: "/v1/keys",
  tags: ["tenants and keys"],
  summary: "Create an API key; the secret is in this response only",
  security: BEARER,
  request: {
    body: { content: { "application/json": { schema: CreateKeySchema } }, required: true },
  },
  responses: {
    201: json(CreatedKeySchema, "The key and its secret"),
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

keyRoutes.openapi(createKeyRoute, async (c) => {
  const body = c.req.valid("json");
  const { tenantId, principal } = requireKeyManager(c.var.principal, body.tenantId);
  if (!tenantId) throw fieldError("tenantId", "required for the system administrator", "required");
  const tenant = await findTenant(c.var.db, tenantId);
  if (!tenant) throw fieldError("tenantId", `no tenant ${tenantId}`, "unknown_tenant");
  c.var.audit.tenantId = tenantId;
  if (body.processId) {
    const record = isId("process", body.processId)
      ? await processStub(c.env, body.processId).get(tenantId)
      : null;
    if (!record)
      throw fieldError(
        "processId",
        `no process ${body.processId} in this tenant`,
        "unknown_process",
      );
  }
  const nowMs = Date.now();
  const { row, secret } = await createApiKey(
    c.var.db,
    {
      tenantId,
      name: body.name,
      role: body.role,
      processId: body.processId ?? null,
      createdBy: principal.actor,
      expiresAtMs: body.expiresInSeconds ? nowMs + body.expiresInSeconds * 1000 : null,
    },
    nowMs,
  );
  c.var.audit.target = row.id;
  c.var.audit.detail = { role: row.role, processId: row.processId };
  return c.json({ ...view(row), secret }, 201);
});

const listKeysRoute = createRoute({
  method: "get",
  path: "/v1/keys",
  tags: ["tenants and keys"],
  summary: "List a tenant's keys, newest first (secrets are never shown again)",
  security: BEARER,
  request: { query: KeyListQuerySchema },
  responses: { 200: json(KeyPageSchema, "One page of keys"), ...problems(401, 403, 422) },
});

keyRoutes.openapi(listKeysRoute, async (c) => {
  const q = c.req.valid("query");
  const { tenantId } = requireKeyManager(c.var.principal, q.tenantId);
  if (!tenantId) throw fieldError("tenantId", "required for the system administrator", "required");
  const rows = await listApiKeys(c.var.db, tenantId, cursorKey(q.cursor), q.limit);
  const { page, nextCursor } = pageOf(rows, q.limit, (r) => r.id);
  return c.json({ items: page.map(view), nextCursor }, 200);
});

const revokeRoute = createRoute({
  method: "delete",
  path: "/v1/keys/{id}",
  tags: ["tenants and keys"],
  summary: "Revoke a key (idempotent); it fails from the next request on",
  security: BEARER,
  request: { params: z.object({ id: z.string().meta({ param: { name: "id", in: "path" } }) }) },
  responses: { 200: json(ApiKeySchema, "The revoked key"), ...problems(401, 403, 404) },
});

keyRoutes.openapi(revokeRoute, async (c) => {
  const { id } = c.req.valid("param");
  const principal = c.var.principal;
  c.var.audit.target = id;
  // The system administrator may revoke any key; a tenant admin only its tenant's.
  const scope =
    principal?.kind === "system" ? undefined : requireKeyManager(principal, undefined).tenantId;
  const row = isId("key", id) ? await findKey(c.var.db, id, scope) : undefined;
  if (!row) throw new ApiError("not_found", `no key ${id}`);
  c.var.audit.tenantId = row.tenantId;
  const nowMs = Date.now();
  await revokeApiKey(c.var.db, row.id, nowMs);
  return c.json(view({ ...row, revokedAtMs: row.revokedAtMs ?? nowMs }), 200);
});
