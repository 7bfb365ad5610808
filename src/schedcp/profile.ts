/**
 * Workload profiles of a node or a label group, as the API, the MCP tools and the agent loop
 * show them: how many telemetry reports a window holds, how many nodes a group may span, how
 * stored reports become the analysis's input (workload.ts), and how a group is named in the
 * repository's history. Pure: the call layer (profile-calls.ts) reads the Fleet object and D1.
 */

import { FLEET_OBJECT_LIMITS } from "./fleet/limits.js";
import type { NodeSelector } from "./fleet/targets.js";
import type { NodeFacts, TelemetryReport } from "./protocol/telemetry.js";
import type { NodeWindow } from "./workload-types.js";

export const PROFILE_LIMITS = {
  /** Reports in a window unless the caller asks for another size: five minutes at the default 10 s interval. */
  windowReportsDefault: 30,
  windowReportsMin: 1,
  /** Every report the Fleet object keeps per node. */
  windowReportsMax: FLEET_OBJECT_LIMITS.telemetryHistoryPerNode,
  /** Nodes one group profile spans; a wider selector is refused, not sampled. */
  groupNodesMax: FLEET_OBJECT_LIMITS.windowNodesMax,
} as const;

/** One stored report: the node's send time and the report. */
export interface StoredReport {
  atMs: number;
  report: TelemetryReport;
}

/**
 * The analysis's input for one node: its facts and its stored reports, in any order.
 *
 * @example classifyNode(nodeWindow("n1", facts, entries)).class
 */
export function nodeWindow(
  nodeId: string,
  facts: NodeFacts | null,
  reports: readonly StoredReport[],
): NodeWindow {
  return {
    nodeId,
    facts,
    reports: reports.map((r) => ({ atMs: r.atMs, report: r.report })),
  };
}

/**
 * The oldest and newest report times of a window (ISO), null when it is empty: a reader judges
 * from these how fresh a profile is (an offline node keeps its last reports).
 *
 * @example windowBounds([{ atMs: 0, report }]) // { oldestAt: "1970-01-01T00:00:00.000Z", newestAt: "1970-…" }
 */
export function windowBounds(reports: readonly StoredReport[]): {
  oldestAt: string | null;
  newestAt: string | null;
} {
  if (reports.length === 0) return { oldestAt: null, newestAt: null };
  let oldest = Number.POSITIVE_INFINITY;
  let newest = Number.NEGATIVE_INFINITY;
  for (const r of reports) {
    oldest = Math.min(oldest, r.atMs);
    newest = Math.max(newest, r.atMs);
  }
  return { oldestAt: new Date(oldest).toISOString(), newestAt: new Date(newest).toISOString() };
}

/**
 * A label group as the repository's performance history names it: its labels sorted by key as
 * `key=value` joined by `,`, then `;role=<role>` when the selector names one; `*` for the
 * whole fleet.
 *
 * @example selectorTarget({ labels: { zone: "a", tier: "web" }, role: "node" }) // "tier=web,zone=a;role=node"
 */
export function selectorTarget(selector: NodeSelector): string {
  const labels = Object.keys(selector.labels)
    .sort()
    .map((key) => `${key}=${selector.labels[key]}`)
    .join(",");
  const role = selector.role === undefined ? "" : `;role=${selector.role}`;
  return labels === "" && role === "" ? "*" : `${labels}${role}`;
}
