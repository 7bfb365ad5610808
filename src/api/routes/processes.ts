/**
 * Process routes: spawn, list, inspect and signal agent processes. The Durable Object of each
 * process is the authority; the D1 index serves listing only.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { isId } from "../../kernel/ids.js";
import type { ProcessRecord } from "../../kernel/process/record.js";
import { type ProcessSignal, processStub } from "../../objects/agent-process.js";
import { spawnProcess } from "../../objects/spawn.js";
import { decodeCursor, encodeCursor } from "../../store/cursor.js";
import { labelsOf, listProcessIndex } from "../../store/process-index.js";
import { READ_ROLES, requireProcessAccess, requireTenantKey, WRITE_ROLES } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError, fieldError } from "../problem.js";
import {
  EventPageSchema,
  PageQuerySchema,
  ProcessListQuerySchema,
  ProcessPageSchema,
  ProcessSchema,
  ReasonBodySchema,
  SpawnRequestSchema,
} from "../schemas.js";

export const IDEMPOTENCY_HEADER = "idempotency-key";
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const IdParam = z.object({
  id: z.string().meta({ param: { name: "id", in: "path" }, example: "proc_0193…" }),
});

export const processRoutes = new OpenAPIHono<AppEnv>();

function stubFor(c: Context<AppEnv>, id: string) {
  return processStub(c.env, id);
}

/** Loads a process visible to `tenantId` or answers 404 (malformed, missing or foreign alike). */
async function loadProcess(
  c: Context<AppEnv>,
  tenantId: string,
  id: string,
): Promise<ProcessRecord> {
  const record = isId("process", id) ? await stubFor(c, id).get(tenantId) : null;
  if (!record) throw new ApiError("not_found", `no process ${id}`);
  return record;
}

// ---------------------------------------------------------------------------------------------
// POST /v1/processes

