/**
 * Workspace routes: a process's files (raw bytes, any content type, `Range` honoured), its keys
 * (JSON values), the shares it grants and its usage. The file routes take raw bytes, so the
 * app's JSON guard and 1 MiB body limit do not apply to them (see `WORKSPACE_FILES_PATH`);
 * they enforce FILE_MAX_BYTES themselves, by Content-Length and again while streaming.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { FILE_MAX_BYTES } from "../../kernel/workspace/limits.js";
import { parseRange } from "../../kernel/workspace/range.js";
import {
  bytesOf,
  deleteEntry,
  listEntries,
  listShares,
  readEntry,
  revokeShare,
  sharePath,
  workspaceUsage,
  writeEntry,
} from "../../objects/workspace-calls.js";
import { readCappedBody } from "../capped-body.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import { ApiError, fieldError, problemResponse } from "../problem.js";
import {
  EntryPageSchema,
  EntrySchema,
  EntryWriteSchema,
  KvValueSchema,
  RevokeRequestSchema,
  RevokeResultSchema,
  ShareListSchema,
  ShareRequestSchema,
  ShareResultSchema,
  UsageSchema,
  WorkspaceListQuerySchema,
} from "../schemas-workspace.js";

/** The file routes' pattern: exempt from the JSON guard and the JSON body limit in app.ts. */
export const WORKSPACE_FILES_PATH = "/v1/processes/:id/workspace/files/*";

const FILE_ROUTE = "/v1/processes/:id/workspace/files/:path{.+}";
const KV_ROUTE = "/v1/processes/:id/workspace/kv/:key{.+}";

const DEFAULT_CONTENT_TYPE = "application/octet-stream";
/** A media type as a client may send it: printable ASCII, bounded. */
const CONTENT_TYPE_PATTERN = /^[\x20-\x7e]{1,255}$/;

const IdParam = z.object({
  id: z.string().meta({ param: { name: "id", in: "path" }, example: "proc_0193…" }),
});
const FileParams = IdParam.extend({
  path: z.string().meta({
    param: { name: "path", in: "path" },
    description:
      "The file's path; its `/` separators stay as they are, other characters percent-encoded",
    example: "reports/week-47.md",
  }),
});
const KeyParams = IdParam.extend({
  key: z.string().meta({ param: { name: "key", in: "path" }, example: "state" }),
});

export const workspaceRoutes = new OpenAPIHono<AppEnv>();

/**
 * The part of the raw URL after `marker`, percent-decoded; 422 naming `field` when it does not
 * decode to UTF-8. Read from the raw URL so an encoded `/` stays part of the path.
 */
function rawTail(c: Context<AppEnv>, marker: string, field: string): string {
  const pathname = new URL(c.req.url).pathname;
  const at = pathname.indexOf(marker);
  const raw = at < 0 ? "" : pathname.slice(at + marker.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw fieldError(field, "must be percent-encoded UTF-8", "invalid_path");
  }
}

/** The request body, refused with 413 past `maxBytes` (by Content-Length, then as it streams). */
async function readBodyLimited(req: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new ApiError("payload_too_large", `a workspace file may be at most ${maxBytes} bytes`, {
      extra: { limitBytes: maxBytes },
    });
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  return readCappedBody(req.body, maxBytes, tooLarge);
}

