/**
 * The node registry as a tenant key sees it: the nodes by filter, one node with its telemetry
 * and deploy history, revocation, and commands an operator sends by hand. Registered by fleet.ts.
 */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { fleetStub } from "../../objects/fleet.js";
import {
  detailOf,
  getNodeAs,
  labelSelector,
  listNodesAs,
  nodeEventsAs,
  nodeOr404,
  nodeTelemetryAs,
} from "../../schedcp/fleet-calls.js";
import { revokeNode } from "../../store/fleet.js";
import { requireTenantKey, WRITE_ROLES } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError, fieldError } from "../problem.js";
import { PageQuerySchema } from "../schemas.js";
import {
  DeployEventPageSchema,
  FleetCommandReplySchema,
  FleetCommandRequestSchema,
  NodeDetailSchema,
  NodeIdParam,
  NodeListQuerySchema,
  NodePageSchema,
  TelemetryPageSchema,
} from "../schemas-fleet.js";

export const fleetNodeRoutes = new OpenAPIHono<AppEnv>();

// ---------------------------------------------------------------------------------------------
// GET /v1/fleet/nodes

const listRoute = createRoute({
  method: "get",
  path: "/v1/fleet/nodes",
  tags: ["fleet"],
  summary: "List the tenant's nodes by id (filters: label, role, status)",
  security: BEARER,
  request: { query: NodeListQuerySchema },
  responses: { 200: json(NodePageSchema, "One page of nodes"), ...problems(401, 403, 422) },
});

fleetNodeRoutes.openapi(listRoute, async (c) => {
  const q = c.req.valid("query");
  const page = await listNodesAs(c.env, c.var.db, c.var.principal, {
    labels: labelSelector(q.label),
    role: q.role,
    status: q.status,
    includeRevoked: q.revoked === "include",
    limit: q.limit,
    cursor: q.cursor,
  });
  return c.json(page, 200);
});

// ---------------------------------------------------------------------------------------------
// GET /v1/fleet/nodes/{id} and its telemetry and events

const getRoute = createRoute({
  method: "get",
  path: "/v1/fleet/nodes/{id}",
  tags: ["fleet"],
  summary: "A node: facts, status, what runs, last telemetry",
  security: BEARER,
  request: { params: NodeIdParam },
  responses: { 200: json(NodeDetailSchema, "The node"), ...problems(401, 403, 404) },
});

fleetNodeRoutes.openapi(getRoute, async (c) => {
  return c.json(await getNodeAs(c.env, c.var.db, c.var.principal, c.req.valid("param")), 200);
});

const telemetryRoute = createRoute({
  method: "get",
  path: "/v1/fleet/nodes/{id}/telemetry",
  tags: ["fleet"],
  summary: "A node's recent telemetry reports, newest first (the last 120 are kept)",
  security: BEARER,
  request: { params: NodeIdParam, query: PageQuerySchema },
  responses: {
    200: json(TelemetryPageSchema, "One page of reports"),
    ...problems(401, 403, 404, 422),
  },
});

fleetNodeRoutes.openapi(telemetryRoute, async (c) => {
  const { id } = c.req.valid("param");
  return c.json(
    await nodeTelemetryAs(c.env, c.var.db, c.var.principal, { id, ...c.req.valid("query") }),
    200,
  );
});

const eventsRoute = createRoute({
  method: "get",
  path: "/v1/fleet/nodes/{id}/events",
  tags: ["fleet"],
  summary: "A node's deploy transitions, newest first",
  security: BEARER,
  request: { params: NodeIdParam, query: PageQuerySchema },
  responses: {
    200: json(DeployEventPageSchema, "One page of transitions"),
    ...problems(401, 403, 404, 422),
  },
});

fleetNodeRoutes.openapi(eventsRoute, async (c) => {
  const { id } = c.req.valid("param");
  return c.json(
    await nodeEventsAs(c.env, c.var.db, c.var.principal, { id, ...c.req.valid("query") }),
    200,
  );
});

// ---------------------------------------------------------------------------------------------
// DELETE /v1/fleet/nodes/{id}

const revokeRoute = createRoute({
  method: "delete",
  path: "/v1/fleet/nodes/{id}",
  tags: ["fleet"],
  summary: "Revoke a node's credential at once and close its connection (idempotent)",
  security: BEARER,
  request: { params: NodeIdParam },
  responses: { 200: json(NodeDetailSchema, "The revoked node"), ...problems(401, 403, 404) },
});

fleetNodeRoutes.openapi(revokeRoute, async (c) => {
  const principal = requireTenantKey(c.var.principal, WRITE_ROLES);
  const { id } = c.req.valid("param");
  c.var.audit.target = id;
  await nodeOr404(c.var.db, principal.tenantId, id);
  // D1 first, so a reconnect fails authentication; then the object, which closes the socket
  // and refuses a connect that passed authentication just before.
  const row = await revokeNode(c.var.db, principal.tenantId, id, Date.now());
  if (!row) throw new ApiError("not_found", `no node ${id}`);
  const { closed } = await fleetStub(c.env, row.tenantId).revoke(
    row.tenantId,
    id,
    row.credentialId,
  );
  c.var.audit.detail = { credentialId: row.credentialId, socketsClosed: closed };
  return c.json(detailOf(row, null), 200);
});

// ---------------------------------------------------------------------------------------------
// POST /v1/fleet/commands

const commandRoute = createRoute({
  method: "post",
  path: "/v1/fleet/commands",
  tags: ["fleet"],
  summary: "Send a revert to nodes (by id or label selector) and wait for their acks",
  description:
    "Assignments are not sent here: they go out through rollouts, signed by the control plane. Nodes without a connection are reported `offline` at once; the rest answer `acked`, `failed` or `timed_out`.",
  security: BEARER,
  request: {
    body: {
      content: { "application/json": { schema: FleetCommandRequestSchema } },
      required: true,
    },
  },
  responses: {
    200: json(FleetCommandReplySchema, "Each node's outcome"),
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

fleetNodeRoutes.openapi(commandRoute, async (c) => {
  const principal = requireTenantKey(c.var.principal, WRITE_ROLES);
  const body = c.req.valid("json");
  const reply = await fleetStub(c.env, principal.tenantId).sendCommand(
    principal.tenantId,
    body.target,
    body.command,
    { timeoutMs: body.timeoutMs },
  );
  if (!reply.ok) throw fieldError("target", reply.message, reply.code);
  c.var.audit.target = reply.batchId;
  c.var.audit.detail = { op: body.command.op, counts: reply.counts };
  return c.json({ batchId: reply.batchId, results: reply.results, counts: reply.counts }, 200);
});
