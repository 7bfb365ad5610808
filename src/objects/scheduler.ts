/**
 * Scheduler: one Durable Object per model pool. It admits processes into the pool (caps per
 * tenant and per pool), queues their lease requests under the pool's policy, grants run
 * leases within the pool's capacity (concurrency, requests/min, tokens/min, 429 backoff), and
 * reclaims leases that outlive their deadline so a crashed process cannot hold capacity.
 *
 * The policy and the capacity limiter are the kernel's own modules (src/kernel/scheduler,
 * src/kernel/capacity), the same code the simulator in bench/sched drives. This object only
 * persists their state and talks to processes.
 */

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { CapacityLimiter, type Permit } from "../kernel/capacity/limiter.js";
import { createRng } from "../kernel/capacity/random.js";
import { newId } from "../kernel/ids.js";
import {
  applyPoolPatch,
  type PoolConfig,
  type PoolConfigPatch,
  PoolConfigSchema,
} from "../kernel/scheduler/pool-config.js";
import { createPolicyFromConfig, switchPolicy } from "../kernel/scheduler/registry.js";
import type { Decision, PolicyState, SchedPolicy, SchedTask } from "../kernel/scheduler/types.js";
import { openDb } from "../store/db.js";
import { upsertPoolIndex } from "../store/pools.js";
import { processStub } from "./agent-process.js";
import { configuredPool } from "./pools.js";
import type {
  AdmitReply,
  Lease,
  LeaseOutcome,
  LeaseReply,
  LeaseRequest,
  PoolStats,
} from "./scheduler-types.js";

type LeaseRow = {
  lease_id: string;
  process_id: string;
  task_json: string;
  permit_json: string;
  lease_json: string;
  expires_at_ms: number;
};

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

type Totals = PoolStats["totals"];
type Grant = PoolStats["recentGrants"][number];

/** How many recent grants a pool remembers for `GET /v1/scheduler/pools`. */
export const RECENT_GRANTS = 64;

