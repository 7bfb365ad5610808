/**
 * Rollouts as calls, beside verify-calls.ts and with the same caller shape, so the HTTPS routes
 * (`/v1/rollouts`) and the MCP tools are thin adapters over them. A tenant key needs its role;
 * an agent key acts as its process, whose gate checks `sched.deploy` (high: a person approves),
 * `sched.rollback` or `sched.read` (`personOrProcessScope`). Inputs are parsed here with
 * the schemas below (an MCP tool's arguments get the same field errors as an HTTPS body).
 *
 * The repository decides what may roll out (a `signed`, not quarantined version of a policy the
 * tenant sees, re-signed when its signature ends soon); the tenant's Fleet object resolves the
 * target and runs the state machine (src/objects/fleet-rollout-engine.ts).
 */

import { z } from "zod";
import { READ_ROLES, WRITE_ROLES } from "../api/authorize.js";
import { cursorKey, pageOf } from "../api/pagination.js";
import { ApiError, fieldError, fromZodIssues } from "../api/problem.js";
import type { Env } from "../env.js";
import { newUuidV7Hex } from "../kernel/ids.js";
import { fleetStub } from "../objects/fleet.js";
import type { RolloutRow } from "../objects/fleet-rollouts.js";
import type { Caller } from "../objects/process-calls.js";
import type { Db } from "../store/db.js";
import { findNode } from "../store/fleet.js";
import { ensureBuiltinPolicies } from "../store/sched-builtins.js";
import { activeQuarantines, failedNodes } from "../store/sched-circuit-breaker.js";
import { getPolicy, getVersion, type VersionRow } from "../store/sched-policies.js";
import { gateScope, personOrProcessScope, type Scope } from "./call-scope.js";
import { SCHED_CAPABILITIES } from "./capabilities.js";
import { MAX_TARGET_NODE_IDS } from "./fleet/targets.js";
import { type HistoryItemView, historyPage } from "./policy-reads.js";
import {
  type Guard,
  GuardSchema,
  LabelsSchema,
  NodeIdSchema,
  PolicyVersionSchema,
  SchedPolicyIdSchema,
} from "./protocol/index.js";
import {
  type FailureReason,
  type NodeState,
  ROLLOUT_LIMITS,
  ROLLOUT_PHASES,
  RolloutIdSchema,
  type RolloutPhase,
} from "./rollout-types.js";
import { payloadOf, RESIGN_BEFORE_EXPIRY_MS, signVersion } from "./verification.js";

export const ROLLOUT_DEFAULTS = {
  canaryFraction: 0.25,
  healthWindowMs: 60_000,
  ackTimeoutMs: 30_000,
  activateTimeoutMs: 120_000,
  /** K: distinct nodes a version may fail on before it is quarantined. */
  failureThreshold: 3,
} as const;

/** Without guards in the request: CPU pressure may not grow by more than half over 5 %. */
export const DEFAULT_GUARDS: readonly Guard[] = [
  { metric: "psiSomeAvg10Pct", maxIncreasePct: 50, floor: 5, sustainMs: 0 },
];

const TimeoutMsSchema = z.int().min(100).max(ROLLOUT_LIMITS.maxTimeoutMs);

export const RolloutCreateSchema = z.strictObject({
  policyId: SchedPolicyIdSchema,
  version: PolicyVersionSchema,
  target: z
    .strictObject({
      nodeIds: z.array(NodeIdSchema).min(1).max(MAX_TARGET_NODE_IDS).optional(),
      labels: LabelsSchema.optional(),
    })
    .superRefine((t, ctx) => {
      if ((t.nodeIds === undefined) === (t.labels === undefined)) {
        ctx.addIssue({ code: "custom", message: "give exactly one of nodeIds and labels" });
      } else if (t.labels !== undefined && Object.keys(t.labels).length === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["labels"],
          message: "at least one label (a rollout to every node names them)",
        });
      }
    }),
  canaryFraction: z.number().gt(0).max(1).default(ROLLOUT_DEFAULTS.canaryFraction),
  healthWindowMs: z
    .int()
    .min(ROLLOUT_LIMITS.minHealthWindowMs)
    .max(ROLLOUT_LIMITS.maxHealthWindowMs)
    .default(ROLLOUT_DEFAULTS.healthWindowMs),
  ackTimeoutMs: TimeoutMsSchema.default(ROLLOUT_DEFAULTS.ackTimeoutMs),
  activateTimeoutMs: TimeoutMsSchema.default(ROLLOUT_DEFAULTS.activateTimeoutMs),
  /** Default: three telemetry intervals, at least the health window. */
  maxReportAgeMs: TimeoutMsSchema.optional(),
  guards: z.array(GuardSchema).max(4).optional(),
  failureThreshold: z
    .int()
    .min(1)
    .max(ROLLOUT_LIMITS.maxBreakerThreshold)
    .default(ROLLOUT_DEFAULTS.failureThreshold),
});
export type RolloutCreateInput = z.input<typeof RolloutCreateSchema>;

