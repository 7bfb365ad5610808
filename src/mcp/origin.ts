/**
 * Origin validation for /mcp (MCP 2025-11-25, Streamable HTTP, security warning): a browser
 * page must not reach the endpoint from an origin we did not allow, which is what defeats DNS
 * rebinding. Requests without `Origin` (non-browser clients) pass. Allowed are the origins in
 * `MCP_ALLOWED_ORIGINS` and, when the Worker itself is addressed on a loopback host (local
 * development), loopback origins. The request's own Host never counts: a rebinding attacker
 * controls it, and it agrees with the attacker's Origin.
 */

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../api/context.js";

/** Request headers a browser MCP client sends, allowed on a preflight. */
const ALLOWED_REQUEST_HEADERS =
  "authorization, content-type, accept, mcp-protocol-version, mcp-session-id, last-event-id, x-request-id";
/** Response headers a browser client may read. */
const EXPOSED_HEADERS = "mcp-session-id, mcp-protocol-version, www-authenticate, x-request-id";
/** How long a browser may cache a preflight answer. */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * True for `localhost`, `*.localhost`, 127.0.0.0/8 and `[::1]`.
 *
 * @example isLoopbackHost("127.0.0.1") // true
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127(?:\.\d{1,3}){3}$/.test(host) ||
    host === "[::1]"
  );
}

/**
 * `MCP_ALLOWED_ORIGINS` as a set of normalised origins; malformed entries are ignored.
 *
 * @example parseAllowedOrigins("https://app.example/, https://b.example") // Set { "https://app.example", "https://b.example" }
 */
export function parseAllowedOrigins(value: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const raw of (value ?? "").split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    try {
      out.add(new URL(entry).origin);
    } catch {
      console.warn("MCP_ALLOWED_ORIGINS: ignoring malformed origin", entry);
    }
  }
  return out;
}

/**
 * Whether a browser at `origin` may call the endpoint at `requestUrl`.
 *
 * @example originAllowed("http://localhost:6274", new URL("http://127.0.0.1:8787/mcp"), new Set()) // true
 */
export function originAllowed(origin: string, requestUrl: URL, allowed: Set<string>): boolean {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null"
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return false;
  if (allowed.has(parsed.origin)) return true;
  return isLoopbackHost(requestUrl.hostname) && isLoopbackHost(parsed.hostname);
}

/**
 * Refuses a disallowed `Origin` with 403 and answers CORS (preflight included) for allowed
 * ones. Mount it on /mcp before authentication.
 *
 * @example app.use("/mcp", checkOrigin())
 */
export function checkOrigin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (origin === undefined) return next();
    const allowed = parseAllowedOrigins(c.env.MCP_ALLOWED_ORIGINS);
    if (!originAllowed(origin, new URL(c.req.url), allowed)) {
      return c.json(
        {
          jsonrpc: "2.0",
          error: { code: -32000, message: `Forbidden: origin ${origin} is not allowed` },
          id: null,
        },
        403,
      );
    }
    if (c.req.method === "OPTIONS") {
      return c.body(null, 204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "POST, GET, DELETE, OPTIONS",
        "access-control-allow-headers": ALLOWED_REQUEST_HEADERS,
        "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
        vary: "origin",
      });
    }
    await next();
    // Copy first: a response's headers may be immutable.
    const res = new Response(c.res.body, c.res);
    res.headers.set("access-control-allow-origin", origin);
    res.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
    res.headers.append("vary", "origin");
    c.res = res;
  };
}
