/**
 * The tenant-wide blackboard: keys with JSON values that every process and key of a tenant
 * shares, versioned, with compare-and-set (`ifVersion` in the body, or `If-Match` /
 * `If-None-Match: *` headers) for multi-agent collaboration.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  getBlackboardAs,
  listBlackboardAs,
  listBlackboardVersionsAs,
} from "../../objects/board-reads.js";
import { deleteBlackboardAs, putBlackboardAs } from "../../objects/board-writes.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError } from "../problem.js";
import { PageQuerySchema } from "../schemas.js";
import {
  BlackboardDeletedSchema,
  BlackboardDeleteQuerySchema,
  BlackboardEntrySchema,
  BlackboardKeyParam,
  BlackboardListQuerySchema,
  BlackboardPageSchema,
  BlackboardPutBodySchema,
  BlackboardVersionPageSchema,
} from "../schemas-board.js";

export const blackboardRoutes = new OpenAPIHono<AppEnv>();

const ConditionalHeaders = z.object({
  "if-match": z
    .string()
    .optional()
    .meta({ description: 'The version the write expects, as an ETag (`"3"`); like `ifVersion`' }),
  "if-none-match": z
    .string()
    .optional()
    .meta({ description: "`*`: write only if the key does not exist (like `ifVersion: 0`)" }),
});

/** The ETag of a blackboard version. */
function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * The version a write expects, from the body's `ifVersion` and the conditional headers; a
 * malformed header or two that disagree are 422 naming the header.
 */
function expectedVersion(
  bodyVersion: number | undefined,
  headers: { "if-match"?: string | undefined; "if-none-match"?: string | undefined },
): number | undefined {
  const fromHeaders: Array<{ name: string; version: number }> = [];
  const ifMatch = headers["if-match"];
  if (ifMatch !== undefined) {
    const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(ifMatch.trim());
    if (!m) throw headerError("If-Match", 'expected a version as an ETag, e.g. "3"');
    fromHeaders.push({ name: "If-Match", version: Number(m[1]) });
  }
  const ifNoneMatch = headers["if-none-match"];
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== "*") throw headerError("If-None-Match", "only * is supported");
    fromHeaders.push({ name: "If-None-Match", version: 0 });
  }
  const all = [
    ...fromHeaders,
    ...(bodyVersion === undefined ? [] : [{ name: "ifVersion", version: bodyVersion }]),
  ];
  const first = all[0];
  if (!first) return undefined;
  const other = all.find((x) => x.version !== first.version);
  if (other) {
    throw headerError(other.name, `disagrees with ${first.name} (${first.version})`);
  }
  return first.version;
}

function headerError(name: string, message: string): ApiError {
  return new ApiError("validation_failed", `${name}: ${message}`, {
    errors: [{ path: name, message, code: "invalid_format" }],
    extra: { in: "header" },
  });
}

// ---------------------------------------------------------------------------------------------
// GET /v1/blackboard

const listRoute = createRoute({
  method: "get",
  path: "/v1/blackboard",
  tags: ["blackboard"],
  summary: "List blackboard keys by prefix, in key order",
  security: BEARER,
  request: { query: BlackboardListQuerySchema },
  responses: {
    200: json(BlackboardPageSchema, "One page of keys (values not included)"),
    ...problems(401, 403, 422),
  },
});

blackboardRoutes.openapi(listRoute, async (c) => {
  const q = c.req.valid("query");
  const page = await listBlackboardAs(c.env, c.var.db, c.var.principal, {
    prefix: q.prefix,
    limit: q.limit,
    cursor: q.cursor,
  });
  return c.json(page, 200);
});

// ---------------------------------------------------------------------------------------------
// GET /v1/blackboard/{key}

const getRoute = createRoute({
  method: "get",
  path: "/v1/blackboard/{key}",
  tags: ["blackboard"],
  summary: "Read a blackboard key: its value and version (also the ETag)",
  security: BEARER,
  request: { params: BlackboardKeyParam },
  responses: {
    200: json(BlackboardEntrySchema, "The key's current value"),
    ...problems(401, 403, 404, 422),
  },
});

