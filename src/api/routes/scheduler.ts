/**
 * Scheduler pools: what each pool runs (policy, capacity, admission caps) and how it is doing
 * (queue length, leases in flight, backoff, recent grants). Pools are shared by all tenants,
 * so changing one is the system administrator's call.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { PoolConfigPatchSchema } from "../../kernel/scheduler/pool-config.js";
import { PoolNameSchema } from "../../objects/pools.js";
import { schedulerStub } from "../../objects/scheduler.js";
import { listPoolNames } from "../../store/pools.js";
import { principalOf, READ_ROLES, requireTenantKey } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError } from "../problem.js";

export const schedulerRoutes = new OpenAPIHono<AppEnv>();

/** Pools listed at most; each answers from its own object, so this bounds the fan-out. */
export const MAX_LISTED_POOLS = 50;

const PoolSchema = z.record(z.string(), z.unknown()).meta({ id: "SchedulerPool" });
const PoolListSchema = z.object({ items: z.array(PoolSchema) }).meta({ id: "SchedulerPoolList" });
const PoolParam = z.object({
  pool: z.string().meta({ param: { name: "pool", in: "path" }, example: "scripted" }),
});

const listRoute = createRoute({
  method: "get",
  path: "/v1/scheduler/pools",
  tags: ["scheduler"],
  summary: "Model pools: policy, capacity, queue length, leases in flight, recent grants",
  security: BEARER,
  responses: { 200: json(PoolListSchema, "Every pool in use"), ...problems(401, 403) },
});

schedulerRoutes.openapi(listRoute, async (c) => {
  const principal = principalOf(c.var.principal);
  if (principal.kind !== "system") requireTenantKey(principal, READ_ROLES);
  const names = await listPoolNames(c.var.db, MAX_LISTED_POOLS);
  const items = await Promise.all(names.map((pool) => schedulerStub(c.env, pool).stats(pool)));
  return c.json({ items: items as unknown as Array<Record<string, unknown>> }, 200);
});

const putRoute = createRoute({
  method: "put",
  path: "/v1/scheduler/pools/{pool}",
  tags: ["scheduler"],
  summary: "Change a pool's policy, capacity or admission caps at run time (system administrator)",
  description:
    "Queued requests move to the new policy in arrival order; capacity changes apply to the next grant.",
  security: BEARER,
  request: {
    params: PoolParam,
    body: { content: { "application/json": { schema: PoolConfigPatchSchema } }, required: true },
  },
  responses: {
    200: json(PoolSchema, "The pool after the change"),
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

schedulerRoutes.openapi(putRoute, async (c) => {
  const { pool } = c.req.valid("param");
  c.var.audit.target = pool;
  if (principalOf(c.var.principal).kind !== "system") {
    throw new ApiError(
      "forbidden",
      "pools are shared by all tenants: only the system administrator changes them",
    );
  }
  if (!PoolNameSchema.safeParse(pool).success) {
    throw new ApiError("validation_failed", "pool: not a pool name", {
      errors: [{ path: "pool", message: "a model id such as `scripted`", code: "invalid_format" }],
      extra: { in: "param" },
    });
  }
  const patch = c.req.valid("json");
  const stats = await schedulerStub(c.env, pool).configure(pool, patch);
  c.var.audit.detail = { patch };
  return c.json(stats as unknown as Record<string, unknown>, 200);
});
