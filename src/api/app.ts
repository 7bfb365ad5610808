/**
 * The HTTPS API: middleware in the order each request meets it, the routes, the OpenAPI
 * document generated from the same zod schemas the routes validate with, and the docs page.
 *
 *   request-id → db → audit → body limit → JSON guard (not /mcp, /oauth) → (/v1: authenticate) → route
 *   /mcp: … → origin check → bearer API key or OAuth token → MCP Streamable HTTP (src/mcp/)
 */

import { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { except } from "hono/combine";
import { HTTPException } from "hono/http-exception";
import { KernelError } from "../kernel/errors.js";
import { oauthRoutes } from "../mcp/oauth/routes.js";
import { resolveOAuthToken } from "../mcp/oauth/tokens.js";
import { mcpRoutes } from "../mcp/routes.js";
import { openDb } from "../store/db.js";
import type { AppEnv } from "./context.js";
import { audit } from "./middleware/audit.js";
import { authenticate } from "./middleware/auth.js";
import { limitBody, MAX_BODY_BYTES, requireJsonBody } from "./middleware/json-body.js";
import { requestId } from "./middleware/request-id.js";
import { ApiError, fromKernelError, fromZodIssues, problemResponse } from "./problem.js";
import { a2aRoutes } from "./routes/a2a.js";
import { agentTypeRoutes } from "./routes/agent-types.js";
import { approvalRoutes } from "./routes/approvals.js";
import { ARTIFACT_RAW_BODY_PATHS, artifactRoutes } from "./routes/artifacts.js";
import { auditRoutes } from "./routes/audit.js";
import { blackboardRoutes } from "./routes/blackboard.js";
import { capabilityRoutes } from "./routes/capabilities.js";
import { FLEET_NODE_PATHS, FLEET_RAW_BODY_PATHS, fleetRoutes } from "./routes/fleet.js";
import { fleetProfileRoutes } from "./routes/fleet-profile.js";
import { healthRoutes } from "./routes/health.js";
import { keyRoutes } from "./routes/keys.js";
import { memoryRoutes } from "./routes/memory.js";
import { messageRoutes } from "./routes/messages.js";
import { policyRoutes } from "./routes/policies.js";
import { processRoutes } from "./routes/processes.js";
import { purgeRoutes } from "./routes/purge.js";
import { rolloutRoutes } from "./routes/rollouts.js";
import { schedPolicyRoutes } from "./routes/sched-policies.js";
import { schedulerRoutes } from "./routes/scheduler.js";
import { tenantRoutes } from "./routes/tenants.js";
import { topicRoutes } from "./routes/topics.js";
import { WORKSPACE_FILES_PATH, workspaceRoutes } from "./routes/workspace.js";
import { API_VERSION } from "./version.js";

export { API_VERSION };

/**
 * Builds the application. One instance per isolate is enough: it holds no request state.
 *
 * @example export default { fetch: createApp().fetch }
 */
export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    // Every zod failure, in any request part, becomes a 422 naming each field at fault.
    defaultHook: (result) => {
      if (!result.success) {
        const where =
          result.target === "json" ? "body" : (result.target as "query" | "param" | "header");
        throw fromZodIssues(result.error.issues, where);
      }
    },
  });

  app.use("*", requestId());
  app.use("*", async (c, next) => {
    c.set("db", openDb(c.env.DB));
    await next();
  });
  app.use("*", audit());
  // Raw-byte uploads carry their own (larger) size limits and content types.
  const rawBodyPaths = [...ARTIFACT_RAW_BODY_PATHS, WORKSPACE_FILES_PATH, ...FLEET_RAW_BODY_PATHS];
  app.use("*", except(rawBodyPaths, limitBody()));
  // /mcp and /a2a parse their own JSON-RPC bodies (and answer JSON-RPC errors); /oauth takes form posts.
  app.use("*", except(["/mcp", "/oauth/*", "/a2a", "/a2a/*", ...rawBodyPaths], requireJsonBody()));
  // Fleet nodes present their own credential (or none, to enroll): see routes/fleet.ts.
  app.use("/v1/*", except(FLEET_NODE_PATHS, authenticate()));

  app.route("/", healthRoutes);
  app.route("/", mcpRoutes({ resolveOAuthToken }));
  app.route("/", oauthRoutes);
  app.route("/", processRoutes);
  app.route("/", purgeRoutes);
  app.route("/", blackboardRoutes);
  app.route("/", artifactRoutes);
  app.route("/", memoryRoutes);
  app.route("/", agentTypeRoutes);
  app.route("/", tenantRoutes);
  app.route("/", keyRoutes);
  app.route("/", policyRoutes);
  app.route("/", schedPolicyRoutes);
  app.route("/", rolloutRoutes);
  app.route("/", auditRoutes);
  app.route("/", schedulerRoutes);
  app.route("/", approvalRoutes);
  app.route("/", capabilityRoutes);
  app.route("/", messageRoutes);
  app.route("/", topicRoutes);
  app.route("/", a2aRoutes);
  app.route("/", workspaceRoutes);
  app.route("/", fleetRoutes);
  app.route("/", fleetProfileRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description:
      "An API key (`ek_…`) or, for tenant and key administration, the ADMIN_TOKEN secret",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "nodeCredential", {
    type: "http",
    scheme: "bearer",
    description: "A fleet node's credential (`nk_…`), issued once by POST /v1/fleet/enroll",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "edgekernel",
      version: API_VERSION,
      description: `An operating system for LLM agents. Errors are \`application/problem+json\` with a stable \`code\`; bodies are JSON up to ${MAX_BODY_BYTES} bytes.`,
    },
  });
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "edgekernel API" }));

  app.notFound((c) => {
    throw new ApiError("not_found", `no route ${c.req.method} ${c.req.path}`);
  });
  app.onError((error, c) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) console.error("unhandled error", c.var.requestId, error);
    const res = problemResponse(apiError, c.var.requestId ?? "", c.req.path);
    if (apiError.status === 401) res.headers.set("www-authenticate", 'Bearer realm="edgekernel"');
    return res;
  });
  return app;
}

/** Maps anything thrown to the API error model; only genuine faults become 500. */
function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof KernelError) return fromKernelError(error);
  if (error instanceof Error && error.name === "BodyLimitError") {
    return new ApiError("payload_too_large", `request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  if (error instanceof HTTPException) {
    if (error.status === 413) return new ApiError("payload_too_large", error.message);
    if (error.status === 415) return new ApiError("unsupported_media_type", error.message);
    if (error.status === 400) {
      return /json/i.test(error.message)
        ? new ApiError("malformed_json", error.message)
        : new ApiError("bad_request", error.message);
    }
    if (error.status === 404) return new ApiError("not_found", error.message);
  }
  return new ApiError(
    "internal",
    "an internal error occurred; quote the request id when reporting it",
  );
}
