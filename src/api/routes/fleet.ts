/**
 * The fleet over HTTPS: enrollment tokens (tenant keys), enrollment (the token is the
 * credential), the WebSocket every node keeps open (node credential), the node registry, node
 * telemetry and deploy history, revocation, artifacts for nodes, the control plane's public key,
 * and commands an operator sends by hand.
 *
 * Node-credential routes (`/v1/fleet/connect`, `/v1/fleet/artifacts/*`) and the unauthenticated
 * ones (`/v1/fleet/enroll`, `/v1/fleet/signing-key`) are exempt from API-key authentication in
 * app.ts (`FLEET_NODE_PATHS`).
 */

import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context.js";
import { fleetArtifactRoutes } from "./fleet-artifacts.js";
import { fleetConnectRoutes } from "./fleet-connect.js";
import { fleetEnrollRoutes } from "./fleet-enroll.js";
import { fleetNodeRoutes } from "./fleet-nodes.js";
import { fleetSigningKeyRoutes } from "./fleet-signing-key.js";

/** Every fleet route; the order of the groups is the order of the OpenAPI document's paths. */
export const fleetRoutes = new OpenAPIHono<AppEnv>()
  .route("/", fleetEnrollRoutes)
  .route("/", fleetConnectRoutes)
  .route("/", fleetNodeRoutes)
  .route("/", fleetArtifactRoutes)
  .route("/", fleetSigningKeyRoutes);

/** Paths app.ts exempts from API-key authentication: they take a node credential, or none. */
export const FLEET_NODE_PATHS = [
  "/v1/fleet/enroll",
  "/v1/fleet/connect",
  "/v1/fleet/signing-key",
  "/v1/fleet/artifacts/*",
  "/v1/fleet/verify-jobs/*",
];

/** Raw-byte uploads (a compiled object): app.ts exempts them from the JSON guard and 1 MiB limit. */
export const FLEET_RAW_BODY_PATHS = ["/v1/fleet/verify-jobs/*"];
