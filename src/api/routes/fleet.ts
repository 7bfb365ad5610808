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

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
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
import { FLEET_LIMITS } from "../../schedcp/protocol/index.js";
import { importSigningKey, SigningKeyError } from "../../schedcp/signing.js";
import {
  createEnrollmentToken,
  type EnrollRefusal,
  enrollNode,
  revokeNode,
} from "../../store/fleet.js";
import { getFleetArtifact, putFleetArtifact } from "../../store/fleet-artifacts.js";
import { requireTenantKey, WRITE_ROLES } from "../authorize.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError, fieldError } from "../problem.js";
import { PageQuerySchema } from "../schemas.js";
import {
  CreateEnrollmentTokenSchema,
  DeployEventPageSchema,
  EnrollmentTokenSchema,
  EnrollRequestApiSchema,
  EnrollResponseApiSchema,
  FleetCommandReplySchema,
  FleetCommandRequestSchema,
  NodeDetailSchema,
  NodeIdParam,
  NodeListQuerySchema,
  NodePageSchema,
  Sha256Param,
  SigningKeySchema,
  TelemetryPageSchema,
  VerifyJobParam,
  VerifyUploadSchema,
} from "../schemas-fleet.js";
import { nodeIdentity, requireNodeCredential } from "./fleet-auth.js";

export const fleetRoutes = new OpenAPIHono<AppEnv>();

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

const NODE_CREDENTIAL = [{ nodeCredential: [] }];

/** The control plane's signing key, or 503 when the deployment has none (or a broken one). */
async function signingKey(secret: string | undefined) {
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

fleetRoutes.openapi(createTokenRoute, async (c) => {
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

fleetRoutes.openapi(enrollRoute, async (c) => {
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

fleetRoutes.openapi(connectRoute, async (c) => {
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

fleetRoutes.openapi(listRoute, async (c) => {
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

fleetRoutes.openapi(getRoute, async (c) => {
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

fleetRoutes.openapi(telemetryRoute, async (c) => {
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

fleetRoutes.openapi(eventsRoute, async (c) => {
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

fleetRoutes.openapi(revokeRoute, async (c) => {
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

fleetRoutes.openapi(commandRoute, async (c) => {
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

// ---------------------------------------------------------------------------------------------
// GET /v1/fleet/artifacts/{sha256}, GET /v1/fleet/signing-key

const artifactRoute = createRoute({
  method: "get",
  path: "/v1/fleet/artifacts/{sha256}",
  tags: ["fleet"],
  summary: "A policy artifact's bytes by SHA-256 (node credential)",
  security: NODE_CREDENTIAL,
  request: { params: Sha256Param },
  responses: {
    200: {
      description: "The artifact",
      content: { "application/octet-stream": { schema: z.string().meta({ format: "binary" }) } },
    },
    ...problems(401, 404, 422),
  },
});

fleetRoutes.openapi(artifactRoute, async (c) => {
  const node = await requireNodeCredential(c);
  const { sha256 } = c.req.valid("param");
  const object = await getFleetArtifact(c.env.BLOBS, node.tenantId, sha256);
  if (!object) throw new ApiError("not_found", `no artifact ${sha256}`);
  return new Response(object.body, {
    status: 200,
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(object.size),
      etag: `"${sha256}"`,
      "cache-control": "private, max-age=31536000, immutable",
    },
  }) as never;
});

// ---------------------------------------------------------------------------------------------
// PUT /v1/fleet/verify-jobs/{jobId}/object

const uploadRoute = createRoute({
  method: "put",
  path: "/v1/fleet/verify-jobs/{jobId}/object",
  tags: ["fleet"],
  summary: "A verifier uploads the object it compiled for its running job (node credential)",
  description: `The body is the compiled BPF object (at most ${FLEET_LIMITS.maxObjectBytes} bytes). Only the node the job was sent to, while the job runs. Stored in R2 by its SHA-256 (the tenant's artifacts); the job's \`verify-result\` must name the same hash.`,
  security: NODE_CREDENTIAL,
  request: {
    params: VerifyJobParam,
    body: {
      content: {
        "application/octet-stream": { schema: z.string().meta({ format: "binary" }) },
      },
      required: true,
    },
  },
  responses: {
    201: json(VerifyUploadSchema, "Stored"),
    ...problems(401, 403, 404, 409, 413, 422),
  },
});

fleetRoutes.openapi(uploadRoute, async (c) => {
  const node = await requireNodeCredential(c);
  const { jobId } = c.req.valid("param");
  c.var.audit.tenantId = node.tenantId;
  c.var.audit.actor = `node:${node.id}`;
  c.var.audit.actorRole = "node";
  c.var.audit.target = jobId;
  const stub = fleetStub(c.env, node.tenantId);
  const job = await stub.verifyJob(node.tenantId, jobId);
  // Another node's job answers like a missing one.
  if (!job || job.nodeId !== node.id)
    throw new ApiError("not_found", `no verification job ${jobId}`);
  if (job.state !== "running") {
    throw new ApiError("conflict", `job ${jobId} is ${job.state}; it takes no upload`, {
      extra: { state: job.state },
    });
  }
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > FLEET_LIMITS.maxObjectBytes) {
    throw objectTooLarge();
  }
  const bytes = await readCappedBody(c.req.raw.body, FLEET_LIMITS.maxObjectBytes);
  if (bytes.byteLength === 0) throw fieldError("body", "the object is empty", "empty");
  const sha256 = await putFleetArtifact(c.env.BLOBS, node.tenantId, bytes);
  if (!(await stub.verifyUploaded(node.tenantId, jobId, node.id, sha256, bytes.byteLength))) {
    throw new ApiError("conflict", `job ${jobId} ended while its object was uploaded`);
  }
  c.var.audit.detail = { sha256, sizeBytes: bytes.byteLength };
  return c.json({ jobId, sha256, sizeBytes: bytes.byteLength }, 201);
});

function objectTooLarge(): ApiError {
  return new ApiError(
    "payload_too_large",
    `a compiled object is at most ${FLEET_LIMITS.maxObjectBytes} bytes`,
    { extra: { limitBytes: FLEET_LIMITS.maxObjectBytes } },
  );
}

/** Reads a body, refusing it as soon as it passes `limitBytes` (whatever Content-Length said). */
async function readCappedBody(
  body: ReadableStream<Uint8Array> | null,
  limitBytes: number,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => {});
      throw objectTooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

const signingKeyRoute = createRoute({
  method: "get",
  path: "/v1/fleet/signing-key",
  tags: ["fleet"],
  summary: "The control plane's Ed25519 public key that signs assignments",
  security: [],
  responses: { 200: json(SigningKeySchema, "The public key"), ...problems(503) },
});

fleetRoutes.openapi(signingKeyRoute, async (c) => {
  const key = await signingKey(c.env.POLICY_SIGNING_KEY);
  return c.json({ algorithm: "Ed25519" as const, publicKey: key.publicKey, keyId: key.keyId }, 200);
});
