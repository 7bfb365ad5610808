/**
 * What the Scheduler object shows of its pool (`GET /v1/scheduler/pools`): the running totals
 * and recent grants it keeps, and the `PoolStats` view assembled from its config, policy,
 * limiter and admission rows. Read-only but for `recordGrant`; nothing here notifies anyone.
 */

import type { PoolState } from "./scheduler-state.js";
import type { SchedulerStore } from "./scheduler-store.js";
import type { PoolStats } from "./scheduler-types.js";

export type Totals = PoolStats["totals"];
export type Grant = PoolStats["recentGrants"][number];

/** How many recent grants a pool remembers for `GET /v1/scheduler/pools`. */
export const RECENT_GRANTS = 64;

/**
 * Appends a grant to the recent ones, dropping the oldest past `RECENT_GRANTS`.
 *
 * @example recordGrant(state.recent, { processId, tenantId, priority: 0, at: new Date(nowMs).toISOString() })
 */
export function recordGrant(recent: Grant[], grant: Grant): void {
  recent.push(grant);
  if (recent.length > RECENT_GRANTS) recent.splice(0, recent.length - RECENT_GRANTS);
}

/**
 * The pool as operators see it: config, live and waiting processes, queue, capacity in use,
 * any 429 backoff, totals and the latest grants (copies, so later grants do not change it).
 *
 * @example poolStats(store, state) // { pool: "scripted", policy: {…}, queueLength: 2, … }
 */
export function poolStats(store: SchedulerStore, state: PoolState): PoolStats {
  const { config, policy, limiter } = state;
  const blocked = limiter.blockedUntilMs;
  return {
    pool: state.pool,
    policy: config.policy,
    capacity: config.capacity,
    admission: {
      ...config.admission,
      live: store.liveCount(),
      waiting: store.waitingCount(),
    },
    leaseTtlMs: config.leaseTtlMs,
    maxOutputTokensPerStep: config.maxOutputTokensPerStep,
    contextWindowTokens: config.contextWindowTokens,
    pricing: config.pricing,
    queueLength: policy.size() + (state.held ? 1 : 0),
    inFlight: limiter.inFlight,
    backoffUntil: blocked > Date.now() ? new Date(blocked).toISOString() : null,
    totals: { ...state.totals },
    recentGrants: [...state.recent],
  };
}
