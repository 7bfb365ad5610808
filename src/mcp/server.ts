/**
 * The MCP server behind /mcp: Streamable HTTP in stateless mode, one server and transport per
 * request. A Worker isolate may serve any request, and nothing here needs to outlive one, so
 * there are no sessions to pin to an isolate or store; every request carries its own bearer
 * credential and is authorised on its own. Responses are plain JSON (no SSE stream): every
 * call here completes within the request.
 */

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";
import { MAX_BODY_BYTES } from "../api/middleware/json-body.js";
import { API_VERSION } from "../api/version.js";
import type { McpContext } from "./context.js";
import { registerResources } from "./resources.js";
import { registerApprovalTools } from "./tools/approvals.js";
import { registerArtifactTools } from "./tools/artifacts.js";
import { registerBlackboardTools } from "./tools/blackboard.js";
import { registerBusTools } from "./tools/bus.js";
import { registerFleetTools } from "./tools/fleet.js";
import { registerMemoryTools } from "./tools/memory.js";
import { registerPolicyTools } from "./tools/policies.js";
import { registerProcessTools } from "./tools/processes.js";
import { registerRegistryTools } from "./tools/registry.js";
import { registerRolloutTools } from "./tools/rollouts.js";
import { registerWorkspaceTools } from "./tools/workspace.js";

export const MCP_SERVER_NAME = "edgekernel";

const INSTRUCTIONS =
  "edgekernel runs LLM agents as processes. list_agent_types shows what you can start; " +
  "spawn_process starts one; get_process and the edgekernel://process/{id} resources show its " +
  "state and event log; pause_process, resume_process and terminate_process signal it. " +
  "For the fleet's Linux schedulers: list_nodes and workload_profile observe, search_policies " +
  "and get_policy pick, submit_policy writes, verify_policy and verification_status verify, " +
  "deploy_policy rolls a signed version out (canaries first), rollout_status follows it, " +
  "stop_rollout and rollback_rollout end it, record_outcome records how a policy did.";

/**
 * A server with every tool and resource, bound to one request's caller.
 *
 * @example const server = createMcpServer(ctx); await server.connect(transport)
 */
export function createMcpServer(ctx: McpContext): McpServer {
  const server = new McpServer(
    { name: MCP_SERVER_NAME, title: "edgekernel", version: API_VERSION },
    {
      capabilities: { tools: {}, resources: {} },
      instructions: INSTRUCTIONS,
      // The SDK's default validator (Ajv) compiles code at run time, which Workers forbid.
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    },
  );
  registerProcessTools(server, ctx);
  registerRegistryTools(server, ctx);
  registerApprovalTools(server, ctx);
  registerBlackboardTools(server, ctx);
  registerArtifactTools(server, ctx);
  registerMemoryTools(server, ctx);
  registerBusTools(server, ctx);
  registerWorkspaceTools(server, ctx);
  registerFleetTools(server, ctx);
  registerPolicyTools(server, ctx);
  registerRolloutTools(server, ctx);
  registerResources(server, ctx);
  return server;
}

/**
 * Answers one Streamable HTTP POST. GET (a standalone SSE stream) and DELETE (ending a session)
 * are 405: a stateless server has neither, which the spec allows.
 *
 * @example return handleMcpRequest(c.req.raw, ctx)
 */
export async function handleMcpRequest(request: Request, ctx: McpContext): Promise<Response> {
  if (request.method !== "POST") {
    return Response.json(
      {
        jsonrpc: "2.0",
        error: { code: -32000, message: "Method not allowed: this server is stateless; POST only" },
        id: null,
      },
      { status: 405, headers: { allow: "POST" } },
    );
  }
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
    maxRequestBodySize: MAX_BODY_BYTES,
  });
  const server = createMcpServer(ctx);
  await server.connect(transport);
  try {
    return await transport.handleRequest(request);
  } finally {
    // In JSON mode the response is complete once handleRequest resolves.
    await server.close();
  }
}
