/**
 * Artifacts: a tenant's final outputs, uploaded as raw bytes (the request body is the content,
 * its Content-Type the artifact's), listed with filters, downloaded with the stored content
 * type, ETag and `Range` support, and deleted. The upload route takes raw bytes up to 32 MiB,
 * so app.ts exempts it from the JSON guard and the 1 MiB body limit.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { BOARD_LIMITS } from "../../kernel/agent/tools/board.js";
import {
  getArtifactAs,
  listArtifactsAs,
  openArtifactContentAs,
  RangeNotSatisfiable,
} from "../../objects/board-reads.js";
import { parseLabelParams } from "../../objects/board-views.js";
import {
  artifactTooLarge,
  createArtifactAs,
  deleteArtifactAs,
} from "../../objects/board-writes.js";
import { readCappedBody } from "../capped-body.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { fieldError, problemResponse } from "../problem.js";
import {
  ArtifactCreateQuerySchema,
  ArtifactDeletedSchema,
  ArtifactIdParam,
  ArtifactListQuerySchema,
  ArtifactPageSchema,
  ArtifactSchema,
} from "../schemas-board.js";

export const artifactRoutes = new OpenAPIHono<AppEnv>();

/** The paths that take raw bytes: app.ts exempts them from the JSON guard and body limit. */
export const ARTIFACT_RAW_BODY_PATHS = ["/v1/artifacts"];

const DEFAULT_CONTENT_TYPE = "application/octet-stream";
const CONTENT_TYPE_PATTERN = /^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/;

// ---------------------------------------------------------------------------------------------
// POST /v1/artifacts

const createRouteDef = createRoute({
  method: "post",
  path: "/v1/artifacts",
  tags: ["artifacts"],
  summary: "Store an artifact (the request body is its content)",
  description: `The body is the artifact's bytes (at most ${BOARD_LIMITS.artifactBytes} bytes) and its Content-Type the artifact's (default ${DEFAULT_CONTENT_TYPE}). With an agent key the artifact is its process's; a tenant key may name one of its processes in \`processId\`. \`retention=with_process\` deletes it when that process is purged.`,
  security: BEARER,
  request: {
    query: ArtifactCreateQuerySchema,
    body: {
      content: {
        "application/octet-stream": {
          schema: z.string().meta({ format: "binary", description: "Any content type" }),
        },
      },
      required: true,
    },
  },
  responses: {
    201: json(ArtifactSchema, "The stored artifact"),
    ...problems(401, 403, 413, 422),
  },
});

artifactRoutes.openapi(createRouteDef, async (c) => {
  const q = c.req.valid("query");
  const labels = parseLabelParams(q.label);
  const contentType = (c.req.header("content-type") ?? DEFAULT_CONTENT_TYPE).trim();
  if (!CONTENT_TYPE_PATTERN.test(contentType) || contentType.length > 255) {
    throw fieldError("Content-Type", "a media type such as text/markdown", "invalid_format");
  }
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > BOARD_LIMITS.artifactBytes) {
    throw artifactTooLarge(BOARD_LIMITS.artifactBytes, Number(declared));
  }
  const bytes = await readCappedBody(c.req.raw.body, BOARD_LIMITS.artifactBytes, () =>
    artifactTooLarge(BOARD_LIMITS.artifactBytes),
  );
  const artifact = await createArtifactAs(c.env, c.var.db, c.var.principal, {
    name: q.name,
    processId: q.processId,
    contentType,
    retention: q.retention,
    labels,
    bytes,
  });
  c.var.audit.target = artifact.id;
  c.var.audit.detail = {
    name: artifact.name,
    sizeBytes: artifact.sizeBytes,
    processId: artifact.processId,
    retention: artifact.retention,
  };
  c.header("location", `/v1/artifacts/${artifact.id}`);
  return c.json(artifact, 201);
});

// ---------------------------------------------------------------------------------------------
// GET /v1/artifacts

const listRoute = createRoute({
  method: "get",
  path: "/v1/artifacts",
  tags: ["artifacts"],
  summary: "List artifacts, newest first",
  security: BEARER,
  request: { query: ArtifactListQuerySchema },
  responses: {
    200: json(ArtifactPageSchema, "One page of artifacts"),
    ...problems(401, 403, 422),
  },
});

