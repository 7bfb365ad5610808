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

/** A script whose first turn sleeps for an hour: the process settles in `waiting` and stays. */
export const SLEEP_SCRIPT = [{ toolCalls: [{ name: "sleep", arguments: { ms: 3_600_000 } }] }];

/** Polls a process until `done(record)` holds; throws with the last record after `tries`. */
export async function until(
  token: string,
  id: string,
  done: (p: ProcessBody) => boolean,
  tries = 200,
): Promise<ProcessBody> {
  let last: ProcessBody | undefined;
  for (let i = 0; i < tries; i++) {
    const res = await call<ProcessBody>("GET", `/v1/processes/${id}`, { token });
    last = res.body;
    if (res.status === 200 && done(res.body)) return res.body;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`process ${id} did not reach the expected state: ${JSON.stringify(last)}`);
}

/** Spawns a process that sleeps for an hour and waits until it is asleep (`waiting`). */
export async function spawnIdle(
  token: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<ProcessBody> {
  const res = await spawn(token, { script: SLEEP_SCRIPT, ...body }, headers);
  if (res.status !== 201) throw new Error(`spawn failed: ${JSON.stringify(res.body)}`);
  return until(token, res.body.id, (p) => p.status === "waiting");
}

const DEFAULT_TYPE_BUDGET = {
  maxTokens: 100_000,
  maxToolCalls: 50,
  wallClockMs: 600_000,
  maxCostMicroUsd: 1_000_000,
};

/** Registers an agent type in the tenant and returns its name. */
export async function defineType(
  t: TestTenant,
  fields: {
    model?: string;
    pool?: string;
    capabilities?: string[];
    script?: unknown[];
    defaultBudget?: Record<string, number>;
  },
): Promise<string> {
  const name = `t-${crypto.randomUUID().slice(0, 12)}`;
  const res = await call("POST", "/v1/agent-types", {
    token: t.operator,
    body: {
      name,
      version: "1.0.0",
      model: fields.model ?? "scripted",
      capabilities: fields.capabilities ?? ["proc.finish", "proc.sleep", "proc.spawn", "proc.wait"],
      defaultBudget: { ...DEFAULT_TYPE_BUDGET, ...fields.defaultBudget },
      ...(fields.pool ? { pool: fields.pool } : {}),
      ...(fields.script ? { script: fields.script } : {}),
    },
  });
  if (res.status !== 201) throw new Error(`agent type failed: ${JSON.stringify(res.body)}`);
  return name;
}

/** A pool name of its own for one test, configured by the system administrator. */
export async function newPool(config: Record<string, unknown>): Promise<string> {
  const pool = `test-${crypto.randomUUID().slice(0, 12)}`;
  const res = await call("PUT", `/v1/scheduler/pools/${pool}`, {
    token: ADMIN_TOKEN,
    body: config,
  });
  if (res.status !== 200) throw new Error(`pool config failed: ${JSON.stringify(res.body)}`);
  return pool;
}

/** A pool's current stats. */
export async function poolStats(pool: string): Promise<
  Record<string, unknown> & {
    totals: Record<string, number>;
    recentGrants: Array<{ processId: string; tenantId: string }>;
  }
> {
  const res = await call<{ items: Array<Record<string, unknown>> }>("GET", "/v1/scheduler/pools", {
    token: ADMIN_TOKEN,
  });
  const found = res.body.items.find((p) => p.pool === pool);
  if (!found) throw new Error(`no pool ${pool}`);
  return found as never;
}

/** A scripted turn that calls `finish(result)`. */
export function finishTurn(result: unknown): Record<string, unknown> {
  return { toolCalls: [{ name: "finish", arguments: { result } }] };
}

/** A process record with the fields the agent-loop tests read. */
export type FullProcess = ProcessBody & {
  usage: { tokensIn: number; tokensOut: number; toolCalls: number; costMicroUsd: number };
  stats: { steps: number; modelCalls: number; waitMs: number; runMs: number; retries: number };
  result: unknown;
  note: string | null;
  pendingPause: unknown;
  waitingOn: { kind: string; approvalId?: string } | null;
};

/** True once a process has reached a terminal state. */
export const ended = (p: ProcessBody) =>
  ["exited", "terminated", "failed", "budget_exhausted"].includes(p.status);

export interface EventBody {
  seq: number;
  event: string;
  reason: string | null;
  from: string | null;
  to: string;
}

/** The first 100 events of a process's log. */
export async function eventsOf(token: string, id: string): Promise<EventBody[]> {
  const res = await call<{ items: EventBody[] }>("GET", `/v1/processes/${id}/events?limit=100`, {
    token,
  });
  return res.body.items;
}
