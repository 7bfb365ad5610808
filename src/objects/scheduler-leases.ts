/**
 * Leases under the pool's policy and capacity: the dispatch loop that turns the policy's picks
 * into leases while the limiter allows, the settling of a lease that ended, was aborted or
 * expired, the withdrawal of a process's queued requests, and when the object must wake next.
 * Plain functions of the object's store and in-memory state; telling processes goes through the
 * object's `notify`, which does not wait.
 */

import type { Permit } from "../kernel/capacity/limiter.js";
import { newId } from "../kernel/ids.js";
import { type SchedTask, ZERO_USAGE } from "../kernel/scheduler/types.js";
import type { processStub } from "./agent-process.js";
import type { PoolState } from "./scheduler-state.js";
import { recordGrant } from "./scheduler-stats.js";
import type { LeaseRow, SchedulerStore } from "./scheduler-store.js";
import type { Lease, LeaseOutcome, LeaseReply } from "./scheduler-types.js";

/** Tells a process something without waiting (the Scheduler object's `notify`). */
export type Notify = (
  processId: string,
  send: (stub: ReturnType<typeof processStub>) => Promise<unknown>,
) => void;

/**
 * Grants leases while capacity and the policy allow, telling each process. Returns the reply
 * for `forProcess` when it was among them, so its own request is answered directly.
 *
 * @example const mine = dispatchAndNotify(store, state, nowMs, task.processId, notify)
 */
export function dispatchAndNotify(
  store: SchedulerStore,
  state: PoolState,
  nowMs: number,
  forProcess: string | null,
  notify: Notify,
): LeaseReply | null {
  let mine: LeaseReply | null = null;
  for (;;) {
    if (!state.limiter.check(0, nowMs).ok) break;
    const decision = state.held ?? state.policy.pick(nowMs);
    state.held = null;
    if (!decision) break;
    const task = decision.task;
    if (decision.kind === "end") {
      store.deleteTask(task.taskId);
      const reply: LeaseReply = {
        kind: "end",
        reason: "budget_exhausted",
        note: "token budget exhausted",
      };
      if (task.processId === forProcess) mine = reply;
      else notify(task.processId, (stub) => stub.onSchedulerEnd("token budget exhausted"));
      continue;
    }
    const acquired = state.limiter.tryAcquire(task.inputTokens, nowMs);
    if (!acquired.ok) {
      // The chosen request does not fit the token bucket yet: hold it and send it first.
      state.held = decision;
      break;
    }
    const { config } = state;
    const lease: Lease = {
      leaseId: newId("lease", nowMs),
      pool: state.pool,
      processId: task.processId,
      taskId: task.taskId,
      maxOutputTokens: Math.max(
        1,
        Math.min(decision.maxOutputTokens, config.maxOutputTokensPerStep),
      ),
      grantedAtMs: nowMs,
      expiresAtMs: nowMs + config.leaseTtlMs,
      contextWindowTokens: config.contextWindowTokens,
      pricing: config.pricing,
      retry: config.retry,
    };
    store.insertLease(lease, task, acquired.permit);
    state.totals.granted++;
    recordGrant(state.recent, {
      processId: task.processId,
      tenantId: task.tenantId,
      priority: task.priority,
      at: new Date(nowMs).toISOString(),
    });
    if (task.processId === forProcess) mine = { kind: "granted", lease };
    else notify(task.processId, (stub) => stub.onLeaseGranted(lease));
  }
  return mine;
}

/**
 * Ends a lease: returns its capacity, charges the policy, and applies a 429 to the pool.
 *
 * @example settle(store, state, row, { status: "ok", inputTokens: 900, outputTokens: 120, retryAfterMs: null, runMs: 840 }, nowMs)
 */