artifactRoutes.openapi(listRoute, async (c) => {
  const q = c.req.valid("query");
  const page = await listArtifactsAs(c.env, c.var.db, c.var.principal, {
    processId: q.processId,
    type: q.type,
    labels: parseLabelParams(q.label),
    limit: q.limit,
    cursor: q.cursor,
  });
  return c.json(page, 200);
});

// ---------------------------------------------------------------------------------------------
// GET /v1/artifacts/{id}, GET /v1/artifacts/{id}/content

const getRoute = createRoute({
  method: "get",
  path: "/v1/artifacts/{id}",
  tags: ["artifacts"],
  summary: "An artifact's metadata",
  security: BEARER,
  request: { params: ArtifactIdParam },
  responses: { 200: json(ArtifactSchema, "The artifact"), ...problems(401, 403, 404) },
});

artifactRoutes.openapi(getRoute, async (c) => {
  const { id } = c.req.valid("param");
  return c.json(await getArtifactAs(c.env, c.var.db, c.var.principal, { id }), 200);
});

const contentRoute = createRoute({
  method: "get",
  path: "/v1/artifacts/{id}/content",
  tags: ["artifacts"],
  summary: "Download an artifact's bytes (Range requests answer 206)",
  description:
    "Served with the stored Content-Type, Content-Length and an ETag (the SHA-256). One `Range: bytes=…` range is honoured with 206; a range past the end is 416 with `Content-Range: bytes */size`; `If-None-Match` with the ETag answers 304.",
  security: BEARER,
  request: {
    params: ArtifactIdParam,
    headers: z.object({
      range: z.string().optional(),
      "if-none-match": z.string().optional(),
    }),
  },
  responses: {
    200: {
      description: "The whole artifact",
      content: { "application/octet-stream": { schema: z.string().meta({ format: "binary" }) } },
    },
    206: {
      description: "The requested range",
      content: { "application/octet-stream": { schema: z.string().meta({ format: "binary" }) } },
    },
    304: { description: "Not modified (the ETag matched)" },
    ...problems(401, 403, 404, 416),
  },
});

artifactRoutes.openapi(contentRoute, async (c) => {
  const { id } = c.req.valid("param");
  const headers = c.req.valid("header");
  let content: Awaited<ReturnType<typeof openArtifactContentAs>>;
  try {
    content = await openArtifactContentAs(c.env, c.var.db, c.var.principal, {
      id,
      range: headers.range,
    });
  } catch (error) {
    if (!(error instanceof RangeNotSatisfiable)) throw error;
    const res = problemResponse(error, c.var.requestId, c.req.path);
    res.headers.set("content-range", `bytes */${error.sizeBytes}`);
    return res as never;
  }
  const { meta, range, body } = content;
  const etag = `"${meta.sha256}"`;
  const common: Record<string, string> = {
    "content-type": meta.contentType,
    etag,
    "accept-ranges": "bytes",
    "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(meta.name)}`,
  };
  const inm = headers["if-none-match"];
  if (inm?.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
    await body.cancel();
    return new Response(null, { status: 304, headers: { etag } }) as never;
  }
  if (range) {
    return new Response(body, {
      status: 206,
      headers: {
        ...common,
        "content-length": String(range.length),
        "content-range": `bytes ${range.offset}-${range.offset + range.length - 1}/${meta.sizeBytes}`,
      },
    }) as never;
  }
  return new Response(body, {
    status: 200,
    headers: { ...common, "content-length": String(meta.sizeBytes) },
  }) as never;
});

// ---------------------------------------------------------------------------------------------
// DELETE /v1/artifacts/{id}

const deleteRoute = createRoute({
  method: "delete",
  path: "/v1/artifacts/{id}",
  tags: ["artifacts"],
  summary: "Delete an artifact (metadata and bytes)",
  security: BEARER,
  request: { params: ArtifactIdParam },
  responses: {
    200: json(ArtifactDeletedSchema, "The artifact is deleted"),
    ...problems(401, 403, 404),
  },
});

artifactRoutes.openapi(deleteRoute, async (c) => {
  const { id } = c.req.valid("param");
  c.var.audit.target = id;
  return c.json(await deleteArtifactAs(c.env, c.var.db, c.var.principal, { id }), 200);
});
