/**
 * What the system-call gate needs from outside a process — the tenant's capabilities, its
 * entitlements and its Cedar engine — cached per isolate so the hot path reads no D1. A change
 * made through this isolate invalidates at once; other isolates see it within
 * GATE_CONTEXT_TTL_MS, the price of keeping D1 off every call.
 */

import type { PolicyEngine } from "../kernel/syscall/policy.js";
import { policyEngineFor } from "../policy/index.js";
import {
  type Capability,
  type EntitlementRow,
  listCapabilities,
  listEntitlements,
} from "../store/capabilities.js";
import type { Db } from "../store/db.js";

/** How long a tenant's gate context is trusted before it is read again. */
export const GATE_CONTEXT_TTL_MS = 5_000;
/** Tenants kept per isolate; the least recently loaded is dropped first. */
export const GATE_CONTEXT_MAX_TENANTS = 1_000;

export interface TenantGateContext {
  capabilities: Map<string, Capability>;
  grants: EntitlementRow[];
  policy: PolicyEngine;
  loadedAtMs: number;
}

const cache = new Map<string, Promise<TenantGateContext>>();

async function load(db: Db, tenantId: string, nowMs: number): Promise<TenantGateContext> {
  const [capabilities, grants, policy] = await Promise.all([
    listCapabilities(db, tenantId),
    listEntitlements(db, tenantId),
    policyEngineFor(db, tenantId),
  ]);
  return {
    capabilities: new Map(capabilities.map((c) => [c.fullName, c])),
    grants,
    policy,
    loadedAtMs: nowMs,
  };
}

/**
 * The tenant's gate context, from this isolate's cache when fresh.
 *
 * @example const { capabilities, grants, policy } = await gateContextFor(db, tenantId)
 */
export async function gateContextFor(
  db: Db,
  tenantId: string,
  nowMs = Date.now(),
): Promise<TenantGateContext> {
  const cached = cache.get(tenantId);
  if (cached) {
    const ctx = await cached.catch(() => null);
    if (ctx && nowMs - ctx.loadedAtMs < GATE_CONTEXT_TTL_MS) return ctx;
  }
  const loading = load(db, tenantId, nowMs);
  cache.delete(tenantId);
  cache.set(tenantId, loading);
  if (cache.size > GATE_CONTEXT_MAX_TENANTS) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  loading.catch(() => cache.delete(tenantId));
  return loading;
}

/** Forgets a tenant's context after a change to its capabilities, entitlements or policies. */
export function invalidateGateContext(tenantId: string): void {
  cache.delete(tenantId);
}

/** Entitlements of `grants` that apply to `agentType` (its own and the `*` rows). */
export function grantsFor(
  grants: readonly EntitlementRow[],
  agentType: string | null,
): EntitlementRow[] {
  return grants.filter((g) => g.agentType === "*" || g.agentType === agentType);
}
