/**
 * Scheduler: one Durable Object per model pool. It admits processes into the pool (caps per
 * tenant and per pool), queues their lease requests under the pool's policy, grants run
 * leases within the pool's capacity (concurrency, requests/min, tokens/min, 429 backoff), and
 * reclaims leases that outlive their deadline so a crashed process cannot hold capacity.
 *
 * The policy and the capacity limiter are the kernel's own modules (src/kernel/scheduler,
 * src/kernel/capacity), the same code the simulator in bench/sched drives. This object only
 * persists their state and talks to processes.
 *
 * The object itself is its RPC surface; the work is in its siblings: admission caps and the
 * admission queue in scheduler-admission.ts, granting, settling and reclaiming leases in
 * scheduler-leases.ts, the in-memory pool state and its kv round trip in scheduler-state.ts,
 * the stats view and recent grants in scheduler-stats.ts, and its SQLite in scheduler-store.ts.
 */

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { CapacityLimiter } from "../kernel/capacity/limiter.js";
import { applyPoolPatch, type PoolConfigPatch } from "../kernel/scheduler/pool-config.js";
import { createPolicyFromConfig, switchPolicy } from "../kernel/scheduler/registry.js";
import { ZERO_USAGE } from "../kernel/scheduler/types.js";
import { openDb } from "../store/db.js";
import { upsertPoolIndex } from "../store/pools.js";
import { processStub } from "./agent-process.js";
import { configuredPool } from "./pools.js";
import { admitProcess, admitWaiting } from "./scheduler-admission.js";
import {
  abortLeasesOf,
  dispatchAndNotify,
  type Notify,
  nextAlarmMs,
  queueNote,
  reclaimExpired,
  settle,
  withdraw,
} from "./scheduler-leases.js";
import {
  loadPoolState,
  type PoolState,
  savePoolState,
  seededRng,
  storedConfig,
} from "./scheduler-state.js";
import { poolStats } from "./scheduler-stats.js";
import { SchedulerStore } from "./scheduler-store.js";
import type {
  AdmitReply,
  Lease,
  LeaseOutcome,
  LeaseReply,
  LeaseRequest,
  PoolStats,
} from "./scheduler-types.js";

export { RECENT_GRANTS } from "./scheduler-stats.js";

/** The RPC surface; callers use `schedulerStub()`. */
export interface SchedulerRpc {
  admit(pool: string, processId: string, tenantId: string): Promise<AdmitReply>;
  release(pool: string, processId: string): Promise<void>;
  requestLease(pool: string, task: LeaseRequest): Promise<LeaseReply>;
  completeLease(pool: string, leaseId: string, outcome: LeaseOutcome): Promise<{ stale: boolean }>;
  cancel(pool: string, processId: string): Promise<void>;
  stats(pool: string): Promise<PoolStats>;
  configure(pool: string, patch: PoolConfigPatch): Promise<PoolStats>;
}

/** The Scheduler object of `pool`. */
export function schedulerStub(env: Pick<Env, "SCHEDULER">, pool: string): SchedulerRpc {
  return env.SCHEDULER.get(env.SCHEDULER.idFromName(pool)) as unknown as SchedulerRpc;
}