export const RolloutListQuerySchema = z.strictObject({
  limit: z.int().min(1).max(100).default(20),
  cursor: z.string().max(256).optional(),
  phase: z.enum(ROLLOUT_PHASES).optional(),
});

export const RolloutCommandSchema = z.strictObject({
  reason: z.string().min(1).max(500).optional(),
});

export interface RolloutNodeView {
  nodeId: string;
  canary: boolean;
  state: NodeState;
  assignmentId: string;
  online: boolean;
  activeAt: string | null;
  lastVerdict: string | null;
  failure: { reason: FailureReason; detail: string; counted: boolean; at: string } | null;
}

export interface RolloutView {
  rolloutId: string;
  policyId: string;
  version: number;
  phase: RolloutPhase;
  phaseReason: string | null;
  target: { nodeIds: string[]; labels: Record<string, string> | null };
  canaryFraction: number;
  healthWindowMs: number;
  guards: Guard[];
  window: { openedAt: string; endsAt: string } | null;
  failedNodes: string[];
  quarantined: boolean;
  nodes: RolloutNodeView[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** The API's view of a rollout the Fleet object keeps. */
export function rolloutView(row: RolloutRow): RolloutView {
  const s = row.state;
  return {
    rolloutId: row.rolloutId,
    policyId: s.spec.policyId,
    version: s.spec.version,
    phase: s.phase,
    phaseReason: s.phaseReason,
    target: row.target,
    canaryFraction: s.spec.canaryFraction,
    healthWindowMs: s.spec.healthWindowMs,
    guards: s.spec.guards,
    window: s.window
      ? { openedAt: iso(s.window.openedAtMs), endsAt: iso(s.window.endsAtMs) }
      : null,
    failedNodes: s.failedNodes,
    quarantined: s.quarantined,
    nodes: s.nodes.map((n) => ({
      nodeId: n.nodeId,
      canary: n.canary,
      state: n.state,
      assignmentId: n.assignmentId,
      online: n.online,
      activeAt: isoOrNull(n.activeAtMs),
      lastVerdict: n.lastVerdict,
      failure: n.failure
        ? {
            reason: n.failure.reason,
            detail: n.failure.detail,
            counted: n.failure.counted,
            at: iso(n.failure.atMs),
          }
        : null,
    })),
    createdBy: row.createdBy,
    createdAt: iso(row.createdAtMs),
    updatedAt: iso(s.updatedAtMs),
    finishedAt: isoOrNull(s.finishedAtMs),
  };
}

function parse<T extends z.ZodType>(
  schema: T,
  input: unknown,
  where: "body" | "query",
): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw fromZodIssues(parsed.error.issues, where);
  return parsed.data;
}

/**
 * Starts a rollout of a signed version: canaries first, promoted after the health window if
 * the guards hold, rolled back on regression or ejection.
 *
 * @example await startRolloutAs(env, db, principal, { policyId: "spol_…", version: 1, target: { labels: { tier: "web" } } })
 */
export async function startRolloutAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: unknown,
): Promise<RolloutView> {
  const scope = await personOrProcessScope(env, db, caller, SCHED_CAPABILITIES.deploy, WRITE_ROLES);
  return startRolloutIn(env, db, scope, input);
}

