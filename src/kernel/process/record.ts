/**
 * The process control block: what a process is, as zod schemas. These schemas are the single
 * source of truth for the Durable Object's storage, the D1 index, the API and (later) MCP.
 */

import { z } from "zod";
import { idPattern } from "../ids.js";
import { SEMVER_PATTERN } from "../semver.js";
import { PROCESS_STATES } from "./state.js";

/** Limits on what one process record may carry. */
export const PROCESS_LIMITS = {
  goalChars: 8_000,
  labels: 32,
  labelKeyChars: 63,
  labelValueChars: 128,
  capabilities: 64,
  reasonChars: 500,
  maxTokens: 1_000_000_000,
  maxToolCalls: 1_000_000,
  /** 30 days: a process that must outlive this is a service, not an agent. */
  wallClockMs: 30 * 24 * 3_600_000,
  maxCostMicroUsd: 1_000_000_000_000,
} as const;

export const PRIORITY_MIN = 0;
export const PRIORITY_MAX = 2;
/** 0 interactive, 1 normal, 2 batch: lower runs first. */
export const PRIORITY_DEFAULT = 1;

export const ProcessIdSchema = z.string().regex(idPattern("process"), "not a process id");
export const TenantIdSchema = z.string().regex(idPattern("tenant"), "not a tenant id");

export const AgentTypeNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes, starting with a letter");
export const SemverSchema = z.string().max(64).regex(SEMVER_PATTERN, "not a semantic version");

export const CapabilityNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_.:-]{0,127}$/, "lowercase capability name such as `fs.read`");

export const LabelsSchema = z
  .record(
    z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9._/-]{0,62})$/,
        "label keys are lowercase letters, digits and . _ / -, at most 63 characters",
      ),
    z.string().max(PROCESS_LIMITS.labelValueChars),
  )
  .refine((labels) => Object.keys(labels).length <= PROCESS_LIMITS.labels, {
    message: `at most ${PROCESS_LIMITS.labels} labels`,
  });

/** Limits a process may not exceed; each is optional at spawn and filled from its type. */
export const BudgetSchema = z.object({
  maxTokens: z.number().int().min(1).max(PROCESS_LIMITS.maxTokens),
  maxToolCalls: z.number().int().min(0).max(PROCESS_LIMITS.maxToolCalls),
  wallClockMs: z.number().int().min(1_000).max(PROCESS_LIMITS.wallClockMs),
  maxCostMicroUsd: z.number().int().min(0).max(PROCESS_LIMITS.maxCostMicroUsd),
});
export type Budget = z.infer<typeof BudgetSchema>;

/** What a process has consumed against its budget. */
export const UsageSchema = z.object({
  tokensIn: z.number().int().min(0),
  tokensOut: z.number().int().min(0),
  toolCalls: z.number().int().min(0),
  costMicroUsd: z.number().int().min(0),
});
export type Usage = z.infer<typeof UsageSchema>;

export const ZERO_USAGE: Usage = { tokensIn: 0, tokensOut: 0, toolCalls: 0, costMicroUsd: 0 };

/** Any JSON value: what a process may return as its result. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Scheduling counters shown with the process: how long it waited and ran, and how often. */
export const ProcessStatsSchema = z.object({
  steps: z.number().int().min(0),
  modelCalls: z.number().int().min(0),
  retries: z.number().int().min(0),
  /** Time spent ready but waiting for a run lease. */
  waitMs: z.number().int().min(0),
  /** Time spent running steps (model call and tools). */
  runMs: z.number().int().min(0),
});
export type ProcessStats = z.infer<typeof ProcessStatsSchema>;

export const ZERO_STATS: ProcessStats = {
  steps: 0,
  modelCalls: 0,
  retries: 0,
  waitMs: 0,
  runMs: 0,
};

/** What a waiting process waits for. */
export const WaitingOnSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("sleep"), until: z.string(), toolCallId: z.string() }),
  z.object({
    kind: z.literal("child"),
    /** The child waited for, or null for whichever child ends next. */
    processId: ProcessIdSchema.nullable(),
    toolCallId: z.string(),
  }),
  z.object({
    kind: z.literal("approval"),
    approvalId: z.string(),
    toolCallId: z.string(),
    /** When the request expires unanswered. */
    until: z.string(),
  }),
  z.object({
    kind: z.literal("message"),
    toolCallId: z.string(),
    /** The request whose reply is awaited (`request`), or null for any message (`recv`). */
    correlationId: z.string().nullable(),
    /** When the wait ends with a timeout result, or null to wait until a message arrives. */
    until: z.string().nullable(),
  }),
]);
export type WaitingOn = z.infer<typeof WaitingOnSchema>;

export const ProcessRecordSchema = z.object({
  id: ProcessIdSchema,
  tenantId: TenantIdSchema,
  type: z.object({ name: AgentTypeNameSchema, version: SemverSchema }),
  goal: z.string(),
  priority: z.number().int().min(PRIORITY_MIN).max(PRIORITY_MAX),
  labels: z.record(z.string(), z.string()),
  parentId: ProcessIdSchema.nullable(),
  status: z.enum(PROCESS_STATES),
  pausedFrom: z.enum(["created", "ready", "running", "waiting"]).nullable(),
  budget: BudgetSchema.extend({ deadlineAt: z.string() }),
  usage: UsageSchema,
  capabilities: z.array(CapabilityNameSchema),
  /** The model the process calls, and the pool whose scheduler grants its leases. */
  model: z.string(),
  pool: z.string(),
  stats: ProcessStatsSchema,
  /** Why the process is where it is when that is not obvious: queued, backing off, refused. */
  note: z.string().nullable(),
  /** A pause asked for mid-step; it takes effect at the step boundary. */
  pendingPause: z.object({ reason: z.string().nullable(), actor: z.string() }).nullable(),
  waitingOn: WaitingOnSchema.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  exitReason: z.string().nullable(),
  result: z
    .unknown()
    .nullable()
    .meta({ description: "What the process returned on exit (any JSON)" }),
  /** Increments with every transition; the D1 index keeps the highest it has seen. */
  version: z.number().int().min(1),
});
export type ProcessRecord = z.infer<typeof ProcessRecordSchema>;

/** One entry of a process's own append-only event log. */
export const ProcessEventRecordSchema = z.object({
  seq: z.number().int().min(1),
  at: z.string(),
  event: z.string(),
  from: z.enum(PROCESS_STATES).nullable(),
  to: z.enum(PROCESS_STATES),
  actor: z.string(),
  reason: z.string().nullable(),
});
export type ProcessEventRecord = z.infer<typeof ProcessEventRecordSchema>;
