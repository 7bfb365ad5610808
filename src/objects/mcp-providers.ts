/**
 * External MCP servers as capability providers. A tenant registers a server by URL under a
 * namespace; the kernel connects to it as an MCP client, lists its tools, and registers each
 * as a capability `namespace.tool` with a risk level. From then on its tools are governed
 * exactly like built-ins: entitlements, rate limits, policy and the human gate all apply, and
 * the kernel makes the call on the process's behalf.
 */

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { and, eq } from "drizzle-orm";
import { KernelError } from "../kernel/errors.js";
import { newId } from "../kernel/ids.js";
import type { RiskLevel } from "../kernel/syscall/policy.js";
import { type Capability, upsertCapabilities } from "../store/capabilities.js";
import type { Db } from "../store/db.js";
import { mcpProviders } from "../store/schema.js";

/** Namespaces the kernel keeps for itself. */
export const RESERVED_NAMESPACES = ["proc", "mcp", "kernel", "system"];
/** Tools one provider may contribute. */
export const MAX_PROVIDER_TOOLS = 200;
/** How long a call to an external tool may take. */
export const PROVIDER_CALL_TIMEOUT_MS = 60_000;

export interface ProviderRegistration {
  namespace: string;
  url: string;
  /** Risk of every tool unless `toolRisk` names it. */
  defaultRisk: RiskLevel;
  toolRisk: Record<string, RiskLevel>;
}

export type ProviderRow = typeof mcpProviders.$inferSelect;

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "edgekernel", version: "0.1.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/**
 * Connects to the server at `url`, lists its tools and registers them as capabilities of the
 * tenant under `namespace`. Throws `KernelError` invalid_argument for a bad namespace or an
 * unreachable server (nothing is stored then).
 *
 * @example await registerProvider(db, tenantId, { namespace: "ext", url: "https://tools.example/mcp", defaultRisk: "medium", toolRisk: {} })
 */
export async function registerProvider(
  db: Db,
  tenantId: string,
  reg: ProviderRegistration,
): Promise<{ provider: ProviderRow; tools: string[] }> {
  if (RESERVED_NAMESPACES.includes(reg.namespace)) {
    throw new KernelError("invalid_argument", `namespace: ${reg.namespace} is reserved`, {
      path: "namespace",
      code: "reserved",
    });
  }
  let tools: Array<{
    name: string;
    description?: string | undefined;
    inputSchema: Record<string, unknown>;
  }>;
  try {
    const client = await connect(reg.url);
    try {
      tools = (await client.listTools()).tools as typeof tools;
    } finally {
      await client.close();
    }
  } catch (error) {
    throw new KernelError(
      "invalid_argument",
      `url: could not list the server's tools: ${(error as Error).message}`,
      {
        path: "url",
        code: "unreachable",
      },
    );
  }
  if (tools.length > MAX_PROVIDER_TOOLS) {
    throw new KernelError(
      "invalid_argument",
      `url: the server offers ${tools.length} tools; at most ${MAX_PROVIDER_TOOLS}`,
      { path: "url", code: "too_many_tools" },
    );
  }
  const nowMs = Date.now();
  const existing = (
    await db
      .select()
      .from(mcpProviders)
      .where(and(eq(mcpProviders.tenantId, tenantId), eq(mcpProviders.namespace, reg.namespace)))
      .limit(1)
  )[0];
  const provider: ProviderRow = {
    id: existing?.id ?? newId("mcpProvider", nowMs),
    tenantId,
    namespace: reg.namespace,
    url: reg.url,
    status: "active",
    toolsJson: JSON.stringify(tools.map((t) => t.name)),
    createdAtMs: existing?.createdAtMs ?? nowMs,
    refreshedAtMs: nowMs,
  };
  await db
    .insert(mcpProviders)
    .values(provider)
    .onConflictDoUpdate({
      target: [mcpProviders.tenantId, mcpProviders.namespace],
      set: {
        url: provider.url,
        status: "active",
        toolsJson: provider.toolsJson,
        refreshedAtMs: nowMs,
      },
    });
  await upsertCapabilities(
    db,
    tools.map((tool) => ({
      id: newId("capability", nowMs),
      scope: tenantId,
      namespace: reg.namespace,
      name: tool.name,
      version: "1.0.0",
      description: tool.description ?? "",
      inputSchemaJson: JSON.stringify(tool.inputSchema ?? { type: "object" }),
      risk: reg.toolRisk[tool.name] ?? reg.defaultRisk,
      provider: provider.id,
      status: "active" as const,
      createdAtMs: nowMs,
    })),
  );
  return { provider, tools: tools.map((t) => t.name) };
}

/** A tenant's registered providers. */
export async function listProviders(db: Db, tenantId: string): Promise<ProviderRow[]> {
  return db.select().from(mcpProviders).where(eq(mcpProviders.tenantId, tenantId));
}

/**
 * Calls an external capability's tool with `args` on its provider. Returns the tool's result
 * (structured content when the server gives it, else its content blocks) or an error text.
 */
export async function callProviderTool(
  db: Db,
  capability: Capability,
  args: Record<string, unknown>,
): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const provider = (
    await db.select().from(mcpProviders).where(eq(mcpProviders.id, capability.provider)).limit(1)
  )[0];
  if (!provider)
    return { ok: false, error: `the provider of ${capability.fullName} is no longer registered` };
  try {
    const client = await connect(provider.url);
    try {
      const result = await client.callTool({ name: capability.name, arguments: args }, undefined, {
        timeout: PROVIDER_CALL_TIMEOUT_MS,
      });
      const value = result.structuredContent ?? result.content;
      if (result.isError) return { ok: false, error: JSON.stringify(value) };
      return { ok: true, value };
    } finally {
      await client.close();
    }
  } catch (error) {
    return {
      ok: false,
      error: `calling ${capability.fullName} failed: ${(error as Error).message}`,
    };
  }
}
