/** What the Scheduler Durable Object and the processes it serves say to each other. */

import type { ResolvedRetryOptions } from "../kernel/capacity/backoff.js";
import type { PoolConfig } from "../kernel/scheduler/pool-config.js";
import type { SchedTask } from "../kernel/scheduler/types.js";

/** A grant of capacity for one step: one model call of at most `maxOutputTokens`. */
export interface Lease {
  leaseId: string;
  pool: string;
  processId: string;
  taskId: string;
  maxOutputTokens: number;
  grantedAtMs: number;
  /** After this the scheduler reclaims the capacity, whether or not the step finished. */
  expiresAtMs: number;
  contextWindowTokens: number;
  pricing: PoolConfig["pricing"];
  retry: ResolvedRetryOptions;
}

export type LeaseReply =
  | { kind: "granted"; lease: Lease }
  | { kind: "queued"; note: string }
  | { kind: "end"; reason: "budget_exhausted"; note: string }
  | { kind: "refused"; note: string };

export type AdmitReply =
  | { kind: "admitted" }
  | { kind: "queued"; note: string }
  | { kind: "refused"; note: string };

/** How a leased call ended; the scheduler charges the policy and settles capacity with it. */
export interface LeaseOutcome {
  status: "ok" | "rate_limited" | "transient" | "fatal" | "aborted";
  inputTokens: number;
  outputTokens: number;
  retryAfterMs: number | null;
  runMs: number;
}

/** A pool as `GET /v1/scheduler/pools` shows it. */
export interface PoolStats {
  pool: string;
  policy: PoolConfig["policy"];
  capacity: PoolConfig["capacity"];
  admission: PoolConfig["admission"] & { live: number; waiting: number };
  leaseTtlMs: number;
  maxOutputTokensPerStep: number;
  contextWindowTokens: number;
  pricing: PoolConfig["pricing"];
  queueLength: number;
  inFlight: number;
  backoffUntil: string | null;
  totals: { granted: number; completed: number; reclaimed: number; rateLimited: number };
  /** The latest grants, newest last: the policy's recent decisions, for operators and tests. */
  recentGrants: Array<{ processId: string; tenantId: string; priority: number; at: string }>;
}

/** The request a process sends for its next step. */
export type LeaseRequest = SchedTask;
