/**
 * DELETE /v1/processes/{id}: purge an ended process — its object's storage, its workspace
 * blobs, its `with_process` artifacts and its index rows (`keep` artifacts stay). A live
 * process is 409: terminate it first. Afterwards the process answers 404.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { purgeProcessAs } from "../../objects/purge-calls.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { PurgedSchema } from "../schemas-board.js";

export const purgeRoutes = new OpenAPIHono<AppEnv>();

const purgeRoute = createRoute({
  method: "delete",
  path: "/v1/processes/{id}",
  tags: ["processes"],
  summary: "Purge an ended process and what it leaves behind",
  description:
    "Deletes the process's storage (record, event log, conversation, workspace), its workspace blobs in R2 and its artifacts with retention `with_process`; artifacts with retention `keep` stay. A live process is 409 `illegal_transition`. Safe to repeat after a failure.",
  security: BEARER,
  request: {
    params: z.object({
      id: z.string().meta({ param: { name: "id", in: "path" }, example: "proc_0193…" }),
    }),
  },
  responses: {
    200: json(PurgedSchema, "The process is purged"),
    ...problems(401, 403, 404, 409),
  },
});

purgeRoutes.openapi(purgeRoute, async (c) => {
  const { id } = c.req.valid("param");
  c.var.audit.target = id;
  const out = await purgeProcessAs(c.env, c.var.db, c.var.principal, { id });
  c.var.audit.detail = {
    artifactsDeleted: out.artifactsDeleted,
    artifactsKept: out.artifactsKept,
    workspaceBlobsDeleted: out.workspaceBlobsDeleted,
  };
  return c.json(out, 200);
});