function contentTypeOf(c: Context<AppEnv>): string {
  const value = c.req.header("content-type")?.trim() || DEFAULT_CONTENT_TYPE;
  if (!CONTENT_TYPE_PATTERN.test(value)) {
    throw new ApiError(
      "validation_failed",
      "Content-Type must be printable ASCII, at most 255 characters",
      {
        errors: [
          {
            path: "Content-Type",
            message: "printable ASCII, 1 to 255 characters",
            code: "invalid_format",
          },
        ],
        extra: { in: "header" },
      },
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// files: PUT, GET (and HEAD), DELETE /v1/processes/{id}/workspace/files/{path}

workspaceRoutes.put(FILE_ROUTE, async (c) => {
  const id = c.req.param("id");
  const path = rawTail(c, "/workspace/files/", "path");
  c.var.audit.target = id;
  const contentType = contentTypeOf(c);
  const bytes = await readBodyLimited(c.req.raw, FILE_MAX_BYTES);
  const { entry, created } = await writeEntry(c.env, c.var.db, c.var.principal, {
    processId: id,
    kind: "file",
    path,
    bytes,
    contentType,
  });
  c.var.audit.detail = { path, sizeBytes: entry.sizeBytes, version: entry.version, created };
  c.header("etag", `"${entry.sha256}"`);
  return c.json({ ...entry, created }, created ? 201 : 200);
});

workspaceRoutes.get(FILE_ROUTE, async (c) => {
  const id = c.req.param("id");
  const path = rawTail(c, "/workspace/files/", "path");
  const read = await readEntry(c.env, c.var.db, c.var.principal, {
    processId: id,
    kind: "file",
    path,
  });
  const { entry } = read;
  const headers = new Headers({
    "content-type": entry.contentType,
    etag: `"${entry.sha256}"`,
    "accept-ranges": "bytes",
    "last-modified": new Date(entry.updatedAt).toUTCString(),
    "x-workspace-version": String(entry.version),
  });
  const range = parseRange(c.req.header("range"), entry.sizeBytes);
  if (range.kind === "unsatisfiable") {
    const error = new ApiError("range_not_satisfiable", `the file has ${entry.sizeBytes} bytes`, {
      extra: { sizeBytes: entry.sizeBytes },
    });
    const res = problemResponse(error, c.var.requestId ?? "", c.req.path);
    res.headers.set("content-range", `bytes */${entry.sizeBytes}`);
    return res;
  }
  const head = c.req.method === "HEAD";
  if (range.kind === "range") {
    headers.set(
      "content-range",
      `bytes ${range.offset}-${range.offset + range.length - 1}/${entry.sizeBytes}`,
    );
    headers.set("content-length", String(range.length));
    const body = head ? null : await bytesOf(c.env, read, range);
    return new Response(body, { status: 206, headers });
  }
  headers.set("content-length", String(entry.sizeBytes));
  return new Response(head ? null : await bytesOf(c.env, read, null), { status: 200, headers });
});

workspaceRoutes.delete(FILE_ROUTE, async (c) => {
  const id = c.req.param("id");
  const path = rawTail(c, "/workspace/files/", "path");
  c.var.audit.target = id;
  const entry = await deleteEntry(c.env, c.var.db, c.var.principal, {
    processId: id,
    kind: "file",
    path,
  });
  c.var.audit.detail = { path, sizeBytes: entry.sizeBytes };
  return c.json(entry, 200);
});

// ---------------------------------------------------------------------------------------------
// keys: PUT, GET, DELETE /v1/processes/{id}/workspace/kv/{key} (JSON values)

workspaceRoutes.put(KV_ROUTE, async (c) => {
  const id = c.req.param("id");
  const key = rawTail(c, "/workspace/kv/", "key");
  c.var.audit.target = id;
  // The app's JSON guard has checked the content type and the syntax already.
  const text = await c.req.text();
  if (text.length === 0) throw fieldError("body", "a JSON value is required", "required");
  const canonical = JSON.stringify(JSON.parse(text));
  const { entry, created } = await writeEntry(c.env, c.var.db, c.var.principal, {
    processId: id,
    kind: "kv",
    path: key,
    bytes: new TextEncoder().encode(canonical),
    contentType: "application/json",
  });
  c.var.audit.detail = { key, sizeBytes: entry.sizeBytes, version: entry.version, created };
  return c.json({ ...entry, created }, created ? 201 : 200);
});

workspaceRoutes.get(KV_ROUTE, async (c) => {
  const id = c.req.param("id");
  const key = rawTail(c, "/workspace/kv/", "key");
  const read = await readEntry(c.env, c.var.db, c.var.principal, {
    processId: id,
    kind: "kv",
    path: key,
  });
  const body = await bytesOf(c.env, read, null);
  const text =
    body instanceof Uint8Array ? new TextDecoder().decode(body) : await new Response(body).text();
  const { entry } = read;
  return c.json({
    key,
    value: JSON.parse(text) as unknown,
    version: entry.version,
    sizeBytes: entry.sizeBytes,
    updatedAt: entry.updatedAt,
  });
});

workspaceRoutes.delete(KV_ROUTE, async (c) => {
  const id = c.req.param("id");
  const key = rawTail(c, "/workspace/kv/", "key");
  c.var.audit.target = id;
  const entry = await deleteEntry(c.env, c.var.db, c.var.principal, {
    processId: id,
    kind: "kv",
    path: key,
  });
  c.var.audit.detail = { key };
  return c.json(entry, 200);
});

// The raw routes above are documented here; zod cannot describe a raw-bytes body it never parses.
workspaceRoutes.openAPIRegistry.registerPath({
  method: "put",
  path: "/v1/processes/{id}/workspace/files/{path}",
  tags: ["workspace"],
  summary: `Write a file (raw bytes, any content type, at most ${FILE_MAX_BYTES} bytes)`,
  security: BEARER,
  request: { params: FileParams },
  responses: {
    200: json(EntryWriteSchema, "Overwritten"),
    201: json(EntryWriteSchema, "Created"),
    ...problems(401, 403, 404, 409, 413, 422),
  },
});
workspaceRoutes.openAPIRegistry.registerPath({
  method: "get",
  path: "/v1/processes/{id}/workspace/files/{path}",
  tags: ["workspace"],
  summary: "Read a file: its bytes with its content type; `Range: bytes=a-b` answers 206",
  security: BEARER,
  request: { params: FileParams },
  responses: {
    200: { description: "The bytes" },
    206: { description: "The requested range, with Content-Range" },
    ...problems(401, 403, 404, 416, 422),
  },
});
workspaceRoutes.openAPIRegistry.registerPath({
  method: "delete",
  path: "/v1/processes/{id}/workspace/files/{path}",
  tags: ["workspace"],
  summary: "Delete a file",
  security: BEARER,
  request: { params: FileParams },
  responses: { 200: json(EntrySchema, "The deleted entry"), ...problems(401, 403, 404, 422) },
});
workspaceRoutes.openAPIRegistry.registerPath({
  method: "put",
  path: "/v1/processes/{id}/workspace/kv/{key}",
  tags: ["workspace"],
  summary: "Write a key (any JSON value)",
  security: BEARER,
  request: { params: KeyParams },
  responses: {
    200: json(EntryWriteSchema, "Overwritten"),
    201: json(EntryWriteSchema, "Created"),
    ...problems(400, 401, 403, 404, 413, 415, 422),
  },
});
workspaceRoutes.openAPIRegistry.registerPath({
  method: "get",
  path: "/v1/processes/{id}/workspace/kv/{key}",
  tags: ["workspace"],
  summary: "Read a key",
  security: BEARER,
  request: { params: KeyParams },
  responses: { 200: json(KvValueSchema, "The value"), ...problems(401, 403, 404, 422) },
});

workspaceRoutes.openAPIRegistry.registerPath({
  method: "delete",
  path: "/v1/processes/{id}/workspace/kv/{key}",
  tags: ["workspace"],
  summary: "Delete a key",
  security: BEARER,
  request: { params: KeyParams },
  responses: { 200: json(EntrySchema, "The deleted entry"), ...problems(401, 403, 404, 422) },
});

// ---------------------------------------------------------------------------------------------
// listings, shares, usage

for (const kind of ["file", "kv"] as const) {
  const route = createRoute({
    method: "get",
    path: `/v1/processes/{id}/workspace/${kind === "file" ? "files" : "kv"}`,
    tags: ["workspace"],
    summary: kind === "file" ? "List files, in path order" : "List keys, in key order",
    description:
      "An agent key of another process sees only the files shared with it (keys are never shared).",
    security: BEARER,
    request: { params: IdParam, query: WorkspaceListQuerySchema },
    responses: { 200: json(EntryPageSchema, "One page"), ...problems(401, 403, 404, 422) },
  });
  workspaceRoutes.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const page = await listEntries(c.env, c.var.db, c.var.principal, {
      processId: id,
      kind,
      prefix: q.prefix,
      limit: q.limit,
      cursor: q.cursor,
    });
    return c.json(page, 200);
  });
}

const shareRoute = createRoute({
  method: "post",
  path: "/v1/processes/{id}/workspace/shares",
  tags: ["workspace"],
  summary: "Share a path (or a prefix ending in `/`) with other processes of the tenant",
  security: BEARER,
  request: {
    params: IdParam,
    body: { content: { "application/json": { schema: ShareRequestSchema } }, required: true },
  },
  responses: {
    200: json(ShareResultSchema, "The path's shares now"),
    ...problems(400, 401, 403, 404, 409, 415, 422),
  },
});

workspaceRoutes.openapi(shareRoute, async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  c.var.audit.target = id;
  const result = await sharePath(c.env, c.var.db, c.var.principal, { processId: id, ...body });
  c.var.audit.detail = { path: body.path, recipients: body.recipients, mode: body.mode };
  return c.json(result, 200);
});

