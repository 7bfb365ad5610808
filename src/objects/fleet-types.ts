/**
 * The Fleet object's RPC surface and its plain-JSON value types. The rollout engine, the
 * verification dispatcher and the HTTPS API call these through `fleetStub(env, tenantId)`.
 */

import type { NodeSelector, NodeTarget } from "../schedcp/fleet/targets.js";
import type {
  CommandBody,
  DeployStatus,
  Guard,
  NODE_ROLES,
  NodeFacts,
  TelemetryReport,
  VerifyJob,
  VerifyResult,
} from "../schedcp/protocol/index.js";
import type { RolloutCommandReply } from "./fleet-rollout-engine.js";
import type { AssignmentTemplate, RolloutRow } from "./fleet-rollouts.js";
import type { VerifyJobRow } from "./fleet-verify.js";

export type { NodeSelector, NodeTarget, VerifyJobRow };

export type NodeRole = (typeof NODE_ROLES)[number];

/** What runs on a node: an assignment, or null for the kernel's default scheduler. */
export type Running = DeployStatus["running"];

/**
 * Where one command to one node stands.
 * - `sent`: on the wire, no ack yet (before its deadline)
 * - `acked`: the node answered `ok: true`
 * - `failed`: the node answered `ok: false` (its `error` says why)
 * - `timed_out`: no ack by the deadline
 * - `offline`: the node had no open connection when the command was sent; nothing was sent
 */
export type CommandStatus = "sent" | "acked" | "failed" | "timed_out" | "offline";

export interface CommandResult {
  commandId: string;
  batchId: string;
  nodeId: string;
  op: CommandBody["op"];
  status: CommandStatus;
  error: { code: string; message: string } | null;
  createdAtMs: number;
  deadlineAtMs: number;
  /** When the ack (or the timeout) settled it; null while `sent`. */
  settledAtMs: number | null;
  /** settledAtMs − createdAtMs for acked and failed commands, by the object's clock. */
  latencyMs: number | null;
}

export interface CommandOptions {
  /** How long to wait for each ack, 1 s – 10 min (default 30 s). */
  timeoutMs?: number;
  /** Resolve once every command has settled (default), or at once with what was sent. */
  wait?: boolean;
}

export type SendCommandReply =
  | {
      ok: true;
      batchId: string;
      results: CommandResult[];
      counts: Record<CommandStatus, number>;
    }
  | {
      ok: false;
      code: "invalid_command" | "too_many_targets" | "wrong_tenant";
      message: string;
    };

/** A node as the Fleet object sees it now. */
export interface NodeLive {
  nodeId: string;
  role: NodeRole;
  labels: Record<string, string>;
  /** `online` while a connection that said hello is open. */
  status: "online" | "offline";
  connectedAtMs: number | null;
  /** Last frame of any kind from the node. */
  lastSeenAtMs: number | null;
  agentVersion: string | null;
  dryRun: boolean;
  running: Running;
  facts: NodeFacts | null;
  lastTelemetry: {
    seq: number;
    atMs: number;
    receivedAtMs: number;
    report: TelemetryReport;
  } | null;
}

export interface TelemetryEntry {
  seq: number;
  /** The node's clock when it sent the report. */
  atMs: number;
  receivedAtMs: number;
  report: TelemetryReport;
}

export interface DeployEventEntry {
  seq: number;
  receivedAtMs: number;
  status: DeployStatus;
}

/** A page, newest first; pass `nextBeforeSeq` as `beforeSeq` for the next one. */
export interface SeqPage<T> {
  items: T[];
  nextBeforeSeq: number | null;
}

/** A node's facts and newest telemetry, for workload analysis (`FleetRpc.windows`). */
export interface NodeWindowEntry {
  nodeId: string;
  /** Null when the node never said hello to this object. */
  facts: NodeFacts | null;
  /** Newest first. */
  reports: TelemetryEntry[];
}

export interface VerifyResultEntry {
  nodeId: string;
  receivedAtMs: number;
  result: VerifyResult;
}

/** What `startVerify` did: the node that took the job, or why none did. */
export type StartVerifyReply =
  | { ok: true; nodeId: string; deadlineAtMs: number }
  | {
      ok: false;
      code: "no_verifier" | "refused" | "wrong_tenant";
      message: string;
      /** Each verifier tried and what it answered. */
      tried: Array<{ nodeId: string; status: CommandStatus; error: string | null }>;
    };

/** Who is connecting, as the Worker established it from the node credential and D1. */
export interface ConnectIdentity {
  tenantId: string;
  nodeId: string;
  role: NodeRole;
  credentialId: string;
  /** Labels as D1 holds them (the node's merged with its token's). */
  labels: Record<string, string>;
  /** The token's labels, laid over whatever the node says in its hello. */
  tokenLabels: Record<string, string>;
}

