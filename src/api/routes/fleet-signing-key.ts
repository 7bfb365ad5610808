/**
 * The control plane's Ed25519 signing key: its public half for anyone (`GET
 * /v1/fleet/signing-key`, unauthenticated), and the check enrollment makes before it spends a
 * token. Registered by fleet.ts.
 */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { importSigningKey, SigningKeyError } from "../../schedcp/signing.js";
import type { AppEnv } from "../context.js";
import { json, problems } from "../openapi.js";
import { ApiError } from "../problem.js";
import { SigningKeySchema } from "../schemas-fleet.js";

export const fleetSigningKeyRoutes = new OpenAPIHono<AppEnv>();

/** The control plane's signing key, or 503 when the deployment has none (or a broken one). */
export async function signingKey(secret: string | undefined) {
  try {
    return await importSigningKey(secret);
  } catch (error) {
    if (!(error instanceof SigningKeyError)) throw error;
    console.error("fleet: POLICY_SIGNING_KEY unusable", error.message);
    throw new ApiError(
      "unavailable",
      "the control plane has no usable signing key (POLICY_SIGNING_KEY); ask its operator",
    );
  }
}

// ---------------------------------------------------------------------------------------------
// GET /v1/fleet/signing-key

const signingKeyRoute = createRoute({
  method: "get",
  path: "/v1/fleet/signing-key",
  tags: ["fleet"],
  summary: "The control plane's Ed25519 public key that signs assignments",
  security: [],
  responses: { 200: json(SigningKeySchema, "The public key"), ...problems(503) },
});

fleetSigningKeyRoutes.openapi(signingKeyRoute, async (c) => {
  const key = await signingKey(c.env.POLICY_SIGNING_KEY);
  return c.json({ algorithm: "Ed25519" as const, publicKey: key.publicKey, keyId: key.keyId }, 200);
});
