/**
 * The fleet's node registry as calls: `(env, db, caller, input)` functions the HTTPS routes and
 * the MCP tools both call, so the surfaces cannot drift. Each passes the one call gate
 * (`gateSyscall`: a tenant key as itself, with a reader's role or more; an agent key as its
 * process, which needs `fleet.observe`) and scopes to the caller's tenant: another tenant's
 * node answers 404, like a missing one. The agent loop, whose gate has already run, calls the
 * `…In` functions with its tenant.
 */

import type { z } from "zod";
import { READ_ROLES } from "../api/authorize.js";
import { cursorKey, INVALID_CURSOR, pageOf } from "../api/pagination.js";
import { ApiError, fieldError } from "../api/problem.js";
import type {
  DeployEventSchema,
  NodeDetailSchema,
  NodeSummarySchema,
  TelemetryEntrySchema,
} from "../api/schemas-fleet.js";
import type { Env } from "../env.js";
import { fleetStub } from "../objects/fleet.js";
import type { NodeLive, TelemetryEntry } from "../objects/fleet-types.js";
import type { Caller, Page } from "../objects/process-calls.js";
import { encodeCursor } from "../store/cursor.js";
import type { Db } from "../store/db.js";
import { findNode, listNodes, type NodeRow } from "../store/fleet.js";
import { gateScope } from "./call-scope.js";
import { SCHED_CAPABILITIES } from "./capabilities.js";
import type { Labels } from "./fleet/labels.js";
import {
  FLEET_LIMITS,
  LabelKeySchema,
  LabelValueSchema,
  type NODE_ROLES,
} from "./protocol/index.js";

export type NodeSummaryView = z.infer<typeof NodeSummarySchema>;
export type NodeDetailView = z.infer<typeof NodeDetailSchema>;
export type TelemetryEntryView = z.infer<typeof TelemetryEntrySchema>;
export type DeployEventView = z.infer<typeof DeployEventSchema>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * `key=value` query strings (one or repeated) as labels, each key and value checked as the
 * protocol checks labels; 422 at `path` (with the index when repeated) otherwise. A key given
 * twice with two values can match no node: that is `null`, for the caller to answer with
 * nothing (a listing) or to refuse (a profile).
 *
 * @example labelSelector(["tier=web", "zone=a"]) // { tier: "web", zone: "a" }
 */
export function labelSelector(
  raw: string | readonly string[] | undefined,
  path = "label",
): Labels | null {
  const pairs = raw === undefined ? [] : typeof raw === "string" ? [raw] : raw;
  if (pairs.length > FLEET_LIMITS.labelsMax) {
    throw fieldError(path, `at most ${FLEET_LIMITS.labelsMax} labels`, "too_many_labels");
  }
  const labels: Labels = {};
  let contradictory = false;
  pairs.forEach((pair, i) => {
    const at = pairs.length > 1 ? `${path}[${i}]` : path;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw fieldError(at, "expected key=value", "invalid_format");
    const key = LabelKeySchema.safeParse(pair.slice(0, eq));
    const value = LabelValueSchema.safeParse(pair.slice(eq + 1));
    if (!key.success) throw fieldError(at, `key: ${key.error.issues[0]?.message}`, "invalid_key");
    if (!value.success) {
      throw fieldError(at, `value: ${value.error.issues[0]?.message}`, "invalid_value");
    }
    const seen = labels[key.data];
    if (seen !== undefined && seen !== value.data) contradictory = true;
    labels[key.data] = value.data;
  });
  return contradictory ? null : labels;
}

/** A telemetry or event cursor: the sequence number to continue below; 422 otherwise. */
function seqCursor(cursor: string | undefined): number | null {
  const key = cursorKey(cursor);
  if (key === undefined) return null;
  if (!/^\d{1,15}$/.test(key)) throw fieldError("cursor", INVALID_CURSOR, "invalid_cursor");
  return Number(key);
}

/**
 * A node of the tenant (revoked ones too), or 404 for a missing or foreign one.
 *
 * @example const row = await nodeOr404(db, tenantId, "web-1")
 */
export async function nodeOr404(db: Db, tenantId: string, id: string): Promise<NodeRow> {
  const row = await findNode(db, tenantId, id);
  if (!row) throw new ApiError("not_found", `no node ${id}`);
  return row;
}

export function summaryOf(row: NodeRow): NodeSummaryView {
  return {
    id: row.id,
    role: row.role,
    labels: JSON.parse(row.labelsJson) as Record<string, string>,
    status: row.status,
    lastSeenAt: iso(row.lastSeenAtMs),
    running: row.runningJson === null ? null : JSON.parse(row.runningJson),
    dryRun: row.dryRun,
    agentVersion: row.agentVersion,
    enrolledAt: new Date(row.enrolledAtMs).toISOString(),
    revokedAt: iso(row.revokedAtMs),
  };
}