/** The header carrying `ConnectIdentity` from the Worker to the object (never from outside). */
export const CONNECT_IDENTITY_HEADER = "x-edgekernel-fleet-identity";

/**
 * The RPC surface of a Fleet object. Every method takes the caller's tenant; the object serves
 * one, and answers another tenant's calls as if about missing nodes.
 */
export interface FleetRpc {
  /**
   * Sends `body` to each targeted node that is connected and waits for the acks (or each
   * deadline). Nodes without a connection get `offline` at once. A selector is resolved against
   * the nodes this object has seen say hello.
   */
  sendCommand(
    tenantId: string,
    target: NodeTarget,
    body: CommandBody,
    options?: CommandOptions,
  ): Promise<SendCommandReply>;
  /** The current state of commands, by command id (unknown ids are left out). */
  commandResults(tenantId: string, commandIds: string[]): Promise<CommandResult[]>;
  /** One node's live state, or null when it never said hello to this object. */
  node(tenantId: string, nodeId: string): Promise<NodeLive | null>;
  /** The live state of every node the selector matches (without facts and telemetry). */
  nodes(tenantId: string, selector: NodeSelector): Promise<NodeLive[]>;
  telemetry(
    tenantId: string,
    nodeId: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<SeqPage<TelemetryEntry>>;
  deployEvents(
    tenantId: string,
    nodeId: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<SeqPage<DeployEventEntry>>;
  /**
   * Each named node's facts and newest `reportsPerNode` telemetry reports (newest first), in
   * one call: a group's workload profile reads many nodes at once. At most
   * `FLEET_OBJECT_LIMITS.windowNodesMax` nodes; a node this object never saw comes back empty.
   */
  windows(tenantId: string, nodeIds: string[], reportsPerNode: number): Promise<NodeWindowEntry[]>;
  /**
   * Sends a verification job to a connected verifier node of the tenant that is not running one
   * (each in turn, until one acknowledges it) and keeps it until its result or `timeoutMs`.
   */
  startVerify(
    tenantId: string,
    job: VerifyJob,
    options: { timeoutMs: number; ackTimeoutMs?: number },
  ): Promise<StartVerifyReply>;
  /** A verification job as the object keeps it, or null. */
  verifyJob(tenantId: string, jobId: string): Promise<VerifyJobRow | null>;
  /** Records the object a job's node uploaded; false when the job is not its running job. */
  verifyUploaded(
    tenantId: string,
    jobId: string,
    nodeId: string,
    sha256: string,
    sizeBytes: number,
  ): Promise<boolean>;
  /** The result a verifier node sent for `jobId`, or null while there is none. */
  verifyResult(tenantId: string, jobId: string): Promise<VerifyResultEntry | null>;
  /**
   * Refuses this credential from now on and closes its node's connections (code 4401).
   * Returns how many sockets were closed.
   */
  revoke(tenantId: string, nodeId: string, credentialId: string): Promise<{ closed: number }>;
  /** Starts a rollout on the nodes its target resolves to (connected nodes of role `node`). */
  startRollout(tenantId: string, request: RolloutRequest): Promise<StartRolloutReply>;
  /** One rollout, or null. */
  rollout(tenantId: string, rolloutId: string): Promise<RolloutRow | null>;
  /** Rollouts newest first, before `beforeId`, optionally in one phase. */
  rollouts(
    tenantId: string,
    query: { limit: number; beforeId: string | null; phase: string | null },
  ): Promise<RolloutRow[]>;
  /** An operator's stop or rollback of a rollout. */
  rolloutCommand(
    tenantId: string,
    rolloutId: string,
    command: { type: "stop" | "rollback"; actor: string; reason: string },
  ): Promise<RolloutCommandReply>;
}

/** A rollout as the call layer asks the Fleet object to start it (the object resolves the target). */
export interface RolloutRequest {
  rolloutId: string;
  policyId: string;
  version: number;
  target: NodeTarget;
  canaryFraction: number;
  healthWindowMs: number;
  ackTimeoutMs: number;
  activateTimeoutMs: number;
  /** Null: three telemetry intervals of this fleet. */
  maxReportAgeMs: number | null;
  guards: Guard[];
  breaker: { threshold: number; failedNodes: string[]; quarantined: boolean };
  template: AssignmentTemplate;
  createdBy: string;
}

export type StartRolloutReply =
  | { ok: true; rollout: RolloutRow }
  | {
      ok: false;
      code:
        | "no_nodes"
        | "unknown_nodes"
        | "wrong_role"
        | "offline"
        | "busy"
        | "invalid"
        | "quarantined"
        | "wrong_tenant";
      message: string;
      /** The nodes at fault, when some are. */
      nodeIds: string[];
    };

export type { RolloutCommandReply, RolloutRow };