/** `startRolloutAs` for a caller the gate has already let through (the agent loop). */
export async function startRolloutIn(
  env: Env,
  db: Db,
  principal: Scope,
  input: unknown,
): Promise<RolloutView> {
  const body = parse(RolloutCreateSchema, input, "body");
  await ensureBuiltinPolicies(db, env.BLOBS);
  const policy = await getPolicy(db, principal.tenantId, body.policyId);
  if (!policy) throw new ApiError("not_found", `no policy ${body.policyId}`);
  let version = await getVersion(db, policy.id, body.version);
  if (!version) throw new ApiError("not_found", `no version ${body.version} of ${policy.id}`);
  const quarantine = (await activeQuarantines(db, principal.tenantId, policy.id)).find(
    (q) => q.version === body.version,
  );
  if (quarantine) {
    throw new ApiError(
      "version_quarantined",
      `${policy.id} version ${body.version} is quarantined: ${quarantine.reason}; clear it (POST /v1/policies/${policy.id}/versions/${body.version}/clear-quarantine) before rolling it out again`,
      { extra: { failedNodes: JSON.parse(quarantine.failedNodesJson) as string[] } },
    );
  }
  if (version.status !== "signed") {
    throw new ApiError(
      "version_not_signed",
      `${policy.id} version ${body.version} is ${version.status}; only a signed version rolls out (verify it first: POST /v1/policies/${policy.id}/versions/${body.version}/verify)`,
      { extra: { status: version.status } },
    );
  }
  const nowMs = Date.now();
  version = await freshSignature(env, db, version, nowMs);
  const payload = payloadOf(version, version.signedExpiresAtMs!);
  if (!payload || !version.signature || !version.keyId || version.objectSizeBytes === null) {
    throw new Error(`${policy.id}@${body.version} is signed without an object or signature`);
  }
  const rolloutId = `rol_${newUuidV7Hex(nowMs)}`;
  const reply = await fleetStub(env, principal.tenantId).startRollout(principal.tenantId, {
    rolloutId,
    policyId: policy.id,
    version: body.version,
    target: body.target.nodeIds
      ? { nodeIds: body.target.nodeIds }
      : { selector: { labels: body.target.labels ?? {} } },
    canaryFraction: body.canaryFraction,
    healthWindowMs: body.healthWindowMs,
    ackTimeoutMs: body.ackTimeoutMs,
    activateTimeoutMs: body.activateTimeoutMs,
    maxReportAgeMs: body.maxReportAgeMs ?? null,
    guards: body.guards ?? [...DEFAULT_GUARDS],
    breaker: {
      threshold: body.failureThreshold,
      failedNodes: await failedNodes(db, principal.tenantId, policy.id, body.version),
      quarantined: false,
    },
    template: {
      payload,
      artifact: {
        kind: "bpf-object",
        sizeBytes: version.objectSizeBytes,
        opsName: policy.opsName,
      },
      guards: body.guards ?? [...DEFAULT_GUARDS],
      signature: version.signature,
      keyId: version.keyId,
    },
    createdBy: principal.actor,
  });
  if (reply.ok) return rolloutView(reply.rollout);
  const nodesPath = body.target.nodeIds ? "target.nodeIds" : "target.labels";
  switch (reply.code) {
    case "unknown_nodes":
    case "wrong_tenant":
      throw new ApiError("not_found", reply.message, {
        errors: reply.nodeIds.map((id) => ({
          path: nodesPath,
          message: `no node ${id}`,
          code: "not_found",
        })),
      });
    case "no_nodes":
      throw fieldError("target.labels", reply.message, "no_match");
    case "wrong_role":
      throw fieldError(nodesPath, reply.message, "wrong_role");
    case "offline":
    case "busy":
      throw new ApiError("nodes_unavailable", reply.message, {
        extra: { reason: reply.code, nodeIds: reply.nodeIds },
      });
    case "quarantined":
      throw new ApiError("version_quarantined", reply.message);
    case "invalid":
      throw new ApiError("validation_failed", reply.message);
  }
}

/** A signed version whose signature ends within RESIGN_BEFORE_EXPIRY_MS, re-signed. */
async function freshSignature(
  env: Env,
  db: Db,
  row: VersionRow,
  nowMs: number,
): Promise<VersionRow> {
  if (row.signedExpiresAtMs !== null && row.signedExpiresAtMs - nowMs >= RESIGN_BEFORE_EXPIRY_MS) {
    return row;
  }
  const signed = await signVersion(env, db, row, nowMs);
  if (!signed.ok) {
    throw new ApiError(
      "unavailable",
      `${row.policyId} version ${row.version} could not be re-signed: ${signed.reason}`,
    );
  }
  const again = await getVersion(db, row.policyId, row.version);
  if (!again) throw new Error(`${row.policyId}@${row.version} vanished while re-signing`);
  return again;
}

function rolloutIdOr404(id: string): string {
  if (!RolloutIdSchema.safeParse(id).success) throw new ApiError("not_found", `no rollout ${id}`);
  return id;
}

