/**
 * The consent page at /oauth/authorize. GET validates the authorization request (client,
 * redirect URI, PKCE) and shows which client asks and where access would go; POST takes the
 * person's decision. To allow, they authenticate with an API key of the tenant to connect
 * (admin or operator) and pick the role to grant, at most their key's own. The grant is bound
 * to that tenant, role and key, and audited as `oauth.grant`.
 */

import {
  AuthorizationError,
  type AuthRequest,
  CimdFetchError,
  type OAuthHelpers,
} from "@cloudflare/workers-oauth-provider";
import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv, Principal } from "../../api/context.js";
import { resolvePrincipal } from "../../api/middleware/auth.js";
import { ApiError } from "../../api/problem.js";
import { KEY_ROLES, type KeyRole } from "../../store/api-keys.js";
import { writeAudit } from "../../store/audit.js";
import { consentPage, errorPage } from "./page.js";
import {
  AUTHORIZE_PATH,
  authorizationServerFor,
  type GrantProps,
  ROLE_SCOPE_PREFIX,
  roleScope,
} from "./server.js";

/** Roles whose keys may approve a client. */
export const APPROVER_ROLES: readonly KeyRole[] = ["admin", "operator"];
/** The audit action of an approval (allowed or refused). */
export const GRANT_AUDIT_ACTION = "oauth.grant";

type Ctx = Context<AppEnv>;

function html(body: string, status: number, headers = new Headers()): Response {
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("cache-control", "no-store");
  headers.set(
    "content-security-policy",
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  );
  return new Response(body, { status, headers });
}

function isRole(value: string): value is KeyRole {
  return (KEY_ROLES as readonly string[]).includes(value);
}

/** The role a client asked for in its scope, else the least privileged one. */
function requestedRole(request: AuthRequest): KeyRole {
  for (const scope of request.scope) {
    const role = scope.startsWith(ROLE_SCOPE_PREFIX) ? scope.slice(ROLE_SCOPE_PREFIX.length) : "";
    if (isRole(role)) return role;
  }
  return "reader";
}

/** Shows the consent form for a validated request, with a fresh browser-bound handle. */
async function showConsent(
  oauth: OAuthHelpers,
  request: AuthRequest,
  query: string,
  options: { role?: KeyRole; error?: string; status?: number } = {},
): Promise<Response> {
  const details = await oauth.describeConsent(request);
  const consent = await oauth.beginConsent(request);
  const page = consentPage({
    details,
    handle: consent.handle,
    query,
    role: options.role ?? requestedRole(request),
    error: options.error,
  });
  return html(page, options.status ?? 200, consent.headers);
}

/** What to answer when the request cannot go on: back to the client if that is safe. */
function failure(error: unknown): Response {
  if (error instanceof AuthorizationError) {
    if (error.redirectTo) return Response.redirect(error.redirectTo, 302);
    return html(errorPage(error.description), 400);
  }
  if (error instanceof CimdFetchError) {
    return html(errorPage("This client's metadata document could not be fetched."), 400);
  }
  throw error;
}

async function auditGrant(
  c: Ctx,
  principal: Principal | null,
  status: number,
  detail: Record<string, unknown>,
): Promise<void> {
  try {
    await writeAudit(
      c.var.db,
      {
        tenantId: principal?.kind === "key" ? principal.tenantId : null,
        actor: principal?.actor ?? "anonymous",
        actorRole: principal?.role ?? "none",
        action: GRANT_AUDIT_ACTION,
        target: typeof detail.clientId === "string" ? detail.clientId : null,
        decision: status < 400 ? "allow" : status === 401 || status === 403 ? "deny" : "error",
        status,
        requestId: c.var.requestId,
        detail,
      },
      Date.now(),
    );
  } catch (error) {
    console.error("audit write failed", GRANT_AUDIT_ACTION, c.var.requestId, error);
  }
}

