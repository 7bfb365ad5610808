/** Liveness: answers without touching storage, so it says the Worker runs, nothing more. */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context.js";
import { json } from "../openapi.js";

export const healthRoutes = new OpenAPIHono<AppEnv>();

const route = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["health"],
  summary: "Liveness check",
  responses: {
    200: json(z.object({ ok: z.literal(true) }).meta({ id: "Health" }), "The Worker is up"),
  },
});

healthRoutes.openapi(route, (c) => c.json({ ok: true as const }, 200));