export class Scheduler extends DurableObject<Env> implements SchedulerRpc {
  private readonly store: SchedulerStore;
  /** The pool this object serves, once `init` has finished for it. */
  private pool: string | null = null;
  /** The pool's state in memory (scheduler-state.ts), loaded by `init`. */
  private state!: PoolState;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new SchedulerStore(ctx.storage.sql);
  }

  // -------------------------------------------------------------------------------------------
  // Admission

  async admit(pool: string, processId: string, tenantId: string): Promise<AdmitReply> {
    const state = await this.init(pool);
    const nowMs = Date.now();
    return admitProcess(this.store, pool, state.config.admission, processId, tenantId, nowMs);
  }

  async release(pool: string, processId: string): Promise<void> {
    const state = await this.init(pool);
    const nowMs = Date.now();
    this.store.deleteLive(processId);
    withdraw(this.store, state, processId);
    abortLeasesOf(this.store, state, processId, nowMs);
    state.policy.forget(processId);
    this.admitWaiting(state);
    dispatchAndNotify(this.store, state, nowMs, null, this.notify);
    this.save(state);
  }

  // -------------------------------------------------------------------------------------------
  // Leases

  async requestLease(pool: string, task: LeaseRequest): Promise<LeaseReply> {
    const state = await this.init(pool);
    const nowMs = Date.now();
    if (!this.store.liveAdmitted(task.processId))
      return { kind: "refused", note: `process is not admitted to pool ${pool}` };
    // A process that already holds a lease (its grant notice was lost) gets it again.
    const held = this.store.leasesOf(task.processId)[0];
    if (held) return { kind: "granted", lease: JSON.parse(held.lease_json) as Lease };

    if (!this.store.hasTask(task.taskId)) {
      const result = state.policy.enqueue(task, nowMs);
      if (!result.ok) {
        if (result.reason === "budget_exhausted") {
          return { kind: "end", reason: "budget_exhausted", note: "token budget exhausted" };
        }
        if (result.reason === "queue_full") {
          return { kind: "refused", note: `pool ${pool} queue is full` };
        }
      } else {
        this.store.putTask(task.taskId, task.processId);
      }
    }
    const mine = dispatchAndNotify(this.store, state, nowMs, task.processId, this.notify);
    this.save(state);
    if (mine?.kind === "granted" || mine?.kind === "end") return mine;
    return { kind: "queued", note: queueNote(state, nowMs) };
  }

  async completeLease(
    pool: string,
    leaseId: string,
    outcome: LeaseOutcome,
  ): Promise<{ stale: boolean }> {
    const state = await this.init(pool);
    const nowMs = Date.now();
    const row = this.store.lease(leaseId);
    if (!row) return { stale: true }; // reclaimed already: its capacity was settled then
    settle(this.store, state, row, outcome, nowMs);
    dispatchAndNotify(this.store, state, nowMs, null, this.notify);
    this.save(state);
    return { stale: false };
  }

  async cancel(pool: string, processId: string): Promise<void> {
    const state = await this.init(pool);
    withdraw(this.store, state, processId);
    this.save(state);
  }

  /** Reclaims expired leases, lets capacity refill into grants, and re-arms itself. */
  override async alarm(): Promise<void> {
    const pool = this.store.storedPool();
    if (!pool) return;
    const state = await this.init(pool);
    const nowMs = Date.now();
    reclaimExpired(this.store, state, nowMs);
    dispatchAndNotify(this.store, state, nowMs, null, this.notify);
    this.save(state);
  }

  // -------------------------------------------------------------------------------------------
  // Configuration and visibility

  async stats(pool: string): Promise<PoolStats> {
    const state = await this.init(pool);
    return poolStats(this.store, state);
  }

  async configure(pool: string, patch: PoolConfigPatch): Promise<PoolStats> {
    const state = await this.init(pool);
    const nowMs = Date.now();
    const next = applyPoolPatch(state.config, patch);
    if (patch.policy) {
      if (state.held) {
        // Undo the old policy's pick and let the new policy order the request like the rest.
        state.policy.charge(state.held.task, ZERO_USAGE, nowMs);
        state.policy.enqueue(state.held.task, nowMs);
        state.held = null;
      }
      const policy = createPolicyFromConfig(next.policy);
      const refused = switchPolicy(state.policy, policy, nowMs);
      state.policy = policy;
      for (const { task } of refused) {
        this.store.deleteTask(task.taskId);
        this.notify(task.processId, (stub) =>
          stub.onSchedulerEnd("the new policy refused the queued request"),
        );
      }
    }
    if (patch.capacity) {
      const limiterState = state.limiter.exportState();
      state.limiter = new CapacityLimiter(next.capacity, nowMs, seededRng());
      state.limiter.importState({
        ...state.limiter.exportState(),
        inFlight: limiterState.inFlight,
        blockedUntilMs: limiterState.blockedUntilMs,
      });
    }
    state.config = next;
    this.store.putKv("config", JSON.stringify(next));
    await upsertPoolIndex(openDb(this.env.DB), pool, next, nowMs);
    this.admitWaiting(state);
    dispatchAndNotify(this.store, state, nowMs, null, this.notify);
    this.save(state);
    return this.stats(pool);
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  /**
   * Loads the pool's state on the first call since the object started; one pool per object.
   * Returns `this.state` as it is once done: a call that arrived during the D1 write loaded it
   * again, and every call works on the one state loaded last.
   */
  private async init(pool: string): Promise<PoolState> {
    if (this.pool === pool) return this.state;
    const stored = this.store.storedPool();
    if (stored && stored !== pool) throw new Error(`scheduler of ${stored} asked about ${pool}`);
    const nowMs = Date.now();
    const config = storedConfig(this.store) ?? configuredPool(this.env.MODEL_POOLS, pool);
    this.state = loadPoolState(this.store, pool, config, nowMs);
    if (!stored) {
      this.store.putKv("pool", pool);
      this.store.putKv("config", JSON.stringify(config));
      await upsertPoolIndex(openDb(this.env.DB), pool, config, nowMs);
    }
    this.pool = pool;
    return this.state;
  }

  /** Persists what the policy and limiter hold in memory, and re-arms the alarm. */
  private save(state: PoolState): void {
    savePoolState(this.store, state);
    const atMs = nextAlarmMs(this.store, state);
    if (atMs !== null) void this.ctx.storage.setAlarm(atMs);
  }

  private admitWaiting(state: PoolState): void {
    admitWaiting(this.store, state.config.admission, (processId) =>
      this.notify(processId, (stub) => stub.onAdmitted()),
    );
  }

  /** Tells a process something without waiting: a lost notice is recovered by its own alarm. */
  private readonly notify: Notify = (processId, send) => {
    this.ctx.waitUntil(
      send(processStub(this.env, processId)).catch((error) => {
        console.error("scheduler notice failed", processId, error);
      }),
    );
  };
}
