/**
 * How a node joins the fleet: a tenant key creates a one-time enrollment token, and the node
 * spends it on `POST /v1/fleet/enroll` (the token is the credential) for its node credential and
 * the control plane's public key to pin. Registered by fleet.ts.
 */

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { createEnrollmentToken, type EnrollRefusal, enrollNode } from "../../store/fleet.js";
import { requireTenantKey, WRITE_ROLES } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError, fieldError } from "../problem.js";
import {
  CreateEnrollmentTokenSchema,
  EnrollmentTokenSchema,
  EnrollRequestApiSchema,
  EnrollResponseApiSchema,
} from "../schemas-fleet.js";
import { signingKey } from "./fleet-signing-key.js";

export const fleetEnrollRoutes = new OpenAPIHono<AppEnv>();

// ---------------------------------------------------------------------------------------------
// POST /v1/fleet/enrollment-tokens

const createTokenRoute = createRoute({
  method: "post",
  path: "/v1/fleet/enrollment-tokens",
  tags: ["fleet"],
  summary: "Create a one-time enrollment token; it is in this response only",
  security: BEARER,
  request: {
    body: {
      content: { "application/json": { schema: CreateEnrollmentTokenSchema } },
      required: true,
    },
  },
  responses: {
    201: json(EnrollmentTokenSchema, "The token"),
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

fleetEnrollRoutes.openapi(createTokenRoute, async (c) => {
  const principal = requireTenantKey(c.var.principal, WRITE_ROLES);
  const body = c.req.valid("json");
  const nowMs = Date.now();
  const { row, token } = await createEnrollmentToken(
    c.var.db,
    {
      tenantId: principal.tenantId,
      role: body.role,
      labels: body.labels,
      createdBy: principal.actor,
      expiresAtMs: nowMs + body.expiresInSeconds * 1000,
    },
    nowMs,
  );
  c.var.audit.target = row.id;
  c.var.audit.detail = { role: row.role, labels: body.labels, expiresAtMs: row.expiresAtMs };
  return c.json(
    {
      id: row.id,
      tenantId: row.tenantId,
      token,
      role: row.role,
      labels: body.labels,
      createdAt: new Date(row.createdAtMs).toISOString(),
      expiresAt: new Date(row.expiresAtMs).toISOString(),
    },
    201,
  );
});

// ---------------------------------------------------------------------------------------------
// POST /v1/fleet/enroll

const enrollRoute = createRoute({
  method: "post",
  path: "/v1/fleet/enroll",
  tags: ["fleet"],
  summary: "Enroll a node: a one-time enrollment token buys a node credential (shown once)",
  description:
    "No API key: the enrollment token in the body is the credential. The reply carries the node credential and the control plane's Ed25519 public key for the node to pin.",
  security: [],
  request: {
    body: { content: { "application/json": { schema: EnrollRequestApiSchema } }, required: true },
  },
  responses: {
    201: json(EnrollResponseApiSchema, "The node's id and credential"),
    ...problems(400, 401, 409, 413, 415, 422, 503),
  },
});

fleetEnrollRoutes.openapi(enrollRoute, async (c) => {
  const body = c.req.valid("json");
  // Checked before the token is spent: a token must not be lost to a misconfigured server.
  const key = await signingKey(c.env.POLICY_SIGNING_KEY);
  const outcome = await enrollNode(c.var.db, body, Date.now());
  if (!outcome.ok) {
    if (outcome.reason !== "unknown_token") {
      c.var.audit.tenantId = outcome.tenantId;
      c.var.audit.actor = `enrollment-token:${outcome.tokenId}`;
    }
    throw enrollError(outcome);
  }
  const { node, credential, tokenId } = outcome;
  c.var.audit.tenantId = node.tenantId;
  c.var.audit.actor = `node:${node.id}`;
  c.var.audit.actorRole = "node";
  c.var.audit.target = node.id;
  c.var.audit.detail = { tokenId, role: node.role, credentialId: node.credentialId };
  return c.json(
    {
      nodeId: node.id,
      tenantId: node.tenantId,
      credential,
      role: node.role,
      signingPublicKey: key.publicKey,
      keyId: key.keyId,
    },
    201,
  );
});

function enrollError(refusal: EnrollRefusal): ApiError {
  switch (refusal.reason) {
    case "unknown_token":
      return new ApiError("unauthenticated", "unknown enrollment token");
    case "token_used":
      return new ApiError("credential_used", "this enrollment token has been used already");
    case "token_expired":
      return new ApiError("credential_expired", "this enrollment token has expired");
    case "role_mismatch":
      return fieldError(
        "role",
        `this token enrolls nodes of role ${refusal.tokenRole}`,
        "role_mismatch",
      );
    case "too_many_labels":
      return fieldError("labels", refusal.message, "too_many_labels");
    case "node_id_taken":
      return new ApiError(
        "conflict",
        `node id ${refusal.nodeId} is taken in this tenant; revoke that node first or ask for another id`,
        { errors: [{ path: "nodeId", message: "taken", code: "taken" }] },
      );
  }
}
