/**
 * Pure functions that create a process record and step it through events, producing the
 * event-log entries to append. The Durable Object persists what these return, in one
 * transaction, so the record and its log never disagree.
 */

import type { Budget, JsonValue, ProcessRecord } from "./record.js";
import { ZERO_STATS, ZERO_USAGE } from "./record.js";
import { type ProcessEvent, type ProcessState, transition } from "./state.js";

/** Everything needed to create a process; the caller has already validated and resolved it. */
export interface SpawnInit {
  id: string;
  tenantId: string;
  type: { name: string; version: string };
  goal: string;
  priority: number;
  labels: Record<string, string>;
  parentId: string | null;
  budget: Budget;
  capabilities: string[];
  model: string;
  pool: string;
  systemPrompt: string;
  actor: string;
}

/** An event-log entry before the log assigns its sequence number. */
export interface PendingEvent {
  atMs: number;
  event: ProcessEvent | "spawn" | "step" | "syscall" | "compact";
  from: ProcessState | null;
  to: ProcessState;
  actor: string;
  reason: string | null;
}

export interface Stepped {
  record: ProcessRecord;
  events: PendingEvent[];
}

/**
 * A new record in `created`, with its spawn event. Admission (created → ready) is the pool
 * scheduler's decision and is applied by the caller.
 *
 * @example createRecord(init, Date.now()).record.status // "created"
 */
export function createRecord(init: SpawnInit, nowMs: number): Stepped {
  const at = new Date(nowMs).toISOString();
  const created: ProcessRecord = {
    id: init.id,
    tenantId: init.tenantId,
    type: init.type,
    goal: init.goal,
    priority: init.priority,
    labels: init.labels,
    parentId: init.parentId,
    status: "created",
    pausedFrom: null,
    budget: { ...init.budget, deadlineAt: new Date(nowMs + init.budget.wallClockMs).toISOString() },
    usage: { ...ZERO_USAGE },
    capabilities: init.capabilities,
    model: init.model,
    pool: init.pool,
    stats: { ...ZERO_STATS },
    note: null,
    pendingPause: null,
    waitingOn: null,
    createdAt: at,
    updatedAt: at,
    exitReason: null,
    result: null,
    version: 1,
  };
  const spawnEvent: PendingEvent = {
    atMs: nowMs,
    event: "spawn",
    from: null,
    to: "created",
    actor: init.actor,
    reason: null,
  };
  return { record: created, events: [spawnEvent] };
}

export interface ApplyOptions {
  nowMs: number;
  actor: string;
  reason: string | null;
  /** The goal's result, for `exit`. */
  result?: JsonValue;
}

/**
 * The record after `event` and the log entry for it; throws `KernelError("illegal_transition")`.
 *
 * @example applyEvent(record, "pause", { nowMs, actor: "key_…", reason: "maintenance" })
 */
export function applyEvent(
  record: ProcessRecord,
  event: ProcessEvent,
  options: ApplyOptions,
): Stepped {
  const next = transition({ state: record.status, pausedFrom: record.pausedFrom }, event);
  const ending = next.state !== record.status && isEnding(event);
  const updated: ProcessRecord = {
    ...record,
    status: next.state,
    pausedFrom: next.pausedFrom,
    updatedAt: new Date(options.nowMs).toISOString(),
    exitReason: ending ? (options.reason ?? event) : record.exitReason,
    pendingPause: next.state === "paused" || ending ? null : record.pendingPause,
    waitingOn: next.state === "waiting" || next.state === "paused" ? record.waitingOn : null,
    result: event === "exit" ? (options.result ?? null) : record.result,
    version: record.version + 1,
  };
  return {
    record: updated,
    events: [
      {
        atMs: options.nowMs,
        event,
        from: record.status,
        to: next.state,
        actor: options.actor,
        reason: options.reason,
      },
    ],
  };
}

function isEnding(event: ProcessEvent): boolean {
  return event === "exit" || event === "terminate" || event === "fail" || event === "exhaust";
}
