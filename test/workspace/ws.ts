/** Helpers for the workspace tests: raw-byte requests, agent keys, quota overrides. */

import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { call, defineType, spawnIdle, type TestTenant } from "../helpers";

export const WS_CAPS = ["proc.finish", "proc.sleep", "ws.read", "ws.write", "ws.share"];

/** Sends one request with a raw body and returns the raw response. */
export async function raw(
  method: string,
  path: string,
  token: string,
  body?: BodyInit | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  return (exports as unknown as { default: Fetcher }).default.fetch(
    `https://edgekernel.test${path}`,
    {
      method,
      headers: { authorization: `Bearer ${token}`, ...headers },
      body: body ?? undefined,
    },
  );
}

/** A waiting process whose type holds the workspace capabilities. */
export async function wsProcess(t: TestTenant, typeName?: string): Promise<string> {
  const type = typeName ?? (await defineType(t, { capabilities: WS_CAPS }));
  return (await spawnIdle(t.operator, { type })).id;
}

/** A type with the workspace capabilities (one per tenant is enough). */
export async function wsType(t: TestTenant): Promise<string> {
  return defineType(t, { capabilities: WS_CAPS });
}

/** An agent key acting as `processId`. */
export async function agentKey(t: TestTenant, processId: string): Promise<string> {
  const key = await call<{ secret: string }>("POST", "/v1/keys", {
    token: t.admin,
    body: { name: "agent", role: "operator", processId },
  });
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  return key.body.secret;
}

/** Sets a tenant's workspace limits (null: the default). */
export async function setLimits(
  tenantId: string,
  limits: {
    processMaxBytes?: number;
    processMaxObjects?: number;
    tenantMaxBytes?: number;
    tenantMaxObjects?: number;
  },
): Promise<void> {
  await (env as unknown as { DB: D1Database }).DB.prepare(
    `INSERT OR REPLACE INTO workspace_limits
       (tenant_id, process_max_bytes, process_max_objects, tenant_max_bytes, tenant_max_objects)
     VALUES (?, ?, ?, ?, ?)`,
  )
    .bind(
      tenantId,
      limits.processMaxBytes ?? null,
      limits.processMaxObjects ?? null,
      limits.tenantMaxBytes ?? null,
      limits.tenantMaxObjects ?? null,
    )
    .run();
}

/** The R2 objects under a process's workspace prefix. */
export async function blobsOf(tenantId: string, processId: string): Promise<string[]> {
  const list = await (env as unknown as { BLOBS: R2Bucket }).BLOBS.list({
    prefix: `ws/${tenantId}/${processId}/`,
  });
  return list.objects.map((o) => o.key);
}

/** `n` deterministic bytes. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export const filePath = (id: string, path: string) => `/v1/processes/${id}/workspace/files/${path}`;

/** True when two byte arrays are equal (vitest's deep equality is too slow for MiBs). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
