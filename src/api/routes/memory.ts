/**
 * Memory routes: a process's long-term memory (its agent type's, in its tenant) under
 * `/v1/processes/{id}/workspace/memory`, and the tenant-wide operator view `/v1/memories`.
 * Thin adapters over src/objects/memory-calls.ts, which the MCP tools call too.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  deleteMemoryAs,
  listTenantMemories,
  searchMemoryAs,
  writeMemoryAs,
} from "../../objects/memory-calls.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import {
  MemoryHitListSchema,
  MemorySchema,
  MemorySearchQuerySchema,
  MemoryWriteRequestSchema,
  TenantMemoryListSchema,
  TenantMemoryQuerySchema,
} from "../schemas-memory.js";

const IdParam = z.object({
  id: z.string().meta({ param: { name: "id", in: "path" }, example: "proc_0193…" }),
});
const MemoryIdParam = IdParam.extend({
  memoryId: z.string().meta({ param: { name: "memoryId", in: "path" }, example: "mem_0193…" }),
});

export const memoryRoutes = new OpenAPIHono<AppEnv>();

const writeRoute = createRoute({
  method: "post",
  path: "/v1/processes/{id}/workspace/memory",
  tags: ["memory"],
  summary: "Write a long-term memory as this process, for its agent type",
  security: BEARER,
  request: {
    params: IdParam,
    body: { content: { "application/json": { schema: MemoryWriteRequestSchema } }, required: true },
  },
  responses: {
    201: json(MemorySchema, "The memory, with its provenance"),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

memoryRoutes.openapi(writeRoute, async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  c.var.audit.target = id;
  const memory = await writeMemoryAs(c.env, c.var.db, c.var.principal, { id, ...body });
  c.var.audit.detail = { memoryId: memory.id, agentType: memory.provenance.agentType };
  return c.json(memory, 201);
});

const searchRoute = createRoute({
  method: "get",
  path: "/v1/processes/{id}/workspace/memory",
  tags: ["memory"],
  summary: "Search this process's agent type's long-term memory, best match first (bm25)",
  description:
    "`q` is plain text: its words are searched (any of them; documents matching more and rarer words rank first). FTS syntax in it is not interpreted. A `q` with no word is 422.",
  security: BEARER,
  request: { params: IdParam, query: MemorySearchQuerySchema },
  responses: {
    200: json(MemoryHitListSchema, "The matches, with provenance"),
    ...problems(401, 403, 404, 422),
  },
});

memoryRoutes.openapi(searchRoute, async (c) => {
  const { id } = c.req.valid("param");
  const q = c.req.valid("query");
  return c.json(await searchMemoryAs(c.env, c.var.db, c.var.principal, { id, ...q }), 200);
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/v1/processes/{id}/workspace/memory/{memoryId}",
  tags: ["memory"],
  summary: "Delete one memory of this process's agent type",
  security: BEARER,
  request: { params: MemoryIdParam },
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404) },
});

memoryRoutes.openapi(deleteRoute, async (c) => {
  const { id, memoryId } = c.req.valid("param");
  c.var.audit.target = memoryId;
  c.var.audit.detail = { processId: id };
  await deleteMemoryAs(c.env, c.var.db, c.var.principal, { id, memoryId });
  return c.body(null, 204);
});

const tenantRoute = createRoute({
  method: "get",
  path: "/v1/memories",
  tags: ["memory"],
  summary: "The tenant's long-term memories across agent types (search with q, else newest first)",
  security: BEARER,
  request: { query: TenantMemoryQuerySchema },
  responses: {
    200: json(TenantMemoryListSchema, "The memories, with provenance"),
    ...problems(401, 403, 422),
  },
});

memoryRoutes.openapi(tenantRoute, async (c) => {
  const q = c.req.valid("query");
  return c.json(await listTenantMemories(c.env, c.var.db, c.var.principal, q), 200);
});