const spawnRoute = createRoute({
  method: "post",
  path: "/v1/processes",
  tags: ["processes"],
  summary: "Spawn an agent process",
  description:
    "Honours an `Idempotency-Key` header: a replay with the same body returns the same process (with `Idempotent-Replayed: true`) and creates nothing.",
  security: BEARER,
  request: {
    headers: z.object({ [IDEMPOTENCY_HEADER]: z.string().optional() }),
    body: { content: { "application/json": { schema: SpawnRequestSchema } }, required: true },
  },
  responses: {
    201: json(ProcessSchema, "The new (or replayed) process"),
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

processRoutes.openapi(spawnRoute, async (c) => {
  const principal = requireTenantKey(c.var.principal, WRITE_ROLES);
  const body = c.req.valid("json");
  const idempotencyKey = c.req.header(IDEMPOTENCY_HEADER);
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new ApiError(
      "validation_failed",
      "Idempotency-Key must be 1 to 255 printable ASCII characters",
      {
        errors: [
          {
            path: "Idempotency-Key",
            message: "1 to 255 printable ASCII characters",
            code: "invalid_format",
          },
        ],
        extra: { in: "header" },
      },
    );
  }
  const { record, replayed } = await spawnProcess(c.env, c.var.db, {
    tenantId: principal.tenantId,
    actor: principal.actor,
    type: body.type,
    version: body.version,
    goal: body.goal,
    priority: body.priority,
    labels: body.labels,
    parentId: body.parentId,
    budget: body.budget,
    capabilities: body.capabilities,
    script: body.script,
    paused: body.paused,
    idempotency:
      idempotencyKey === undefined ? undefined : { scope: "process.spawn", key: idempotencyKey },
  });
  c.var.audit.target = record.id;
  c.var.audit.detail = { type: `${record.type.name}@${record.type.version}`, replayed };
  c.header("location", `/v1/processes/${record.id}`);
  if (replayed) c.header("idempotent-replayed", "true");
  return c.json(record, 201);
});

// ---------------------------------------------------------------------------------------------
// GET /v1/processes

const listRoute = createRoute({
  method: "get",
  path: "/v1/processes",
  tags: ["processes"],
  summary: "List processes, newest first",
  security: BEARER,
  request: { query: ProcessListQuerySchema },
  responses: { 200: json(ProcessPageSchema, "One page of processes"), ...problems(401, 403, 422) },
});

processRoutes.openapi(listRoute, async (c) => {
  const principal = requireTenantKey(c.var.principal, READ_ROLES);
  const q = c.req.valid("query");
  const labelParams = q.label === undefined ? [] : Array.isArray(q.label) ? q.label : [q.label];
  const labels = labelParams.map((raw, i) => {
    const eq = raw.indexOf("=");
    if (eq <= 0)
      throw fieldError(
        labelParams.length > 1 ? `label[${i}]` : "label",
        "expected key=value",
        "invalid_format",
      );
    return { key: raw.slice(0, eq), value: raw.slice(eq + 1) };
  });
  const beforeId = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
  if (beforeId === null)
    throw fieldError("cursor", "not a cursor issued by this API", "invalid_cursor");
  const rows = await listProcessIndex(c.var.db, {
    tenantId: principal.tenantId,
    status: q.status,
    typeName: q.type,
    labels,
    beforeId,
    limit: q.limit,
  });
  const page = rows.slice(0, q.limit);
  const labelMap = await labelsOf(
    c.var.db,
    page.map((r) => r.id),
  );
  const last = page[page.length - 1];
  return c.json(
    {
      items: page.map((r) => ({
        id: r.id,
        type: { name: r.typeName, version: r.typeVersion },
        status: r.status as ProcessRecord["status"],
        priority: r.priority,
        labels: labelMap.get(r.id) ?? {},
        parentId: r.parentId,
        createdAt: new Date(r.createdAtMs).toISOString(),
        updatedAt: new Date(r.updatedAtMs).toISOString(),
      })),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.id) : null,
    },
    200,
  );
});

// ---------------------------------------------------------------------------------------------
// GET /v1/processes/{id}, GET /v1/processes/{id}/events

const getRoute = createRoute({
  method: "get",
  path: "/v1/processes/{id}",
  tags: ["processes"],
  summary: "Get a process",
  security: BEARER,
  request: { params: IdParam },
  responses: { 200: json(ProcessSchema, "The process"), ...problems(401, 403, 404) },
});

processRoutes.openapi(getRoute, async (c) => {
  const { id } = c.req.valid("param");
  const principal = requireProcessAccess(c.var.principal, id, READ_ROLES, false);
  return c.json(await loadProcess(c, principal.tenantId, id), 200);
});

const eventsRoute = createRoute({
  method: "get",
  path: "/v1/processes/{id}/events",
  tags: ["processes"],
  summary: "A process's event log, oldest first",
  security: BEARER,
  request: { params: IdParam, query: PageQuerySchema },
  responses: { 200: json(EventPageSchema, "One page of events"), ...problems(401, 403, 404, 422) },
});

processRoutes.openapi(eventsRoute, async (c) => {
  const { id } = c.req.valid("param");
  const q = c.req.valid("query");
  const principal = requireProcessAccess(c.var.principal, id, READ_ROLES, false);
  const after = q.cursor === undefined ? "0" : decodeCursor(q.cursor);
  if (after === null || !/^\d{1,15}$/.test(after)) {
    throw fieldError("cursor", "not a cursor issued by this API", "invalid_cursor");
  }
  const page = isId("process", id)
    ? await stubFor(c, id).events(principal.tenantId, Number(after), q.limit)
    : null;
  if (!page) throw new ApiError("not_found", `no process ${id}`);
  return c.json(
    {
      items: page.events,
      nextCursor: page.nextAfterSeq === null ? null : encodeCursor(String(page.nextAfterSeq)),
    },
    200,
  );
});

// ---------------------------------------------------------------------------------------------
// POST /v1/processes/{id}/pause | resume | terminate

const SIGNAL_SUMMARIES: Record<ProcessSignal, string> = {
  pause: "Pause a live process; resume returns it to the state it left",
  resume: "Resume a paused process",
  terminate: "Terminate a process (idempotent: an ended process is returned unchanged)",
};

for (const signal of ["pause", "resume", "terminate"] as const) {
  const route = createRoute({
    method: "post",
    path: `/v1/processes/{id}/${signal}`,
    tags: ["processes"],
    summary: SIGNAL_SUMMARIES[signal],
    security: BEARER,
    request: {
      params: IdParam,
      body: { content: { "application/json": { schema: ReasonBodySchema } }, required: false },
    },
    responses: {
      200: json(ProcessSchema, "The process after the signal"),
      ...problems(400, 401, 403, 404, 409, 413, 415, 422),
    },
  });
  processRoutes.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json") as z.infer<typeof ReasonBodySchema>;
    const principal = requireProcessAccess(c.var.principal, id, WRITE_ROLES, true);
    c.var.audit.target = id;
    if (!isId("process", id)) throw new ApiError("not_found", `no process ${id}`);
    const result = await stubFor(c, id).signal(
      principal.tenantId,
      signal,
      body.reason ?? null,
      principal.actor,
    );
    if (!result.ok) {
      if (result.code === "not_found") throw new ApiError("not_found", `no process ${id}`);
      throw new ApiError("illegal_transition", result.detail, {
        extra: { state: result.state, signal },
      });
    }
    c.var.audit.detail = {
      status: result.record.status,
      changed: result.changed,
      reason: body.reason ?? null,
    };
    return c.json(result.record, 200);
  });
}
