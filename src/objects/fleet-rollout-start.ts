/**
 * The checks between the Fleet object's `startRollout` RPC and the rollout engine: the resolved
 * nodes must be known to this fleet, of role `node`, online and in no other live rollout, and the
 * request becomes the engine's start input (its report-age limit defaulted from this fleet's
 * telemetry interval). Pure: the object reads the routing table and the live rollouts and passes
 * them in. Separate from the object because these are rules about a request, not about sockets
 * or storage, and from the engine because the engine takes only what was already checked.
 */

import type { RolloutStartInput } from "./fleet-rollout-engine.js";
import type { NodeRole, RolloutRequest, StartRolloutReply } from "./fleet-types.js";

/** A node's newest report may be this many telemetry intervals old when its health is judged. */
const ROLLOUT_REPORT_AGE_INTERVALS = 3;

/** What the check reads of each node in the object's routing table. */
export interface RoutedNode {
  role: NodeRole;
  status: "online" | "offline";
}

export type RolloutStartCheck =
  | { ok: true; input: RolloutStartInput }
  | Extract<StartRolloutReply, { ok: false }>;

/**
 * Checks the request's resolved nodes and builds the engine's start input, or the refusal.
 *
 * @example rolloutStartInput(request, ["n1"], routing, (id) => engine.store.liveFor(id).length > 0, 10_000)
 */
export function rolloutStartInput(
  request: RolloutRequest,
  nodeIds: string[],
  routing: ReadonlyMap<string, RoutedNode>,
  busyNode: (nodeId: string) => boolean,
  telemetryIntervalMs: number,
): RolloutStartCheck {
  const refuse = (
    code: Extract<StartRolloutReply, { ok: false }>["code"],
    ids: string[],
    what: string,
  ) => ({ ok: false, code, message: `${what}: ${ids.join(", ")}`, nodeIds: ids }) as const;
  if (nodeIds.length === 0) {
    return {
      ok: false,
      code: "no_nodes",
      message: "the labels match no node of role node",
      nodeIds: [],
    };
  }
  const unknown = nodeIds.filter((id) => !routing.has(id));
  if (unknown.length > 0) return refuse("unknown_nodes", unknown, "no such node in this fleet");
  const verifiers = nodeIds.filter((id) => routing.get(id)!.role !== "node");
  if (verifiers.length > 0) {
    return refuse("wrong_role", verifiers, "policies roll out to nodes of role node, not to");
  }
  const offline = nodeIds.filter((id) => routing.get(id)!.status !== "online");
  if (offline.length > 0) return refuse("offline", offline, "these nodes are not connected");
  const busy = nodeIds.filter((id) => busyNode(id));
  if (busy.length > 0) {
    return refuse(
      "busy",
      busy,
      "these nodes take part in another live rollout (roll it back first)",
    );
  }
  return {
    ok: true,
    input: {
      spec: {
        rolloutId: request.rolloutId,
        policyId: request.policyId,
        version: request.version,
        nodes: nodeIds,
        canaryFraction: request.canaryFraction,
        healthWindowMs: request.healthWindowMs,
        ackTimeoutMs: request.ackTimeoutMs,
        activateTimeoutMs: request.activateTimeoutMs,
        maxReportAgeMs:
          request.maxReportAgeMs ??
          Math.max(request.healthWindowMs, telemetryIntervalMs * ROLLOUT_REPORT_AGE_INTERVALS),
        guards: request.guards,
        breaker: request.breaker,
      },
      template: request.template,
      target: {
        nodeIds: "nodeIds" in request.target ? nodeIds : [],
        labels: "selector" in request.target ? request.target.selector.labels : null,
      },
      createdBy: request.createdBy,
    },
  };
}