/**
 * One rollout: its phase, each node's state and failure, the health window.
 *
 * @example await rolloutStatusAs(env, db, principal, { id: "rol_…" })
 */
export async function rolloutStatusAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string },
): Promise<RolloutView> {
  const scope = await personOrProcessScope(env, db, caller, SCHED_CAPABILITIES.read, READ_ROLES);
  return rolloutStatusIn(env, scope, input);
}

/** `rolloutStatusAs` for a caller the gate has already let through (the agent loop). */
export async function rolloutStatusIn(
  env: Env,
  principal: Scope,
  input: { id: string },
): Promise<RolloutView> {
  const id = rolloutIdOr404(input.id);
  const row = await fleetStub(env, principal.tenantId).rollout(principal.tenantId, id);
  if (!row) throw new ApiError("not_found", `no rollout ${id}`);
  return rolloutView(row);
}

/**
 * The tenant's rollouts, newest first (the Fleet object keeps the newest 1,000; older ones
 * live on in the policies' history).
 *
 * @example await listRolloutsAs(env, db, principal, { limit: 20, phase: "canary" })
 */
export async function listRolloutsAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: unknown,
): Promise<{ items: RolloutView[]; nextCursor: string | null }> {
  const principal = await personOrProcessScope(
    env,
    db,
    caller,
    SCHED_CAPABILITIES.read,
    READ_ROLES,
  );
  const q = parse(RolloutListQuerySchema, input, "query");
  const beforeId = cursorKey(q.cursor) ?? null;
  const rows = await fleetStub(env, principal.tenantId).rollouts(principal.tenantId, {
    limit: q.limit + 1,
    beforeId,
    phase: q.phase ?? null,
  });
  const { page, nextCursor } = pageOf(rows, q.limit, (r) => r.rolloutId);
  return { items: page.map(rolloutView), nextCursor };
}

async function commandAs(
  env: Env,
  db: Db,
  caller: Caller,
  type: "stop" | "rollback",
  input: { id: string; reason?: string | undefined },
): Promise<RolloutView> {
  const principal = await personOrProcessScope(
    env,
    db,
    caller,
    SCHED_CAPABILITIES.rollback,
    WRITE_ROLES,
  );
  const id = rolloutIdOr404(input.id);
  const { reason } = parse(RolloutCommandSchema, { reason: input.reason }, "body");
  const reply = await fleetStub(env, principal.tenantId).rolloutCommand(principal.tenantId, id, {
    type,
    actor: principal.actor,
    reason: reason ?? `${type} requested`,
  });
  if (reply.ok) return rolloutView(reply.rollout);
  if (reply.code === "not_found") throw new ApiError("not_found", reply.message);
  throw new ApiError("illegal_transition", reply.message, { extra: { phase: reply.phase } });
}

/**
 * Stops promotion: nodes that run the version keep it, no other node gets it (roll back to
 * take it off them too). 409 outside canary and promoting.
 *
 * @example await stopRolloutAs(env, db, principal, { id: "rol_…", reason: "investigating" })
 */
export async function stopRolloutAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; reason?: string | undefined },
): Promise<RolloutView> {
  return commandAs(env, db, caller, "stop", input);
}

/**
 * Reverts every node of the rollout to what it ran before (also after completion). 409 when
 * it is already rolling back or rolled back.
 *
 * @example await rollbackRolloutAs(env, db, principal, { id: "rol_…", reason: "p99 worse" })
 */
export async function rollbackRolloutAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; reason?: string | undefined },
): Promise<RolloutView> {
  return commandAs(env, db, caller, "rollback", input);
}

/**
 * A node's rollout history across every policy (its transitions in each rollout, and the
 * performance records of policies that ran on it), newest first.
 *
 * @example await nodeHistoryAs(env, db, principal, { id: "web-1", limit: 50 })
 */
export async function nodeHistoryAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; limit: number; cursor?: string | undefined },
): Promise<{ items: HistoryItemView[]; nextCursor: string | null }> {
  const principal = await gateScope(env, db, caller, SCHED_CAPABILITIES.observe, READ_ROLES);
  const node = NodeIdSchema.safeParse(input.id).success
    ? await findNode(db, principal.tenantId, input.id)
    : null;
  if (!node) throw new ApiError("not_found", `no node ${input.id}`);
  return historyPage(
    db,
    { tenantId: principal.tenantId, nodeId: input.id },
    input.limit,
    input.cursor,
  );
}
