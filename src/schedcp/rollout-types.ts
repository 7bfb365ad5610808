/**
 * The rollout state machine's vocabulary: the spec a rollout starts from (`RolloutSpecSchema`
 * and its limits), its phases and node states, the failure reasons and which of them count
 * toward the circuit breaker, the state it keeps, the events it takes, the actions and history
 * entries it returns, and the machine's interface. Separate from the machine (rollout.ts and the
 * modules it lists) because the Fleet object, the API's schemas and the tool calls speak these
 * words without running a step, and the machine's files then read as its transitions alone.
 */

import { z } from "zod";
import type { GuardTracker } from "./guards.js";
import {
  type DeployStatus,
  GuardSchema,
  NodeIdSchema,
  PolicyVersionSchema,
  SchedPolicyIdSchema,
  type TelemetryReport,
} from "./protocol/index.js";

export const ROLLOUT_LIMITS = {
  maxNodes: 10_000,
  minHealthWindowMs: 1_000,
  maxHealthWindowMs: 86_400_000,
  maxTimeoutMs: 3_600_000,
  maxBreakerThreshold: 1_000,
} as const;

export const RolloutIdSchema = z
  .string()
  .regex(/^rol_[A-Za-z0-9_-]{1,48}$/, "expected rol_ followed by 1-48 of A-Z a-z 0-9 _ -");

export const RolloutSpecSchema = z
  .strictObject({
    rolloutId: RolloutIdSchema,
    policyId: SchedPolicyIdSchema,
    version: PolicyVersionSchema,
    /** The target, resolved by the caller from node ids and label selectors. */
    nodes: z.array(NodeIdSchema).min(1).max(ROLLOUT_LIMITS.maxNodes),
    /** Share of the nodes that go first; at least one node. */
    canaryFraction: z.number().gt(0).max(1),
    healthWindowMs: z
      .int()
      .min(ROLLOUT_LIMITS.minHealthWindowMs)
      .max(ROLLOUT_LIMITS.maxHealthWindowMs),
    /** From a command to its ack. */
    ackTimeoutMs: z.int().min(100).max(ROLLOUT_LIMITS.maxTimeoutMs),
    /** From an assign command to the node's `active` (download and load included). */
    activateTimeoutMs: z.int().min(100).max(ROLLOUT_LIMITS.maxTimeoutMs),
    /** How old a node's newest report may be when its health is judged. */
    maxReportAgeMs: z.int().min(100).max(ROLLOUT_LIMITS.maxTimeoutMs),
    guards: z.array(GuardSchema).max(4),
    breaker: z.strictObject({
      /** Distinct nodes a version may fail on before it is quarantined (K). */
      threshold: z.int().min(1).max(ROLLOUT_LIMITS.maxBreakerThreshold),
      /** Nodes this version failed on before, in earlier rollouts. */
      failedNodes: z.array(NodeIdSchema).max(ROLLOUT_LIMITS.maxNodes),
      /** Already quarantined: the rollout is refused. */
      quarantined: z.boolean(),
    }),
  })
  .refine((s) => new Set(s.nodes).size === s.nodes.length, {
    message: "nodes must be distinct",
    path: ["nodes"],
  });
export type RolloutSpec = z.infer<typeof RolloutSpecSchema>;

export const ROLLOUT_PHASES = [
  "canary",
  "promoting",
  "completed",
  "stopped",
  "rolling_back",
  "rolled_back",
] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

export const NODE_STATES = [
  /** Not yet assigned (waits for promotion). */
  "pending",
  /** Assign command sent, not acknowledged. */
  "assigning",
  /** Acknowledged, not yet active. */
  "deploying",
  /** Running the policy. */
  "active",
  /** Not running it: the node took it off, refused or failed to load it. */
  "off",
  /** Revert command sent. */
  "reverting",
  /** The revert is confirmed. */
  "reverted",
  /** The revert's ack never came (the node may be offline). */
  "revert_unconfirmed",
  /** Never assigned: the rollout ended first. */
  "skipped",
] as const;
export type NodeState = (typeof NODE_STATES)[number];

