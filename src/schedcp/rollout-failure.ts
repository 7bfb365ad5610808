/**
 * A node's failure: recorded once per node per rollout, counted toward the version's circuit
 * breaker when the policy is to blame (`FAILURE_REASONS[reason].counted`), which quarantines
 * the version at `breakerThreshold` distinct nodes; while the rollout is live, any failure
 * rolls it back.
 */

import { beginRollback } from "./rollout-rollback.js";
import { ACTIVE_PHASES, type Step } from "./rollout-step.js";
import { FAILURE_REASONS, type FailureReason, type RolloutNode } from "./rollout-types.js";

export function fail(run: Step, node: RolloutNode, reason: FailureReason, detail: string): void {
  if (node.failure) return;
  const counted = FAILURE_REASONS[reason].counted;
  node.failure = { reason, detail, counted, atMs: run.nowMs };
  const { policyId, version } = run.state.spec;
  run.actions.push({
    type: "node-failure",
    policyId,
    version,
    nodeId: node.nodeId,
    reason,
    detail,
    counted,
  });
  run.record(node, node.state, node.state, `failed (${reason}): ${detail}`);
  if (counted) countTowardBreaker(run, node.nodeId);
  if (ACTIVE_PHASES.has(run.state.phase))
    beginRollback(run, `${node.nodeId}: ${FAILURE_REASONS[reason].what}`);
}

/**
 * The circuit breaker: each node counts once; the count reaching the threshold quarantines the
 * version (once).
 */
function countTowardBreaker(run: Step, nodeId: string): void {
  if (run.state.failedNodes.includes(nodeId)) return;
  run.state.failedNodes.push(nodeId);
  if (run.state.quarantined || run.state.failedNodes.length < run.state.breakerThreshold) return;
  run.state.quarantined = true;
  const { policyId, version } = run.state.spec;
  const why = `failed on ${run.state.failedNodes.length} nodes (threshold ${run.state.breakerThreshold})`;
  run.actions.push({
    type: "quarantine",
    policyId,
    version,
    failedNodes: [...run.state.failedNodes],
    reason: why,
  });
  run.record(null, run.state.phase, run.state.phase, `version quarantined: ${why}`);
}
