/**
 * Gives every request an id, echoed as `x-request-id` on every response (errors included) and
 * written to the audit log. A caller's own id is kept when it is short and printable, so
 * clients can correlate their logs with ours.
 */

import type { MiddlewareHandler } from "hono";
import { newId } from "../../kernel/ids.js";
import type { AppEnv } from "../context.js";

export const REQUEST_ID_HEADER = "x-request-id";
const CALLER_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Sets `c.var.requestId` and the response header. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const offered = c.req.header(REQUEST_ID_HEADER);
    const id = offered && CALLER_ID.test(offered) ? offered : newId("request");
    c.set("requestId", id);
    c.set("audit", {});
    await next();
    setHeader(c.res, id, (res) => {
      c.res = res;
    });
  };
}

/** Sets the header, copying the response first when its headers are immutable. */
function setHeader(res: Response, id: string, replace: (res: Response) => void): void {
  // A WebSocket upgrade (101) carries its socket in the response object: never copy it.
  if (res.status === 101) return;
  try {
    res.headers.set(REQUEST_ID_HEADER, id);
  } catch {
    const copy = new Response(res.body, res);
    copy.headers.set(REQUEST_ID_HEADER, id);
    replace(copy);
  }
}
