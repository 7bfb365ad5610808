/**
 * Artifacts for nodes (node credential): a node downloads a policy artifact by its SHA-256, and
 * a verifier uploads the object it compiled for its running job, read under a byte cap.
 * Registered by fleet.ts.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { fleetStub } from "../../objects/fleet.js";
import { FLEET_LIMITS } from "../../schedcp/protocol/index.js";
import { getFleetArtifact, putFleetArtifact } from "../../store/fleet-artifacts.js";
import { readCappedBody } from "../capped-body.js";
import type { AppEnv } from "../context.js";
import { json, problems } from "../openapi.js";
import { ApiError, fieldError } from "../problem.js";
import { Sha256Param, VerifyJobParam, VerifyUploadSchema } from "../schemas-fleet.js";
import { NODE_CREDENTIAL, requireNodeCredential } from "./fleet-auth.js";

export const fleetArtifactRoutes = new OpenAPIHono<AppEnv>();

// ---------------------------------------------------------------------------------------------
// GET /v1/fleet/artifacts/{sha256}

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

fleetArtifactRoutes.openapi(artifactRoute, async (c) => {
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

fleetArtifactRoutes.openapi(uploadRoute, async (c) => {
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
  const bytes = await readCappedBody(c.req.raw.body, FLEET_LIMITS.maxObjectBytes, objectTooLarge);
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
