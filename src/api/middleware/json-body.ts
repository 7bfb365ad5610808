/**
 * Guards request bodies before any route sees them: at most MAX_BODY_BYTES (413), JSON only
 * (415), well-formed (400). Routes then validate the parsed value with their zod schema.
 */

import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../context.js";
import { ApiError } from "../problem.js";

/** 1 MiB: agent goals and configs are small; bulk bytes go to workspaces and artifacts. */
export const MAX_BODY_BYTES = 1024 * 1024;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json(?:\s*;|$)/i;
const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** True for `application/json` and `application/*+json`, with or without parameters. */
export function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && JSON_TYPE.test(value.trim());
}

/** The size limit: rejects by Content-Length at once, and counts streamed bodies as they arrive. */
export function limitBody(): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError("payload_too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`, {
        extra: { limitBytes: MAX_BODY_BYTES },
      });
    },
  });
}

/** Content type and syntax. Leaves the text cached on the request for the zod validators. */
export function requireJsonBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!METHODS_WITH_BODY.has(c.req.method)) return next();
    const text = await c.req.text();
    const contentType = c.req.header("content-type");
    if (text.length === 0) {
      if (isJsonContentType(contentType)) {
        throw new ApiError("malformed_json", "the body is empty but declared as JSON");
      }
      return next();
    }
    if (!isJsonContentType(contentType)) {
      throw new ApiError(
        "unsupported_media_type",
        `expected content-type application/json, got ${contentType ?? "none"}`,
      );
    }
    try {
      JSON.parse(text);
    } catch (error) {
      throw new ApiError(
        "malformed_json",
        `the body is not valid JSON: ${(error as Error).message}`,
      );
    }
    return next();
  };
}
