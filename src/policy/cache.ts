/**
 * Parsed engines kept per isolate, so a system call reads one small row list (ids and
 * versions) from D1 and never re-parses an unchanged set. Keyed by tenant, checked against the
 * set's version on every lookup: a policy written or deleted anywhere takes effect on the next
 * call in every isolate. Tenants without policies of their own share one defaults-only engine.
 */

import type { Db } from "../store/db.js";
import { listPolicies, policySetVersion, versionOf } from "../store/policies.js";
import type { Cedar } from "./cedar.js";
import { buildCedarEngine, type CedarEngine, failClosedEngine } from "./engine.js";
import { MAX_CACHED_ENGINES } from "./limits.js";

interface Entry {
  version: string;
  engine: CedarEngine;
}

// Map iteration order is insertion order: re-inserting on use makes the first key the LRU one.
const byTenant = new Map<string, Entry>();
const defaults = new WeakMap<Cedar, CedarEngine>();

/**
 * The engine with only the built-in policies, shared by every tenant that has none.
 *
 * @example defaultsEngine(cedar).decide(request)
 */
export function defaultsEngine(cedar: Cedar): CedarEngine {
  let engine = defaults.get(cedar);
  if (!engine) {
    engine = buildCedarEngine(cedar, []);
    defaults.set(cedar, engine);
  }
  return engine;
}

function remember(tenantId: string, entry: Entry): void {
  const old = byTenant.get(tenantId);
  if (old && old.engine !== entry.engine) old.engine.release();
  byTenant.delete(tenantId);
  byTenant.set(tenantId, entry);
  while (byTenant.size > MAX_CACHED_ENGINES) {
    const [oldest, evicted] = byTenant.entries().next().value as [string, Entry];
    byTenant.delete(oldest);
    evicted.engine.release();
  }
}

/**
 * The tenant's engine: from the cache when its policy set is unchanged, else loaded, parsed
 * and cached. A stored set that no longer loads yields an engine that denies every call and
 * says why (fail closed), rather than an exception on the system-call path.
 *
 * @example const engine = await engineFor(cedar, db, "ten_…"); engine.decide(request)
 */
export async function engineFor(cedar: Cedar, db: Db, tenantId: string): Promise<CedarEngine> {
  const version = await policySetVersion(db, tenantId);
  if (version === "") return defaultsEngine(cedar);
  const hit = byTenant.get(tenantId);
  if (hit && hit.version === version) {
    remember(tenantId, hit);
    return hit.engine;
  }
  const rows = await listPolicies(db, tenantId);
  // The set may have changed between the two reads: key the engine by what was loaded.
  const loaded = versionOf(rows);
  if (loaded === "") return defaultsEngine(cedar);
  let engine: CedarEngine;
  try {
    engine = buildCedarEngine(
      cedar,
      rows.map((r) => ({ id: r.name, text: r.cedarText })),
    );
  } catch (error) {
    console.error("policy set failed to load", tenantId, error);
    engine = failClosedEngine(error instanceof Error ? error.message : String(error));
  }
  remember(tenantId, { version: loaded, engine });
  return engine;
}

/** Drops every cached engine (tests use it to start cold). */
export function clearEngineCache(): void {
  for (const entry of byTenant.values()) entry.engine.release();
  byTenant.clear();
}