export function settle(
  store: SchedulerStore,
  state: PoolState,
  row: LeaseRow,
  outcome: LeaseOutcome,
  nowMs: number,
): void {
  const task = JSON.parse(row.task_json) as SchedTask;
  const permit = JSON.parse(row.permit_json) as Permit;
  store.deleteLease(row.lease_id);
  store.deleteTask(task.taskId);
  state.limiter.release(permit, outcome.inputTokens + outcome.outputTokens, nowMs);
  state.policy.charge(
    task,
    {
      inputTokens: outcome.inputTokens,
      outputTokens: outcome.outputTokens,
      runMs: outcome.runMs,
    },
    nowMs,
  );
  if (outcome.status === "rate_limited") {
    state.totals.rateLimited++;
    state.limiter.onRateLimited(outcome.retryAfterMs, nowMs);
  } else if (outcome.status === "ok") {
    state.limiter.onSuccess();
  }
  state.totals.completed++;
}

/**
 * Settles the leases a released process still holds as aborted, charging only the time run.
 *
 * @example abortLeasesOf(store, state, "proc_1", nowMs)
 */
export function abortLeasesOf(
  store: SchedulerStore,
  state: PoolState,
  processId: string,
  nowMs: number,
): void {
  for (const row of store.leasesOf(processId)) {
    settle(
      store,
      state,
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
}

/**
 * Reclaims the leases past their deadline, so a crashed process cannot hold capacity.
 *
 * @example reclaimExpired(store, state, Date.now())
 */
export function reclaimExpired(store: SchedulerStore, state: PoolState, nowMs: number): void {
  for (const row of store.expiredLeases(nowMs)) {
    const task = JSON.parse(row.task_json) as SchedTask;
    state.totals.reclaimed++;
    // A reclaimed call is charged as if it used its whole estimate: we cannot know better.
    settle(
      store,
      state,
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
}

/**
 * Drops a process's queued requests from the policy and the store, and its held pick.
 *
 * @example withdraw(store, state, "proc_1")
 */
export function withdraw(store: SchedulerStore, state: PoolState, processId: string): void {
  for (const taskId of store.taskIdsOf(processId)) state.policy.remove(taskId);
  store.deleteTasksOf(processId);
  if (state.held?.task.processId === processId) {
    // Undo what the pick booked (budget reservation, fair-share charge) before dropping it.
    state.policy.charge(state.held.task, ZERO_USAGE, Date.now());
    state.held = null;
  }
}

/**
 * Why a request waits: the pool's capacity limit in the way, or the requests ahead of it.
 *
 * @example queueNote(state, nowMs) // "queued: pool scripted is out of tokens/min (3 queued)"
 */
export function queueNote(state: PoolState, nowMs: number): string {
  const check = state.limiter.check(0, nowMs);
  if (!check.ok) {
    const why = {
      backoff: "backing off after a 429",
      concurrency: "at its concurrency cap",
      requests: "out of requests/min",
      tokens: "out of tokens/min",
    }[check.limit];
    return `queued: pool ${state.pool} is ${why} (${state.policy.size()} queued)`;
  }
  return `queued behind ${Math.max(0, state.policy.size() - 1)} other requests in pool ${state.pool}`;
}

/**
 * When the object must wake next: the first lease expiry, or when capacity refills for the
 * held pick or the queue; null when nothing waits on time.
 *
 * @example const atMs = nextAlarmMs(store, state); if (atMs !== null) void storage.setAlarm(atMs)
 */
export function nextAlarmMs(store: SchedulerStore, state: PoolState): number | null {
  const times: number[] = [];
  const nextExpiry = store.nextLeaseExpiryMs();
  if (nextExpiry) times.push(nextExpiry);
  if (state.held) {
    const check = state.limiter.check(state.held.task.inputTokens, Date.now());
    if (!check.ok && check.retryAtMs !== null) times.push(check.retryAtMs);
  } else if (state.policy.size() > 0) {
    const check = state.limiter.check(0, Date.now());
    if (!check.ok && check.retryAtMs !== null) times.push(check.retryAtMs);
  }
  return times.length > 0 ? Math.min(...times) : null;
}