export function telemetryView(entry: TelemetryEntry): TelemetryEntryView {
  return {
    seq: entry.seq,
    at: new Date(entry.atMs).toISOString(),
    receivedAt: new Date(entry.receivedAtMs).toISOString(),
    report: entry.report,
  };
}

/** A node's D1 row with what the Fleet object knows live laid over it. */
export function detailOf(row: NodeRow, live: NodeLive | null): NodeDetailView {
  const summary = summaryOf(row);
  return {
    ...summary,
    status: live ? live.status : summary.status,
    lastSeenAt: live?.lastSeenAtMs ? iso(live.lastSeenAtMs) : summary.lastSeenAt,
    running: live ? live.running : summary.running,
    labels: live ? live.labels : summary.labels,
    facts: live?.facts ?? JSON.parse(row.factsJson),
    connectedAt: live?.status === "online" ? iso(live.connectedAtMs) : null,
    credentialPrefix: row.credentialPrefix,
    lastTelemetry: live?.lastTelemetry ? telemetryView(live.lastTelemetry) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Nodes

export interface NodeListInput {
  /** Every label must match; null matches nothing (a contradictory selector). */
  labels: Labels | null;
  role?: (typeof NODE_ROLES)[number] | undefined;
  status?: "online" | "offline" | undefined;
  includeRevoked?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * The tenant's nodes by id, filtered by labels (all must match), role and status.
 *
 * @example await listNodesAs(env, db, principal, { labels: { tier: "web" }, limit: 20 })
 */
export async function listNodesAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: NodeListInput,
): Promise<Page<NodeSummaryView>> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.observe, READ_ROLES);
  return listNodesIn(db, scope.tenantId, input);
}

/** `listNodesAs` for a caller the gate has already let through. */
export async function listNodesIn(
  db: Db,
  tenantId: string,
  input: NodeListInput,
): Promise<Page<NodeSummaryView>> {
  const afterId = cursorKey(input.cursor);
  if (input.labels === null) return { items: [], nextCursor: null };
  const rows = await listNodes(db, {
    tenantId,
    role: input.role,
    status: input.status,
    labels: Object.entries(input.labels).map(([key, value]) => ({ key, value })),
    includeRevoked: input.includeRevoked ?? false,
    afterId,
    limit: input.limit,
  });
  const { page, nextCursor } = pageOf(rows, input.limit, (r) => r.id);
  return { items: page.map(summaryOf), nextCursor };
}

/**
 * One node: facts, status, what runs and its last telemetry (live from the Fleet object).
 *
 * @example await getNodeAs(env, db, principal, { id: "web-1" })
 */
export async function getNodeAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string },
): Promise<NodeDetailView> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.observe, READ_ROLES);
  const row = await nodeOr404(db, scope.tenantId, input.id);
  // The object knows the live state; D1 has what it mirrored at the last state change.
  const live =
    row.revokedAtMs === null
      ? await fleetStub(env, row.tenantId).node(row.tenantId, input.id)
      : null;
  return detailOf(row, live);
}

/**
 * A node's recent telemetry reports, newest first.
 *
 * @example await nodeTelemetryAs(env, db, principal, { id: "web-1", limit: 20 })
 */
export async function nodeTelemetryAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; limit: number; cursor?: string | undefined },
): Promise<Page<TelemetryEntryView>> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.observe, READ_ROLES);
  const beforeSeq = seqCursor(input.cursor);
  await nodeOr404(db, scope.tenantId, input.id);
  const page = await fleetStub(env, scope.tenantId).telemetry(
    scope.tenantId,
    input.id,
    beforeSeq,
    input.limit,
  );
  return {
    items: page.items.map(telemetryView),
    nextCursor: page.nextBeforeSeq === null ? null : encodeCursor(String(page.nextBeforeSeq)),
  };
}

/**
 * A node's deploy transitions (what it loaded, reverted, refused), newest first: its history.
 *
 * @example await nodeEventsAs(env, db, principal, { id: "web-1", limit: 20 })
 */
export async function nodeEventsAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; limit: number; cursor?: string | undefined },
): Promise<Page<DeployEventView>> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.observe, READ_ROLES);
  return nodeEventsIn(env, db, scope.tenantId, input);
}

/** `nodeEventsAs` for a caller the gate has already let through. */
export async function nodeEventsIn(
  env: Env,
  db: Db,
  tenantId: string,
  input: { id: string; limit: number; cursor?: string | undefined },
): Promise<Page<DeployEventView>> {
  const beforeSeq = seqCursor(input.cursor);
  await nodeOr404(db, tenantId, input.id);
  const page = await fleetStub(env, tenantId).deployEvents(
    tenantId,
    input.id,
    beforeSeq,
    input.limit,
  );
  return {
    items: page.items.map((e) => ({
      seq: e.seq,
      receivedAt: new Date(e.receivedAtMs).toISOString(),
      status: e.status,
    })),
    nextCursor: page.nextBeforeSeq === null ? null : encodeCursor(String(page.nextBeforeSeq)),
  };
}