export class Scheduler extends DurableObject<Env> implements SchedulerRpc {
  private readonly sql: SqlStorage;
  private pool: string | null = null;
  private config!: PoolConfig;
  private policy!: SchedPolicy;
  private limiter!: CapacityLimiter;
  private totals: Totals = { granted: 0, completed: 0, reclaimed: 0, rateLimited: 0 };
  private recent: Grant[] = [];
  /**
   * A request the policy already picked but capacity could not take yet (tokens/min). It is
   * sent first when capacity refills: putting it back in the queue would charge it twice.
   */
  private held: Decision | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS live (
        process_id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        admitted INTEGER NOT NULL,
        since_ms INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS live_waiting ON live (admitted, since_ms);
      CREATE TABLE IF NOT EXISTS tasks (task_id TEXT PRIMARY KEY, process_id TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS tasks_process ON tasks (process_id);
      CREATE TABLE IF NOT EXISTS leases (
        lease_id TEXT PRIMARY KEY,
        process_id TEXT NOT NULL,
        task_json TEXT NOT NULL,
        permit_json TEXT NOT NULL,
        lease_json TEXT NOT NULL,
        expires_at_ms INTEGER NOT NULL
      );
    `);
  }

  // -------------------------------------------------------------------------------------------
  // Admission

  async admit(pool: string, processId: string, tenantId: string): Promise<AdmitReply> {
    await this.init(pool);
    const existing = this.sql
      .exec<{ admitted: number }>("SELECT admitted FROM live WHERE process_id = ?", processId)
      .toArray()[0];
    if (existing) {
      return existing.admitted
        ? { kind: "admitted" }
        : { kind: "queued", note: this.admissionNote(tenantId) };
    }
    const nowMs = Date.now();
    const waiting = this.count("SELECT COUNT(*) AS n FROM live WHERE admitted = 0");
    // Arrival order holds within a tenant; one tenant's queue never blocks another's spawns.
    const waitingHere = this.count(
      "SELECT COUNT(*) AS n FROM live WHERE admitted = 0 AND tenant_id = ?",
      tenantId,
    );
    if (waitingHere === 0 && this.hasRoom(tenantId)) {
      this.sql.exec("INSERT INTO live VALUES (?, ?, 1, ?)", processId, tenantId, nowMs);
      return { kind: "admitted" };
    }
    if (waiting >= this.config.admission.maxAdmissionQueue) {
      return {
        kind: "refused",
        note: `admission refused: ${waiting} spawns already wait for a slot in pool ${pool} (queue cap ${this.config.admission.maxAdmissionQueue})`,
      };
    }
    this.sql.exec("INSERT INTO live VALUES (?, ?, 0, ?)", processId, tenantId, nowMs);
    return { kind: "queued", note: this.admissionNote(tenantId) };
  }

  async release(pool: string, processId: string): Promise<void> {
    await this.init(pool);
    const nowMs = Date.now();
    this.sql.exec("DELETE FROM live WHERE process_id = ?", processId);
    this.withdraw(processId);
    for (const row of this.leaseRows("WHERE process_id = ?", processId)) {
      this.settle(
        row,
        {
          status: "aborted",
          inputTokens: 0,
          outputTokens: 0,
          retryAfterMs: null,
          runMs: nowMs - (JSON.parse(row.lease_json) as Lease).grantedAtMs,
        },
        nowMs,
      );
    }
    this.policy.forget(processId);
    this.admitWaiting();
    this.dispatchAndNotify(nowMs, null);
    this.save();
  }

  // -------------------------------------------------------------------------------------------
  // Leases

  async requestLease(pool: string, task: LeaseRequest): Promise<LeaseReply> {
    await this.init(pool);
    const nowMs = Date.now();
    const live = this.sql
      .exec<{ admitted: number }>("SELECT admitted FROM live WHERE process_id = ?", task.processId)
      .toArray()[0];
    if (!live?.admitted)
      return { kind: "refused", note: `process is not admitted to pool ${pool}` };
    // A process that already holds a lease (its grant notice was lost) gets it again.
    const held = this.leaseRows("WHERE process_id = ?", task.processId)[0];
    if (held) return { kind: "granted", lease: JSON.parse(held.lease_json) as Lease };

    const queued = this.sql
      .exec<{ task_id: string }>("SELECT task_id FROM tasks WHERE task_id = ?", task.taskId)
      .toArray()[0];
    if (!queued) {
      const result = this.policy.enqueue(task, nowMs);
      if (!result.ok) {
        if (result.reason === "budget_exhausted") {
          return { kind: "end", reason: "budget_exhausted", note: "token budget exhausted" };
        }
        if (result.reason === "queue_full") {
          return { kind: "refused", note: `pool ${pool} queue is full` };
        }
      } else {
        this.sql.exec("INSERT OR REPLACE INTO tasks VALUES (?, ?)", task.taskId, task.processId);
      }
    }
    const mine = this.dispatchAndNotify(nowMs, task.processId);
    this.save();
    if (mine?.kind === "granted" || mine?.kind === "end") return mine;
    return { kind: "queued", note: this.queueNote(nowMs) };
  }

  async completeLease(
    pool: string,
    leaseId: string,
    outcome: LeaseOutcome,
  ): Promise<{ stale: boolean }> {
    await this.init(pool);
    const nowMs = Date.now();
    const row = this.leaseRows("WHERE lease_id = ?", leaseId)[0];
    if (!row) return { stale: true }; // reclaimed already: its capacity was settled then
    this.settle(row, outcome, nowMs);
    this.dispatchAndNotify(nowMs, null);
    this.save();
    return { stale: false };
  }

  async cancel(pool: string, processId: string): Promise<void> {
    await this.init(pool);
    this.withdraw(processId);
    this.save();
  }

  /** Reclaims expired leases, lets capacity refill into grants, and re-arms itself. */
  override async alarm(): Promise<void> {
    const pool = this.storedPool();
    if (!pool) return;
    await this.init(pool);
    const nowMs = Date.now();
    for (const row of this.leaseRows("WHERE expires_at_ms <= ?", nowMs)) {
      const task = JSON.parse(row.task_json) as SchedTask;
      this.totals.reclaimed++;
      // A reclaimed call is charged as if it used its whole estimate: we cannot know better.
      this.settle(
        row,
        {
          status: "aborted",
          inputTokens: task.inputTokens,
          outputTokens: 0,
          retryAfterMs: null,
          runMs: nowMs - (JSON.parse(row.lease_json) as Lease).grantedAtMs,
        },
        nowMs,
      );
    }
    this.dispatchAndNotify(nowMs, null);
    this.save();
  }

  // -------------------------------------------------------------------------------------------
  // Configuration and visibility

  async stats(pool: string): Promise<PoolStats> {
    await this.init(pool);
    const blocked = this.limiter.blockedUntilMs;
    return {
      pool,
      policy: this.config.policy,
      capacity: this.config.capacity,
      admission: {
        ...this.config.admission,
        live: this.count("SELECT COUNT(*) AS n FROM live WHERE admitted = 1"),
        waiting: this.count("SELECT COUNT(*) AS n FROM live WHERE admitted = 0"),
      },
      leaseTtlMs: this.config.leaseTtlMs,
      maxOutputTokensPerStep: this.config.maxOutputTokensPerStep,
      contextWindowTokens: this.config.contextWindowTokens,
      pricing: this.config.pricing,
      queueLength: this.policy.size() + (this.held ? 1 : 0),
      inFlight: this.limiter.inFlight,
      backoffUntil: blocked > Date.now() ? new Date(blocked).toISOString() : null,
      totals: { ...this.totals },
      recentGrants: [...this.recent],
    };
  }

  async configure(pool: string, patch: PoolConfigPatch): Promise<PoolStats> {
    await this.init(pool);
    const nowMs = Date.now();
    const next = applyPoolPatch(this.config, patch);
    if (patch.policy) {
      if (this.held) {
        // Undo the old policy's pick and let the new policy order the request like the rest.
        this.policy.charge(this.held.task, { inputTokens: 0, outputTokens: 0, runMs: 0 }, nowMs);
        this.policy.enqueue(this.held.task, nowMs);
        this.held = null;
      }
      const policy = createPolicyFromConfig(next.policy);
      const refused = switchPolicy(this.policy, policy, nowMs);
      this.policy = policy;
      for (const { task } of refused) {
        this.sql.exec("DELETE FROM tasks WHERE task_id = ?", task.taskId);
        this.notify(task.processId, (stub) =>
          stub.onSchedulerEnd("the new policy refused the queued request"),
        );
      }
    }
    if (patch.capacity) {
      const state = this.limiter.exportState();
      this.limiter = new CapacityLimiter(next.capacity, nowMs, this.rng());
      this.limiter.importState({
        ...this.limiter.exportState(),
        inFlight: state.inFlight,
        blockedUntilMs: state.blockedUntilMs,
      });
    }
    this.config = next;
    this.putKv("config", JSON.stringify(next));
    await upsertPoolIndex(openDb(this.env.DB), pool, next, nowMs);
    this.admitWaiting();
    this.dispatchAndNotify(nowMs, null);
    this.save();
    return this.stats(pool);
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private async init(pool: string): Promise<void> {
    if (this.pool === pool) return;
    const stored = this.storedPool();
    if (stored && stored !== pool) throw new Error(`scheduler of ${stored} asked about ${pool}`);
    const nowMs = Date.now();
    const configJson = this.getKv("config");
    this.config = configJson
      ? PoolConfigSchema.parse(JSON.parse(configJson))
      : configuredPool(this.env.MODEL_POOLS, pool);
    this.policy = createPolicyFromConfig(this.config.policy);
    const policyJson = this.getKv("policy");
    if (policyJson) this.policy.importState(JSON.parse(policyJson) as PolicyState);
    this.limiter = new CapacityLimiter(this.config.capacity, nowMs, this.rng());
    const limiterJson = this.getKv("limiter");
    if (limiterJson) this.limiter.importState(JSON.parse(limiterJson));
    const totalsJson = this.getKv("totals");
    if (totalsJson) this.totals = JSON.parse(totalsJson) as Totals;
    const recentJson = this.getKv("recent");
    if (recentJson) this.recent = JSON.parse(recentJson) as Grant[];
    const heldJson = this.getKv("held");
    this.held = heldJson ? (JSON.parse(heldJson) as Decision | null) : null;
    if (!stored) {
      this.putKv("pool", pool);
      this.putKv("config", JSON.stringify(this.config));
      await upsertPoolIndex(openDb(this.env.DB), pool, this.config, nowMs);
    }
    this.pool = pool;
  }

  private rng() {
    const seed = new Uint32Array(1);
    crypto.getRandomValues(seed);
    return createRng(seed[0] ?? 1);
  }

  private storedPool(): string | null {
    return this.getKv("pool");
  }

  private getKv(key: string): string | null {
    return (
      this.sql.exec<{ value: string }>("SELECT value FROM kv WHERE key = ?", key).toArray()[0]
        ?.value ?? null
    );
  }

  private putKv(key: string, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO kv VALUES (?, ?)", key, value);
  }

  private count(query: string, ...bindings: unknown[]): number {
    return Number(this.sql.exec<{ n: number }>(query, ...bindings).toArray()[0]?.n ?? 0);
  }

  private leaseRows(where: string, ...bindings: unknown[]): LeaseRow[] {
    return this.sql.exec<LeaseRow>(`SELECT * FROM leases ${where}`, ...bindings).toArray();
  }

  /** Persists what the policy and limiter hold in memory, and re-arms the alarm. */
  private save(): void {
    this.putKv("policy", JSON.stringify(this.policy.exportState()));
    this.putKv("limiter", JSON.stringify(this.limiter.exportState()));
    this.putKv("totals", JSON.stringify(this.totals));
    this.putKv("recent", JSON.stringify(this.recent));
    this.putKv("held", JSON.stringify(this.held));
    this.armAlarm();
  }

  private armAlarm(): void {
    const times: number[] = [];
    const nextExpiry = this.sql
      .exec<{ t: number | null }>("SELECT MIN(expires_at_ms) AS t FROM leases")
      .toArray()[0]?.t;
    if (nextExpiry) times.push(nextExpiry);
    if (this.held) {
      const check = this.limiter.check(this.held.task.inputTokens, Date.now());
      if (!check.ok && check.retryAtMs !== null) times.push(check.retryAtMs);
    } else if (this.policy.size() > 0) {
      const check = this.limiter.check(0, Date.now());
      if (!check.ok && check.retryAtMs !== null) times.push(check.retryAtMs);
    }
    if (times.length > 0) void this.ctx.storage.setAlarm(Math.min(...times));
  }

  private hasRoom(tenantId: string): boolean {
    const live = this.count("SELECT COUNT(*) AS n FROM live WHERE admitted = 1");
    const tenantLive = this.count(
      "SELECT COUNT(*) AS n FROM live WHERE admitted = 1 AND tenant_id = ?",
      tenantId,
    );
    return (
      live < this.config.admission.maxLivePerPool &&
      tenantLive < this.config.admission.maxLivePerTenant
    );
  }

  private admissionNote(tenantId: string): string {
    const tenantLive = this.count(
      "SELECT COUNT(*) AS n FROM live WHERE admitted = 1 AND tenant_id = ?",
      tenantId,
    );
    const live = this.count("SELECT COUNT(*) AS n FROM live WHERE admitted = 1");
    const { maxLivePerTenant, maxLivePerPool } = this.config.admission;
    return tenantLive >= maxLivePerTenant
      ? `waiting for admission: the tenant has ${tenantLive} live processes in pool ${this.pool} (cap ${maxLivePerTenant})`
      : `waiting for admission: pool ${this.pool} has ${live} live processes (cap ${maxLivePerPool})`;
  }

  /** Admits waiting processes in arrival order, skipping tenants that are at their cap. */
  private admitWaiting(): void {
    const waiting = this.sql
      .exec<{ process_id: string; tenant_id: string }>(
        "SELECT process_id, tenant_id FROM live WHERE admitted = 0 ORDER BY since_ms LIMIT 1000",
      )
      .toArray();
    for (const row of waiting) {
      if (!this.hasRoom(row.tenant_id)) {
        if (
          this.count("SELECT COUNT(*) AS n FROM live WHERE admitted = 1") >=
          this.config.admission.maxLivePerPool
        )
          break;
        continue;
      }
      this.sql.exec("UPDATE live SET admitted = 1 WHERE process_id = ?", row.process_id);
      this.notify(row.process_id, (stub) => stub.onAdmitted());
    }
  }

  private withdraw(processId: string): void {
    const rows = this.sql
      .exec<{ task_id: string }>("SELECT task_id FROM tasks WHERE process_id = ?", processId)
      .toArray();
    for (const row of rows) this.policy.remove(row.task_id);
    this.sql.exec("DELETE FROM tasks WHERE process_id = ?", processId);
    if (this.held?.task.processId === processId) {
      // Undo what the pick booked (budget reservation, fair-share charge) before dropping it.
      this.policy.charge(this.held.task, { inputTokens: 0, outputTokens: 0, runMs: 0 }, Date.now());
      this.held = null;
    }
  }

  /** Ends a lease: returns its capacity, charges the policy, and applies a 429 to the pool. */
  private settle(row: LeaseRow, outcome: LeaseOutcome, nowMs: number): void {
    const task = JSON.parse(row.task_json) as SchedTask;
    const permit = JSON.parse(row.permit_json) as Permit;
    this.sql.exec("DELETE FROM leases WHERE lease_id = ?", row.lease_id);
    this.sql.exec("DELETE FROM tasks WHERE task_id = ?", task.taskId);
    this.limiter.release(permit, outcome.inputTokens + outcome.outputTokens, nowMs);
    this.policy.charge(
      task,
      {
        inputTokens: outcome.inputTokens,
        outputTokens: outcome.outputTokens,
        runMs: outcome.runMs,
      },
      nowMs,
    );
    if (outcome.status === "rate_limited") {
      this.totals.rateLimited++;
      this.limiter.onRateLimited(outcome.retryAfterMs, nowMs);
    } else if (outcome.status === "ok") {
      this.limiter.onSuccess();
    }
    this.totals.completed++;
  }

  /**
   * Grants leases while capacity and the policy allow, telling each process. Returns the reply
   * for `forProcess` when it was among them, so its own request is answered directly.
   */
  private dispatchAndNotify(nowMs: number, forProcess: string | null): LeaseReply | null {
    let mine: LeaseReply | null = null;
    for (;;) {
      if (!this.limiter.check(0, nowMs).ok) break;
      const decision = this.held ?? this.policy.pick(nowMs);
      this.held = null;
      if (!decision) break;
      const task = decision.task;
      if (decision.kind === "end") {
        this.sql.exec("DELETE FROM tasks WHERE task_id = ?", task.taskId);
        const reply: LeaseReply = {
          kind: "end",
          reason: "budget_exhausted",
          note: "token budget exhausted",
        };
        if (task.processId === forProcess) mine = reply;
        else this.notify(task.processId, (stub) => stub.onSchedulerEnd("token budget exhausted"));
        continue;
      }
      const acquired = this.limiter.tryAcquire(task.inputTokens, nowMs);
      if (!acquired.ok) {
        // The chosen request does not fit the token bucket yet: hold it and send it first.
        this.held = decision;
        break;
      }
      const lease: Lease = {
        leaseId: newId("lease", nowMs),
        pool: this.pool!,
        processId: task.processId,
        taskId: task.taskId,
        maxOutputTokens: Math.max(
          1,
          Math.min(decision.maxOutputTokens, this.config.maxOutputTokensPerStep),
        ),
        grantedAtMs: nowMs,
        expiresAtMs: nowMs + this.config.leaseTtlMs,
        contextWindowTokens: this.config.contextWindowTokens,
        pricing: this.config.pricing,
        retry: this.config.retry,
      };
      this.sql.exec(
        "INSERT INTO leases VALUES (?, ?, ?, ?, ?, ?)",
        lease.leaseId,
        task.processId,
        JSON.stringify(task),
        JSON.stringify(acquired.permit),
        JSON.stringify(lease),
        lease.expiresAtMs,
      );
      this.totals.granted++;
      this.recent.push({
        processId: task.processId,
        tenantId: task.tenantId,
        priority: task.priority,
        at: new Date(nowMs).toISOString(),
      });
      if (this.recent.length > RECENT_GRANTS)
        this.recent.splice(0, this.recent.length - RECENT_GRANTS);
      if (task.processId === forProcess) mine = { kind: "granted", lease };
      else this.notify(task.processId, (stub) => stub.onLeaseGranted(lease));
    }
    return mine;
  }

  private queueNote(nowMs: number): string {
    const check = this.limiter.check(0, nowMs);
    if (!check.ok) {
      const why = {
        backoff: "backing off after a 429",
        concurrency: "at its concurrency cap",
        requests: "out of requests/min",
        tokens: "out of tokens/min",
      }[check.limit];
      return `queued: pool ${this.pool} is ${why} (${this.policy.size()} queued)`;
    }
    return `queued behind ${Math.max(0, this.policy.size() - 1)} other requests in pool ${this.pool}`;
  }

  /** Tells a process something without waiting: a lost notice is recovered by its own alarm. */
  private notify(
    processId: string,
    send: (stub: ReturnType<typeof processStub>) => Promise<unknown>,
  ): void {
    this.ctx.waitUntil(
      send(processStub(this.env, processId)).catch((error) => {
        console.error("scheduler notice failed", processId, error);
      }),
    );
  }
}