const revokeRoute = createRoute({
  method: "post",
  path: "/v1/processes/{id}/workspace/shares/revoke",
  tags: ["workspace"],
  summary: "Revoke a path's shares (from the recipients named, or from everyone)",
  security: BEARER,
  request: {
    params: IdParam,
    body: { content: { "application/json": { schema: RevokeRequestSchema } }, required: true },
  },
  responses: {
    200: json(RevokeResultSchema, "How many shares were removed"),
    ...problems(400, 401, 403, 404, 415, 422),
  },
});

workspaceRoutes.openapi(revokeRoute, async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  c.var.audit.target = id;
  const result = await revokeShare(c.env, c.var.db, c.var.principal, { processId: id, ...body });
  c.var.audit.detail = { path: body.path, recipients: body.recipients ?? null, ...result };
  return c.json(result, 200);
});

const sharesRoute = createRoute({
  method: "get",
  path: "/v1/processes/{id}/workspace/shares",
  tags: ["workspace"],
  summary: "The shares a process has granted",
  security: BEARER,
  request: { params: IdParam },
  responses: { 200: json(ShareListSchema, "Every share"), ...problems(401, 403, 404) },
});

workspaceRoutes.openapi(sharesRoute, async (c) => {
  const { id } = c.req.valid("param");
  return c.json(await listShares(c.env, c.var.db, c.var.principal, { processId: id }), 200);
});

const usageRoute = createRoute({
  method: "get",
  path: "/v1/processes/{id}/workspace/usage",
  tags: ["workspace"],
  summary: "What the process's workspace, and its tenant's, hold against their quotas",
  security: BEARER,
  request: { params: IdParam },
  responses: { 200: json(UsageSchema, "Usage and limits"), ...problems(401, 403, 404) },
});

workspaceRoutes.openapi(usageRoute, async (c) => {
  const { id } = c.req.valid("param");
  return c.json(await workspaceUsage(c.env, c.var.db, c.var.principal, { processId: id }), 200);
});
