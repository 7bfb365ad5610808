/** Test helpers: HTTP calls into the Worker under test, and a fresh tenant with one key per role. */

import { exports } from "cloudflare:workers";

export const ADMIN_TOKEN = "test-admin-token";

export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  /** A raw body sent as-is (for malformed-input tests). */
  raw?: BodyInit;
  headers?: Record<string, string>;
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** Sends one request through the Worker's fetch handler and parses a JSON reply. */
export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply<T>> {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("authorization", `Bearer ${options.token}`);
  let body: BodyInit | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const res = await (exports as unknown as { default: Fetcher }).default.fetch(
    `https://edgekernel.test${path}`,
    {
      method,
      headers,
      body,
    },
  );
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Non-JSON replies (the docs page) are returned as text.
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export interface TestTenant {
  id: string;
  name: string;
  admin: string;
  operator: string;
  reader: string;
  keyIds: { admin: string; operator: string; reader: string };
}

let counter = 0;

/** Creates a tenant and an admin, operator and reader key in it. */
export async function newTenant(prefix = "t"): Promise<TestTenant> {
  counter += 1;
  const name = `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
  const tenant = await call<{ id: string }>("POST", "/v1/tenants", {
    token: ADMIN_TOKEN,
    body: { name },
  });
  if (tenant.status !== 201)
    throw new Error(`tenant create failed: ${JSON.stringify(tenant.body)}`);
  const keys: Record<string, { secret: string; id: string }> = {};
  for (const role of ["admin", "operator", "reader"] as const) {
    const key = await call<{ secret: string; id: string }>("POST", "/v1/keys", {
      token: ADMIN_TOKEN,
      body: { tenantId: tenant.body.id, name: role, role },
    });
    if (key.status !== 201) throw new Error(`key create failed: ${JSON.stringify(key.body)}`);
    keys[role] = key.body;
  }
  return {
    id: tenant.body.id,
    name,
    admin: keys.admin!.secret,
    operator: keys.operator!.secret,
    reader: keys.reader!.secret,
    keyIds: { admin: keys.admin!.id, operator: keys.operator!.id, reader: keys.reader!.id },
  };
}

export interface ProcessBody {
  id: string;
  status: string;
  pausedFrom: string | null;
  tenantId: string;
  type: { name: string; version: string };
  labels: Record<string, string>;
  budget: Record<string, unknown>;
  capabilities: string[];
  exitReason: string | null;
  version: number;
}

/** Spawns a process of the built-in `assistant` type (or as `body` says) and returns it. */
export async function spawn(
  token: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Reply<ProcessBody>> {
  return call<ProcessBody>("POST", "/v1/processes", {
    token,
    headers,
    body: { type: "assistant", goal: "summarise the week", ...body },
  });
}
