/** Helpers for the A2A tests: raw JSON-RPC calls, SSE reading, and the SDK client on the Worker. */

import {
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
} from "@a2a-js/sdk/client";
import { finishTurn, type TestTenant } from "../helpers";
import { ORIGIN, workerFetch } from "../mcp/client";

export { ORIGIN };

export interface RpcReply {
  status: number;
  headers: Headers;
  body: {
    jsonrpc: string;
    id: unknown;
    result?: Record<string, unknown> & {
      task?: Task;
      tasks?: Task[];
      nextPageToken?: string;
    };
    error?: { code: number; message: string; data?: Array<Record<string, unknown>> };
  };
}

export interface Task {
  id: string;
  contextId: string;
  status: {
    state: string;
    message?: { parts: Array<{ text?: string }>; metadata?: Record<string, unknown> };
  };
  artifacts?: Array<{ artifactId: string; parts: Array<{ text?: string; data?: unknown }> }>;
  history?: unknown[];
  metadata: Record<string, unknown>;
}

let nextId = 1;

/** Sends a raw body (a string) or a JSON-RPC request to an A2A endpoint. */
export async function rawRpc(
  path: string,
  token: string | undefined,
  body: string,
  headers: Record<string, string> = {},
): Promise<RpcReply> {
  const res = await workerFetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // left as text
  }
  return { status: res.status, headers: res.headers, body: parsed as RpcReply["body"] };
}

/** One JSON-RPC call; the reply's id is checked by the caller when it matters. */
export async function rpc(
  path: string,
  token: string | undefined,
  method: string,
  params: unknown,
): Promise<RpcReply> {
  const id = nextId++;
  return rawRpc(path, token, JSON.stringify({ jsonrpc: "2.0", id, method, params }));
}

/** A user message with one text part. */
export function userMessage(text: string, extra: Record<string, unknown> = {}) {
  return {
    messageId: crypto.randomUUID(),
    role: "ROLE_USER",
    parts: [{ text }],
    ...extra,
  };
}

/** The data frames of an SSE response, parsed. */
export async function sseEvents(res: Response): Promise<Array<Record<string, unknown>>> {
  const text = await res.text();
  return text
    .split("\n\n")
    .map((frame) => frame.trim())
    .filter((frame) => frame.startsWith("data:"))
    .map((frame) => JSON.parse(frame.slice("data:".length).trim()) as Record<string, unknown>);
}

/** A fetch that authenticates as `token` and hands the request to the Worker. */
export function authedFetch(token: string): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) => {
    const req = new Request(input, init);
    req.headers.set("authorization", `Bearer ${token}`);
    return workerFetch(req);
  }) as typeof fetch;
}

/** The official SDK client for agent type `type`, resolved from its card, as `token`. */
export async function sdkClient(token: string, type: string) {
  const fetchImpl = authedFetch(token);
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
    }),
  );
  return factory.createFromUrl(`${ORIGIN}/a2a/${type}/`);
}

/** Typed alias so tests can take the tenant. */
export type { TestTenant };
/** A scripted turn that finishes with `result`. */
export { finishTurn };
