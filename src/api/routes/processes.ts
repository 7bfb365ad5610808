/**
 * Process routes: spawn, list, inspect and signal agent processes. The Durable Object of each
 * process is the authority; the D1 index serves listing only.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { ProcessSignal } from "../../objects/agent-process.js";
import {
  getProcess,
  IDEMPOTENCY_KEY_PATTERN,
  listProcessEvents,
  listProcesses,
  signalProcess,
  spawnAs,
} from "../../objects/process-calls.js";
import { READ_ROLES, requireActor, requireTenantKey, WRITE_ROLES } from "../authorize.js";
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

const IdParam = z.object({
  id: z.string().meta({ param: { name: "id", in: "path" }, example: "proc_0193…" }),
});

export const processRoutes = new OpenAPIHono<AppEnv>();

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
  // Refuse the caller before judging its header, as the route always has; spawnAs checks again.
  requireActor(c.var.principal, WRITE_ROLES);
  const body = c.req.valid("json");
  const idempotencyKey = c.req.header(IDEMPOTENCY_HEADER);
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
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
  const { record, replayed } = await spawnAs(c.env, c.var.db, c.var.principal, {
    ...body,
    idempotencyKey,
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
  // Refuse the caller before judging its query, as the route always has; listProcesses checks again.
  requireTenantKey(c.var.principal, READ_ROLES);
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
  const page = await listProcesses(c.env, c.var.db, c.var.principal, {
    status: q.status,
    type: q.type,
    labels,
    limit: q.limit,
    cursor: q.cursor,
  });
  return c.json(page, 200);
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
  return c.json(await getProcess(c.env, c.var.db, c.var.principal, { id }), 200);
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
  const page = await listProcessEvents(c.env, c.var.db, c.var.principal, {
    id,
    limit: q.limit,
    cursor: q.cursor,
  });
  return c.json(page, 200);
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
    c.var.audit.target = id;
    const { record, changed } = await signalProcess(c.env, c.var.db, c.var.principal, {
      id,
      signal,
      reason: body.reason,
    });
    c.var.audit.detail = { status: record.status, changed, reason: body.reason ?? null };
    return c.json(record, 200);
  });
}
