/**
 * Rollouts over HTTPS: start one (a signed policy version to node ids or labels, canaries
 * first), list and read them, stop or roll one back. Thin adapters over
 * src/schedcp/rollout-calls.ts.
 */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import {
  listRolloutsAs,
  nodeHistoryAs,
  rollbackRolloutAs,
  rolloutStatusAs,
  startRolloutAs,
  stopRolloutAs,
} from "../../schedcp/rollout-calls.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { PageQuerySchema } from "../schemas.js";
import {
  NodeHistoryParam,
  RolloutCommandRequestSchema,
  RolloutCreateRequestSchema,
  RolloutIdParam,
  RolloutListQuerySchema,
  RolloutPageSchema,
  RolloutSchema,
} from "../schemas-rollouts.js";
import { HistoryPageSchema } from "../schemas-sched.js";

export const rolloutRoutes = new OpenAPIHono<AppEnv>();

const TAGS = ["rollouts"];

const createRouteDef = createRoute({
  method: "post",
  path: "/v1/rollouts",
  tags: TAGS,
  summary: "Roll a signed policy version out: canaries first, promoted when the guards hold",
  description:
    "The version must be `signed` (409 `version_not_signed` otherwise) and not quarantined for this tenant (409 `version_quarantined`). The target is `nodeIds` or `labels` (connected nodes of role node; 404 for an unknown node, 409 `nodes_unavailable` when one is offline or in another live rollout). `ceil(canaryFraction × n)` nodes get the signed assignment first; once all run it, the health window opens; at its end each must have reported fresh telemetry within its guards against its own baseline, and the rest get it. A regression, an ejection, a failed load or a lost node rolls every node back; a version that failed on `failureThreshold` distinct nodes is quarantined.",
  security: BEARER,
  request: {
    body: {
      content: { "application/json": { schema: RolloutCreateRequestSchema } },
      required: true,
    },
  },
  responses: {
    201: json(RolloutSchema, "The rollout, canaries assigned"),
    ...problems(400, 401, 403, 404, 409, 415, 422, 503),
  },
});

rolloutRoutes.openapi(createRouteDef, async (c) => {
  const body = c.req.valid("json");
  c.var.audit.target = body.policyId;
  const rollout = await startRolloutAs(c.env, c.var.db, c.var.principal, body);
  c.var.audit.target = rollout.rolloutId;
  c.var.audit.detail = {
    policyId: rollout.policyId,
    version: rollout.version,
    nodes: rollout.nodes.length,
  };
  return c.json(rollout, 201);
});

const listRoute = createRoute({
  method: "get",
  path: "/v1/rollouts",
  tags: TAGS,
  summary: "The tenant's rollouts, newest first",
  security: BEARER,
  request: { query: RolloutListQuerySchema },
  responses: { 200: json(RolloutPageSchema, "One page of rollouts"), ...problems(401, 403, 422) },
});

rolloutRoutes.openapi(listRoute, async (c) => {
  return c.json(await listRolloutsAs(c.env, c.var.db, c.var.principal, c.req.valid("query")), 200);
});

const getRoute = createRoute({
  method: "get",
  path: "/v1/rollouts/{id}",
  tags: TAGS,
  summary: "One rollout: its phase, each node's state, failures and the health window",
  security: BEARER,
  request: { params: RolloutIdParam },
  responses: { 200: json(RolloutSchema, "The rollout"), ...problems(401, 403, 404) },
});

rolloutRoutes.openapi(getRoute, async (c) => {
  return c.json(await rolloutStatusAs(c.env, c.var.db, c.var.principal, c.req.valid("param")), 200);
});

function commandRoute(op: "stop" | "rollback", summary: string) {
  return createRoute({
    method: "post",
    path: `/v1/rollouts/{id}/${op}`,
    tags: TAGS,
    summary,
    security: BEARER,
    request: {
      params: RolloutIdParam,
      body: {
        content: { "application/json": { schema: RolloutCommandRequestSchema } },
        required: false,
      },
    },
    responses: {
      200: json(RolloutSchema, "The rollout after the command"),
      ...problems(400, 401, 403, 404, 409, 415, 422),
    },
  });
}

rolloutRoutes.openapi(
  commandRoute("stop", "Stop promotion: running nodes keep the version, no other node gets it"),
  async (c) => {
    const { id } = c.req.valid("param");
    const body = (await c.req.text()) === "" ? {} : c.req.valid("json");
    c.var.audit.target = id;
    return c.json(
      await stopRolloutAs(c.env, c.var.db, c.var.principal, { id, reason: body.reason }),
      200,
    );
  },
);

rolloutRoutes.openapi(
  commandRoute("rollback", "Revert every node of the rollout (also after completion)"),
  async (c) => {
    const { id } = c.req.valid("param");
    const body = (await c.req.text()) === "" ? {} : c.req.valid("json");
    c.var.audit.target = id;
    return c.json(
      await rollbackRolloutAs(c.env, c.var.db, c.var.principal, { id, reason: body.reason }),
      200,
    );
  },
);

// ---------------------------------------------------------------------------------------------
// GET /v1/fleet/nodes/{id}/history

const nodeHistoryRoute = createRoute({
  method: "get",
  path: "/v1/fleet/nodes/{id}/history",
  tags: ["fleet", ...TAGS],
  summary: "A node's rollout transitions and performance records, every policy, newest first",
  security: BEARER,
  request: { params: NodeHistoryParam, query: PageQuerySchema },
  responses: {
    200: json(HistoryPageSchema, "One page of the node's history"),
    ...problems(401, 403, 404, 422),
  },
});

rolloutRoutes.openapi(nodeHistoryRoute, async (c) => {
  const { id } = c.req.valid("param");
  return c.json(
    await nodeHistoryAs(c.env, c.var.db, c.var.principal, { id, ...c.req.valid("query") }),
    200,
  );
});
