/**
 * A small external MCP server for tests: the kind of tool server a tenant registers as a
 * capability provider. Plain Node with the MCP SDK's own server over Streamable HTTP
 * (stateless: a fresh server and transport per request).
 *
 * Tools:
 *   echo({ text })          → { text }                      (harmless)
 *   deploy({ service })     → { service, deployment: N }    (counts calls per service, so tests
 *                                                             can check a call ran exactly once)
 * Control: GET /__calls → { calls: [{ tool, arguments }] } in arrival order; GET /__health.
 * Started by test/standin/global-setup.ts (port provided as `standinMcpPort`), or standalone:
 * `node test/standin/mcp-tool-server.mjs [--port N]`.
 */

import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

/** Starts the server on `port` (0: any free port). */
export async function startMcpToolServer(port = 0) {
  const calls = [];
  const deployments = new Map();

  function buildServer() {
    const server = new McpServer({ name: "edgekernel-test-tools", version: "1.0.0" });
    server.registerTool(
      "echo",
      { description: "Echo the text back.", inputSchema: { text: z.string() } },
      async ({ text }) => {
        calls.push({ tool: "echo", arguments: { text } });
        return { content: [{ type: "text", text }], structuredContent: { text } };
      },
    );
    server.registerTool(
      "deploy",
      {
        description: "Deploy a service (counts deployments).",
        inputSchema: { service: z.string() },
      },
      async ({ service }) => {
        calls.push({ tool: "deploy", arguments: { service } });
        const n = (deployments.get(service) ?? 0) + 1;
        deployments.set(service, n);
        return {
          content: [{ type: "text", text: `deployed ${service} (#${n})` }],
          structuredContent: { service, deployment: n },
        };
      },
    );
    return server;
  }

  const http = createServer(async (req, res) => {
    if (req.url === "/__health") return res.end("ok");
    if (req.url === "/__calls") {
      res.setHeader("content-type", "application/json");
      return res.end(JSON.stringify({ calls }));
    }
    if (!req.url?.startsWith("/mcp")) {
      res.statusCode = 404;
      return res.end();
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString("utf8");
    const body = text ? JSON.parse(text) : undefined;
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise((resolve) => http.listen(port, "127.0.0.1", resolve));
  return {
    port: http.address().port,
    close: () => new Promise((resolve) => http.close(() => resolve())),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const i = process.argv.indexOf("--port");
  const server = await startMcpToolServer(i > 0 ? Number(process.argv[i + 1]) : 0);
  console.log(JSON.stringify({ port: server.port }));
}
