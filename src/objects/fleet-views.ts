/**
 * The read side of the Fleet object's RPC: a node's live view, the nodes a selector matches, and
 * the recent telemetry of a set of nodes. Plain functions of the object's store that shape its
 * rows into the RPC's plain-JSON types. Separate from the object because they only read: the
 * object checks the tenant and flushes the written-behind rows first, and nothing here touches a
 * socket, D1 or the rollouts.
 */

import { FLEET_OBJECT_LIMITS } from "../schedcp/fleet/limits.js";
import {
  matchesSelector,
  type NodeSelector,
  NodeSelectorSchema,
} from "../schedcp/fleet/targets.js";
import type { FleetStore } from "./fleet-store.js";
import type { NodeStateRow } from "./fleet-store-nodes.js";
import type { NodeLive, NodeWindowEntry, Running } from "./fleet-types.js";

/**
 * One node as the object knows it, with its newest report; null for a node it never saw.
 *
 * @example nodeView(store, "n1") // { nodeId: "n1", status: "online", …, lastTelemetry: {…} }
 */
export function nodeView(store: FleetStore, nodeId: string): NodeLive | null {
  const row = store.nodes.get(nodeId);
  if (!row) return null;
  const latest = store.history.telemetryPage(nodeId, null, 1).items[0] ?? null;
  return { ...liveView(row), lastTelemetry: latest };
}

/**
 * Every node the selector matches, without facts or telemetry (a listing, not a detail).
 *
 * @example matchingNodes(store, { labels: { zone: "a" } }) // [{ nodeId: "n1", facts: null, … }]
 */
export function matchingNodes(store: FleetStore, selector: NodeSelector): NodeLive[] {
  const parsed = NodeSelectorSchema.parse(selector);
  return store.nodes
    .list("all")
    .filter((row) => matchesSelector(JSON.parse(row.labels_json), row.role, parsed))
    .map((row) => ({ ...liveView(row), facts: null, lastTelemetry: null }));
}

/**
 * The facts and newest reports of each named node (counts clamped to the object's limits).
 *
 * @example nodeWindows(store, ["n1", "n2"], 30) // [{ nodeId: "n1", facts: {…}, reports: […] }, …]
 */
export function nodeWindows(
  store: FleetStore,
  nodeIds: string[],
  reportsPerNode: number,
): NodeWindowEntry[] {
  const limit = Math.max(
    1,
    Math.min(Math.trunc(reportsPerNode), FLEET_OBJECT_LIMITS.telemetryHistoryPerNode),
  );
  return nodeIds.slice(0, FLEET_OBJECT_LIMITS.windowNodesMax).map((nodeId) => {
    const row = store.nodes.get(nodeId);
    if (!row) return { nodeId, facts: null, reports: [] };
    return {
      nodeId,
      facts: row.facts_json === null ? null : JSON.parse(row.facts_json),
      reports: store.history.telemetryPage(nodeId, null, limit).items,
    };
  });
}

function liveView(row: NodeStateRow): Omit<NodeLive, "lastTelemetry"> {
  return {
    nodeId: row.node_id,
    role: row.role,
    labels: JSON.parse(row.labels_json),
    status: row.status,
    connectedAtMs: row.connected_at_ms,
    lastSeenAtMs: row.last_seen_ms,
    agentVersion: row.agent_version,
    dryRun: row.dry_run === 1,
    running: row.running_json === null ? null : (JSON.parse(row.running_json) as Running),
    facts: row.facts_json === null ? null : JSON.parse(row.facts_json),
  };
}