blackboardRoutes.openapi(getRoute, async (c) => {
  const { key } = c.req.valid("param");
  const entry = await getBlackboardAs(c.env, c.var.db, c.var.principal, { key });
  c.header("etag", etagOf(entry.version));
  return c.json(entry, 200);
});

// ---------------------------------------------------------------------------------------------
// PUT /v1/blackboard/{key}

const putRoute = createRoute({
  method: "put",
  path: "/v1/blackboard/{key}",
  tags: ["blackboard"],
  summary: "Write a blackboard key (compare-and-set with ifVersion or If-Match)",
  description:
    'Every write makes a new version. With `ifVersion` (or `If-Match: "n"`, or `If-None-Match: *` for 0) the write lands only if the key is at that version (0: does not exist); otherwise 409 `version_conflict` with `currentVersion` and `currentValue`. Values are at most 64 KiB as JSON (413 above).',
  security: BEARER,
  request: {
    params: BlackboardKeyParam,
    headers: ConditionalHeaders,
    body: {
      content: { "application/json": { schema: BlackboardPutBodySchema } },
      required: true,
    },
  },
  responses: {
    200: json(BlackboardEntrySchema, "The new version of an existing key"),
    201: json(BlackboardEntrySchema, "The first version of a new key"),
    ...problems(400, 401, 403, 409, 413, 415, 422),
  },
});

blackboardRoutes.openapi(putRoute, async (c) => {
  const { key } = c.req.valid("param");
  const body = c.req.valid("json");
  c.var.audit.target = key;
  const ifVersion = expectedVersion(body.ifVersion, c.req.valid("header"));
  const { entry, created } = await putBlackboardAs(c.env, c.var.db, c.var.principal, {
    key,
    value: body.value,
    ifVersion,
  });
  c.var.audit.detail = { version: entry.version, ifVersion: ifVersion ?? null };
  c.header("etag", etagOf(entry.version));
  if (created) {
    c.header("location", `/v1/blackboard/${key}`);
    return c.json(entry, 201);
  }
  return c.json(entry, 200);
});

// ---------------------------------------------------------------------------------------------
// DELETE /v1/blackboard/{key}

const deleteRoute = createRoute({
  method: "delete",
  path: "/v1/blackboard/{key}",
  tags: ["blackboard"],
  summary: "Delete a blackboard key (compare-and-set with ifVersion or If-Match)",
  description:
    "The key's history stays, and its version sequence continues if it is written again, so a stale compare-and-set can never match a re-created key.",
  security: BEARER,
  request: {
    params: BlackboardKeyParam,
    query: BlackboardDeleteQuerySchema,
    headers: ConditionalHeaders,
  },
  responses: {
    200: json(BlackboardDeletedSchema, "The key is deleted"),
    ...problems(401, 403, 404, 409, 422),
  },
});

blackboardRoutes.openapi(deleteRoute, async (c) => {
  const { key } = c.req.valid("param");
  const q = c.req.valid("query");
  c.var.audit.target = key;
  const headers = c.req.valid("header");
  if (headers["if-none-match"] !== undefined) {
    throw headerError("If-None-Match", "not supported on delete");
  }
  const ifVersion = expectedVersion(q.ifVersion, headers);
  const out = await deleteBlackboardAs(c.env, c.var.db, c.var.principal, { key, ifVersion });
  c.var.audit.detail = { version: out.version, ifVersion: ifVersion ?? null };
  return c.json(out, 200);
});

// ---------------------------------------------------------------------------------------------
// GET /v1/blackboard/{key}/versions

const versionsRoute = createRoute({
  method: "get",
  path: "/v1/blackboard/{key}/versions",
  tags: ["blackboard"],
  summary: "A blackboard key's recent versions, newest first",
  description: "The last 20 versions of the key are kept, deletes included.",
  security: BEARER,
  request: { params: BlackboardKeyParam, query: PageQuerySchema },
  responses: {
    200: json(BlackboardVersionPageSchema, "One page of versions"),
    ...problems(401, 403, 404, 422),
  },
});

blackboardRoutes.openapi(versionsRoute, async (c) => {
  const { key } = c.req.valid("param");
  const q = c.req.valid("query");
  const page = await listBlackboardVersionsAs(c.env, c.var.db, c.var.principal, {
    key,
    limit: q.limit,
    cursor: q.cursor,
  });
  return c.json(page, 200);
});
