/**
 * What the Scheduler object holds in memory for its pool between calls (config, policy,
 * limiter, totals, recent grants and the held pick), and its round trip through the kv table:
 * loaded once per object lifetime on the first call, saved after every call that changes it.
 */

import { CapacityLimiter } from "../kernel/capacity/limiter.js";
import { createRng } from "../kernel/capacity/random.js";
import { type PoolConfig, PoolConfigSchema } from "../kernel/scheduler/pool-config.js";
import { createPolicyFromConfig } from "../kernel/scheduler/registry.js";
import type { Decision, PolicyState, SchedPolicy } from "../kernel/scheduler/types.js";
import type { Grant, Totals } from "./scheduler-stats.js";
import type { SchedulerStore } from "./scheduler-store.js";

/** A pool's scheduling state; the object replaces `config`, `policy` and `limiter` on configure. */
export interface PoolState {
  readonly pool: string;
  config: PoolConfig;
  policy: SchedPolicy;
  limiter: CapacityLimiter;
  totals: Totals;
  recent: Grant[];
  /**
   * A request the policy already picked but capacity could not take yet (tokens/min). It is
   * sent first when capacity refills: putting it back in the queue would charge it twice.
   */
  held: Decision | null;
}

/**
 * The config an earlier call stored (kv `config`), or null for a pool this object never served.
 *
 * @example const config = storedConfig(store) ?? configuredPool(env.MODEL_POOLS, pool)
 */
export function storedConfig(store: SchedulerStore): PoolConfig | null {
  const configJson = store.getKv("config");
  return configJson ? PoolConfigSchema.parse(JSON.parse(configJson)) : null;
}

/**
 * The pool's state under `config`, with whatever policy, limiter, totals, recent grants and
 * held pick the kv table holds (fresh ones where it holds none).
 *
 * @example const state = loadPoolState(store, "scripted", config, Date.now())
 */
export function loadPoolState(
  store: SchedulerStore,
  pool: string,
  config: PoolConfig,
  nowMs: number,
): PoolState {
  const policy = createPolicyFromConfig(config.policy);
  const policyJson = store.getKv("policy");
  if (policyJson) policy.importState(JSON.parse(policyJson) as PolicyState);
  const limiter = new CapacityLimiter(config.capacity, nowMs, seededRng());
  const limiterJson = store.getKv("limiter");
  if (limiterJson) limiter.importState(JSON.parse(limiterJson));
  const totalsJson = store.getKv("totals");
  const totals: Totals = totalsJson
    ? (JSON.parse(totalsJson) as Totals)
    : { granted: 0, completed: 0, reclaimed: 0, rateLimited: 0 };
  const recentJson = store.getKv("recent");
  const recent = recentJson ? (JSON.parse(recentJson) as Grant[]) : [];
  const heldJson = store.getKv("held");
  const held = heldJson ? (JSON.parse(heldJson) as Decision | null) : null;
  return { pool, config, policy, limiter, totals, recent, held };
}

/**
 * Persists what the policy and limiter hold in memory, with the totals, recent grants and the
 * held pick. The config is written on its own, when it changes.
 *
 * @example savePoolState(store, state)
 */
export function savePoolState(store: SchedulerStore, state: PoolState): void {
  store.putKv("policy", JSON.stringify(state.policy.exportState()));
  store.putKv("limiter", JSON.stringify(state.limiter.exportState()));
  store.putKv("totals", JSON.stringify(state.totals));
  store.putKv("recent", JSON.stringify(state.recent));
  store.putKv("held", JSON.stringify(state.held));
}

/**
 * A random source for the limiter's jitter, seeded from the platform's crypto.
 *
 * @example new CapacityLimiter(config.capacity, nowMs, seededRng())
 */
export function seededRng(): ReturnType<typeof createRng> {
  const seed = new Uint32Array(1);
  crypto.getRandomValues(seed);
  return createRng(seed[0] ?? 1);
}