/** The key behind an approval, or the reason it cannot approve (with its status). */
async function approver(
  c: Ctx,
  apiKey: string,
  role: KeyRole,
): Promise<{ principal: Principal | null; refusal?: { status: number; message: string } }> {
  let principal: Principal;
  try {
    principal = await resolvePrincipal(c.env.ADMIN_TOKEN, apiKey, c.var.db);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      return {
        principal: null,
        refusal: { status: 401, message: `That key was not accepted: ${error.message}.` },
      };
    }
    throw error;
  }
  if (principal.kind === "system" || principal.processId !== null) {
    return {
      principal,
      refusal: {
        status: 403,
        message: "Use an API key of the tenant to connect, not an agent key or the admin token.",
      },
    };
  }
  if (!APPROVER_ROLES.includes(principal.role)) {
    return {
      principal,
      refusal: {
        status: 403,
        message: `A ${principal.role} key cannot approve clients; use an admin or operator key.`,
      },
    };
  }
  if (KEY_ROLES.indexOf(role) < KEY_ROLES.indexOf(principal.role)) {
    return {
      principal,
      refusal: {
        status: 403,
        message: `Your key is ${principal.role}: it can grant at most that role.`,
      },
    };
  }
  return { principal };
}

/** GET and POST /oauth/authorize, mounted by `oauthRoutes`. */
export const consentRoutes = new Hono<AppEnv>();

consentRoutes.get(AUTHORIZE_PATH, async (c) => {
  const url = new URL(c.req.url);
  const server = authorizationServerFor(url.origin);
  if (!server)
    return html(errorPage("OAuth needs https (or a loopback host in development)."), 404);
  const oauth = server.getOAuthApi(c.env);
  try {
    const request = await oauth.parseAuthRequest(c.req.raw);
    return await showConsent(oauth, request, url.search.slice(1));
  } catch (error) {
    return failure(error);
  }
});

consentRoutes.post(AUTHORIZE_PATH, async (c) => {
  const url = new URL(c.req.url);
  const server = authorizationServerFor(url.origin);
  if (!server)
    return html(errorPage("OAuth needs https (or a loopback host in development)."), 404);
  const oauth = server.getOAuthApi(c.env);
  const form = await c.req.parseBody();
  const field = (name: string) => (typeof form[name] === "string" ? (form[name] as string) : "");
  const handle = field("handle");
  const query = field("query");
  const roleField = field("role");
  try {
    if (field("decision") !== "approve") {
      const denied = await oauth.denyConsent(c.req.raw, handle);
      return new Response(null, { status: 302, headers: denied.headers });
    }
    const role: KeyRole = isRole(roleField) ? roleField : "reader";
    const { principal, refusal } = await approver(c, field("api_key"), role);
    if (refusal) {
      // Show the form again, from the same (validated) request, so a typo does not end the flow.
      const again = await oauth.parseAuthRequest(
        new Request(`${url.origin}${AUTHORIZE_PATH}?${query}`),
      );
      await auditGrant(c, principal, refusal.status, { clientId: again.clientId, role });
      return await showConsent(oauth, again, query, {
        role,
        error: refusal.message,
        status: refusal.status,
      });
    }
    if (principal?.kind !== "key") throw new Error("unreachable: approver returned no key");
    const approved = await oauth.approveConsent(c.req.raw, handle, { scope: [roleScope(role)] });
    const props: GrantProps = { tenantId: principal.tenantId, role, keyId: principal.keyId };
    const { redirectTo } = await oauth.completeAuthorization({
      request: approved.request,
      userId: principal.keyId,
      metadata: { tenantId: principal.tenantId, role },
      scope: approved.request.scope,
      props,
    });
    await auditGrant(c, principal, 302, {
      clientId: approved.request.clientId,
      role,
      redirectHost: new URL(approved.request.redirectUri).host,
    });
    approved.headers.set("location", redirectTo);
    return new Response(null, { status: 302, headers: approved.headers });
  } catch (error) {
    return failure(error);
  }
});
