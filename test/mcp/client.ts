/**
 * An MCP client for tests: the SDK's own `Client` over `StreamableHTTPClientTransport`, whose
 * fetch calls the Worker under test directly (no network).
 */

import { exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  StreamableHTTPClientTransport,
  type StreamableHTTPClientTransportOptions,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker";

export const ORIGIN = "https://edgekernel.test";
export const MCP_URL = `${ORIGIN}/mcp`;

/** A fetch that hands every request to the Worker's own fetch handler. */
export async function workerFetch(input: string | URL | Request, init?: RequestInit) {
  const worker = (exports as unknown as { default: Fetcher }).default;
  return worker.fetch(new Request(input, init));
}

/**
 * A connected client authenticated with `token` (omit it to connect with none, or pass
 * transport options such as an OAuth provider).
 */
export async function connect(
  token?: string,
  options: Partial<StreamableHTTPClientTransportOptions> & { url?: string } = {},
): Promise<Client> {
  const { url, ...transportOptions } = options;
  const transport = new StreamableHTTPClientTransport(new URL(url ?? MCP_URL), {
    fetch: workerFetch,
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
    ...transportOptions,
  });
  const client = new Client(
    { name: "edgekernel-test", version: "1.0.0" },
    // Ajv, the SDK's default, cannot compile schemas inside workerd.
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  await client.connect(transport);
  return client;
}

/** A tool result's structured content, failing the test when the call failed. */
export function structured<T = Record<string, unknown>>(result: unknown): T {
  const r = result as CallToolResult;
  if (r.isError) throw new Error(`tool failed: ${JSON.stringify(r.content)}`);
  return r.structuredContent as T;
}

/** The text of a tool result's first content block. */
export function text(result: unknown): string {
  const first = (result as CallToolResult).content[0];
  return first?.type === "text" ? first.text : "";
}

/** A raw JSON-RPC POST to /mcp (for what the SDK client never sends). */
export async function rawPost(
  body: unknown,
  headers: Record<string, string> = {},
  url = MCP_URL,
): Promise<Response> {
  return workerFetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

/** An `initialize` request body asking for `protocolVersion`. */
export function initializeBody(protocolVersion: string) {
  return {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion,
      capabilities: {},
      clientInfo: { name: "raw-test", version: "1.0.0" },
    },
  };
}
