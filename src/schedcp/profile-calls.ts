/**
 * Workload profiles as calls: a window of a node's (or a label group's) newest telemetry from
 * the tenant's Fleet object, classified by the pure analysis (workload.ts), with the policies
 * the tenant's repository recommends for that class (recommend.ts through
 * `recommendForWorkload`). Thin adapters: they read, call the pure modules, and shape the view.
 * The HTTPS routes and MCP tools call the `…As` functions (gated by `fleet.observe`); the agent
 * loop, whose gate has run, calls the `…In` functions.
 */

import { READ_ROLES } from "../api/authorize.js";
import { fieldError } from "../api/problem.js";
import type { GroupProfileView, NodeProfileView } from "../api/schemas-profile.js";
import type { Env } from "../env.js";
import { fleetStub } from "../objects/fleet.js";
import type { NodeWindowEntry } from "../objects/fleet-types.js";
import type { Caller } from "../objects/process-calls.js";
import type { Db } from "../store/db.js";
import { listNodes, type NodeRow } from "../store/fleet.js";
import { gateScope } from "./call-scope.js";
import { SCHED_CAPABILITIES } from "./capabilities.js";
import type { NodeSelector } from "./fleet/targets.js";
import { nodeOr404 } from "./fleet-calls.js";
import { recommendForWorkload } from "./policy-recommendations.js";
import { nodeWindow, PROFILE_LIMITS, selectorTarget, windowBounds } from "./profile.js";
import type { NodeFacts } from "./protocol/index.js";
import { classifyGroup, classifyNode } from "./workload.js";

export interface NodeProfileInput {
  id: string;
  /** Newest reports in the window (PROFILE_LIMITS bounds it). */
  reports: number;
}

export interface GroupProfileInput {
  selector: NodeSelector;
  reports: number;
  /** Where a too-wide selector is reported: `label` over HTTPS, `labels` in tool arguments. */
  selectorPath?: string | undefined;
}

function clampReports(reports: number): number {
  return Math.max(
    PROFILE_LIMITS.windowReportsMin,
    Math.min(PROFILE_LIMITS.windowReportsMax, Math.trunc(reports)),
  );
}

function factsOf(row: NodeRow, entry: NodeWindowEntry | undefined): NodeFacts | null {
  return entry?.facts ?? (JSON.parse(row.factsJson) as NodeFacts | null);
}

/**
 * A node's workload profile with recommendations; 404 for a missing or foreign node. A node
 * that has sent no telemetry yet gets a profile without a class that says so.
 *
 * @example (await nodeProfileAs(env, db, principal, { id: "web-1", reports: 30 })).class
 */
export async function nodeProfileAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: NodeProfileInput,
): Promise<NodeProfileView> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.observe, READ_ROLES);
  return nodeProfileIn(env, db, scope.tenantId, input);
}

/** `nodeProfileAs` for a caller the gate has already let through. */
export async function nodeProfileIn(
  env: Env,
  db: Db,
  tenantId: string,
  input: NodeProfileInput,
): Promise<NodeProfileView> {
  const row = await nodeOr404(db, tenantId, input.id);
  const requested = clampReports(input.reports);
  const [entry] = await fleetStub(env, tenantId).windows(tenantId, [row.id], requested);
  const reports = entry?.reports ?? [];
  const facts = factsOf(row, entry);
  const profile = classifyNode(nodeWindow(row.id, facts, reports));
  const recommendations = await recommendForWorkload(env, db, tenantId, profile.class, [facts]);
  return {
    kind: "node",
    nodeId: row.id,
    status: row.status,
    ...profile,
    summary:
      reports.length === 0
        ? `no telemetry yet: ${row.id} has sent no reports, so there is nothing to classify`
        : profile.summary,
    window: { ...profile.window, requestedReports: requested, ...windowBounds(reports) },
    recommendations,
  };
}

/**
 * A label group's workload profile (every node matching the selector, revoked ones left out)
 * with recommendations. A selector matching more than `PROFILE_LIMITS.groupNodesMax` nodes is
 * 422 `too_many_nodes`; one matching none gets a profile without a class that says so.
 *
 * @example await groupProfileAs(env, db, principal, { selector: { labels: { tier: "web" } }, reports: 30 })
 */
export async function groupProfileAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: GroupProfileInput,
): Promise<GroupProfileView> {
  const scope = await gateScope(env, db, caller, SCHED_CAPABILITIES.observe, READ_ROLES);
  return groupProfileIn(env, db, scope.tenantId, input);
}

/** `groupProfileAs` for a caller the gate has already let through. */
export async function groupProfileIn(
  env: Env,
  db: Db,
  tenantId: string,
  input: GroupProfileInput,
): Promise<GroupProfileView> {
  const max = PROFILE_LIMITS.groupNodesMax;
  const rows = await listNodes(db, {
    tenantId,
    role: input.selector.role,
    labels: Object.entries(input.selector.labels).map(([key, value]) => ({ key, value })),
    includeRevoked: false,
    limit: max,
  });
  if (rows.length > max) {
    throw fieldError(
      input.selectorPath ?? "label",
      `the selector matches more than ${max} nodes; narrow it with more labels or a role`,
      "too_many_nodes",
    );
  }
  const requested = clampReports(input.reports);
  const entries =
    rows.length === 0
      ? []
      : await fleetStub(env, tenantId).windows(
          tenantId,
          rows.map((r) => r.id),
          requested,
        );
  const byId = new Map(entries.map((e) => [e.nodeId, e]));
  const windows = rows.map((row) => {
    const entry = byId.get(row.id);
    return nodeWindow(row.id, factsOf(row, entry), entry?.reports ?? []);
  });
  const profile = classifyGroup(windows);
  const allReports = entries.flatMap((e) => e.reports);
  const recommendations = await recommendForWorkload(
    env,
    db,
    tenantId,
    profile.class,
    windows.map((w) => w.facts ?? null),
  );
  const { nodes: classified, ...rest } = profile;
  const summary =
    rows.length === 0
      ? "no nodes match the selector"
      : allReports.length === 0
        ? `no telemetry yet from the ${rows.length} matching node(s)`
        : profile.summary;
  return {
    kind: "group",
    selector: {
      labels: input.selector.labels,
      ...(input.selector.role === undefined ? {} : { role: input.selector.role }),
    },
    target: selectorTarget(input.selector),
    ...rest,
    summary,
    nodes: rows.map((row, i) => ({
      nodeId: row.id,
      status: row.status,
      class: classified[i]?.class ?? null,
      confidence: classified[i]?.confidence ?? 0,
      cpus: classified[i]?.cpus ?? null,
      reports: byId.get(row.id)?.reports.length ?? 0,
    })),
    window: { ...profile.window, requestedReports: requested, ...windowBounds(allReports) },
    recommendations,
  };
}
