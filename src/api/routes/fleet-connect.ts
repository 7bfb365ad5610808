/**
 * The WebSocket every node keeps open to the control plane (node credential): authenticated
 * here, then handed to the tenant's Fleet object with the node's identity. Registered by fleet.ts.
 */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { fleetStub } from "../../objects/fleet.js";
import type { AppEnv } from "../context.js";
import { problems } from "../openapi.js";
import { ApiError } from "../problem.js";
import { NODE_CREDENTIAL, nodeIdentity, requireNodeCredential } from "./fleet-auth.js";

export const fleetConnectRoutes = new OpenAPIHono<AppEnv>();

// ---------------------------------------------------------------------------------------------
// GET /v1/fleet/connect

const connectRoute = createRoute({
  method: "get",
  path: "/v1/fleet/connect",
  tags: ["fleet"],
  summary: "A node's WebSocket to the control plane (node credential, `Upgrade: websocket`)",
  description:
    "JSON text frames of the fleet protocol (src/schedcp/protocol): the node sends `hello` first and gets `welcome`; then heartbeats, telemetry, acks, deploy-status and verify-result go up, commands come down. A second connection of the same node replaces the first. Close codes 4400 bad frame, 4401 revoked, 4403 forbidden, 4408 heartbeat timeout, 4409 replaced, 4413 frame too large, 4415 binary frame.",
  security: NODE_CREDENTIAL,
  responses: {
    101: { description: "Switching protocols: the WebSocket is open" },
    ...problems(401, 426),
  },
});

fleetConnectRoutes.openapi(connectRoute, async (c) => {
  const node = await requireNodeCredential(c);
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("upgrade_required", "expected a WebSocket upgrade (Upgrade: websocket)");
  }
  const headers = new Headers(c.req.raw.headers);
  headers.delete("authorization");
  headers.set(...nodeIdentity(node));
  const res = await fleetStub(c.env, node.tenantId).fetch(
    new Request(c.req.raw.url, { method: "GET", headers }),
  );
  if (res.status === 401)
    throw new ApiError("credential_revoked", "this node's credential was revoked");
  return res as never;
});
