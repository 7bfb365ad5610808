/**
 * Workload profiles over HTTPS: a node's (`/v1/fleet/nodes/{id}/profile`) or a label group's
 * (`/v1/fleet/profile?label=k=v&role=…`) recent telemetry, classified with the evidence and the
 * thresholds it was held to, and the policies the tenant's repository recommends for it with
 * the reasons. Thin adapters over src/schedcp/profile-calls.ts.
 */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { labelSelector } from "../../schedcp/fleet-calls.js";
import { groupProfileAs, nodeProfileAs } from "../../schedcp/profile-calls.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { fieldError } from "../problem.js";
import { NodeIdParam } from "../schemas-fleet.js";
import {
  GroupProfileQuerySchema,
  GroupProfileSchema,
  NodeProfileQuerySchema,
  NodeProfileSchema,
} from "../schemas-profile.js";

export const fleetProfileRoutes = new OpenAPIHono<AppEnv>();

const CLASSES =
  "Classes: `cpu-bound-batch`, `latency-sensitive`, `mixed`, `io-bound`, `idle`; `class` is null (with a summary saying why) when the window holds no CPU utilisation, e.g. before a node's first report. Every signal lists the named thresholds it was compared with.";

const nodeRoute = createRoute({
  method: "get",
  path: "/v1/fleet/nodes/{id}/profile",
  tags: ["fleet"],
  summary: "A node's workload profile from its newest telemetry, with recommended policies",
  description: CLASSES,
  security: BEARER,
  request: { params: NodeIdParam, query: NodeProfileQuerySchema },
  responses: {
    200: json(NodeProfileSchema, "The profile"),
    ...problems(401, 403, 404, 422),
  },
});

fleetProfileRoutes.openapi(nodeRoute, async (c) => {
  const { id } = c.req.valid("param");
  const { reports } = c.req.valid("query");
  return c.json(await nodeProfileAs(c.env, c.var.db, c.var.principal, { id, reports }), 200);
});

const groupRoute = createRoute({
  method: "get",
  path: "/v1/fleet/profile",
  tags: ["fleet"],
  summary: "A label group's workload profile: each node classified, and the group's class",
  description: `The group is every enrolled node (revoked ones left out) carrying every \`label\` given and, with \`role\`, of that role; at most 100 nodes (422 \`too_many_nodes\` beyond). The group's class is the one held by at least two thirds of its busy CPUs, else \`mixed\`. ${CLASSES}`,
  security: BEARER,
  request: { query: GroupProfileQuerySchema },
  responses: {
    200: json(GroupProfileSchema, "The profile"),
    ...problems(401, 403, 422),
  },
});

fleetProfileRoutes.openapi(groupRoute, async (c) => {
  const q = c.req.valid("query");
  const labels = labelSelector(q.label);
  if (labels === null) {
    throw fieldError("label", "a label is given twice with two values", "conflicting_label");
  }
  const selector = {
    labels,
    ...(q.role === undefined ? {} : { role: q.role }),
  };
  return c.json(
    await groupProfileAs(c.env, c.var.db, c.var.principal, { selector, reports: q.reports }),
    200,
  );
});