export const FAILURE_REASONS = {
  ejected: { counted: true, what: "the kernel's watchdog ejected the scheduler" },
  guard_reverted: { counted: true, what: "the node's own guard reverted the policy" },
  load_failed: { counted: true, what: "the node failed to load the policy" },
  regression: { counted: true, what: "telemetry regressed past a guard" },
  offline_while_active: {
    counted: true,
    what: "the node went offline while running the policy (it may have hung it)",
  },
  refused: { counted: false, what: "the node refused the assignment (signature, expiry or hash)" },
  nack: { counted: false, what: "the node refused the command" },
  ack_timeout: { counted: false, what: "no ack before the deadline" },
  activate_timeout: { counted: false, what: "not active before the deadline" },
  offline: { counted: false, what: "the node went offline before running the policy" },
  stopped_externally: { counted: false, what: "something else took the policy off the node" },
  no_telemetry: { counted: false, what: "no fresh telemetry proved the node healthy" },
} as const;
export type FailureReason = keyof typeof FAILURE_REASONS;

interface CommandRecord {
  commandId: string;
  sentAtMs: number;
  deadlineAtMs: number;
  ackedAtMs: number | null;
}

export interface RolloutNode {
  nodeId: string;
  canary: boolean;
  state: NodeState;
  /** This rollout's assignment for the node (deterministic from the rollout id). */
  assignmentId: string;
  assign: CommandRecord | null;
  revert: CommandRecord | null;
  activateDeadlineAtMs: number | null;
  activeAtMs: number | null;
  online: boolean;
  failure: { reason: FailureReason; detail: string; counted: boolean; atMs: number } | null;
  /** The newest report from before the policy was active here. */
  baseline: TelemetryReport | null;
  tracker: GuardTracker;
  lastReportAtMs: number | null;
  lastVerdict: "ok" | "violating" | "regressed" | "no_evidence" | null;
}

export interface RolloutState {
  spec: Omit<RolloutSpec, "breaker">;
  phase: RolloutPhase;
  phaseReason: string | null;
  /** The current phase's health window, once every node of the phase is active. */
  window: { openedAtMs: number; endsAtMs: number } | null;
  nodes: RolloutNode[];
  /** Commands issued so far (numbers the next command id). */
  seq: number;
  breakerThreshold: number;
  /** Distinct nodes this version failed on, this rollout's counted failures included. */
  failedNodes: string[];
  quarantined: boolean;
  timerAtMs: number | null;
  startedAtMs: number;
  updatedAtMs: number;
  finishedAtMs: number | null;
}

export type RolloutEvent =
  | {
      type: "ack";
      atMs: number;
      nodeId: string;
      commandId: string;
      ok: boolean;
      error: { code: string; message: string } | null;
    }
  | { type: "deploy-status"; atMs: number; nodeId: string; status: DeployStatus }
  | { type: "telemetry"; atMs: number; nodeId: string; report: TelemetryReport }
  | { type: "node-offline"; atMs: number; nodeId: string }
  /** A node reconnected; `running` is what its hello says it runs. */
  | { type: "node-online"; atMs: number; nodeId: string; running: DeployStatus["running"] }
  | { type: "tick"; atMs: number }
  | { type: "stop"; atMs: number; actor: string; reason: string }
  | { type: "rollback"; atMs: number; actor: string; reason: string };

/** One transition, for the per-node and per-policy history. */
export interface HistoryEntry {
  atMs: number;
  rolloutId: string;
  policyId: string;
  version: number;
  /** Null for a transition of the rollout's phase. */
  nodeId: string | null;
  from: string;
  to: string;
  reason: string | null;
}

export type RolloutAction =
  | {
      type: "assign";
      nodeId: string;
      commandId: string;
      assignmentId: string;
      canary: boolean;
      deadlineAtMs: number;
    }
  | {
      type: "revert";
      nodeId: string;
      commandId: string;
      assignmentId: string;
      reason: string;
      deadlineAtMs: number;
    }
  | { type: "set-timer"; atMs: number }
  | { type: "clear-timer" }
  | {
      type: "node-failure";
      policyId: string;
      version: number;
      nodeId: string;
      reason: FailureReason;
      detail: string;
      counted: boolean;
    }
  | { type: "quarantine"; policyId: string; version: number; failedNodes: string[]; reason: string }
  | { type: "record"; entry: HistoryEntry }
  | { type: "finished"; phase: "completed" | "rolled_back"; reason: string | null };

export interface Transition {
  state: RolloutState;
  actions: RolloutAction[];
}

export type StartResult =
  | ({ ok: true } & Transition)
  | { ok: false; code: "invalid" | "quarantined"; message: string };

/** The machine's whole interface. */
export interface RolloutMachine {
  start(
    spec: RolloutSpec,
    baselines: Readonly<Record<string, TelemetryReport | null>>,
    nowMs: number,
  ): StartResult;
  step(state: RolloutState, event: RolloutEvent): Transition;
}
