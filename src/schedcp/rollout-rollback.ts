/**
 * Rollback: nodes whose turn has not come are skipped, every node that runs the policy (or
 * may yet) is sent a revert, and the rollout is rolled back once no revert is outstanding —
 * acknowledged, or unconfirmed after its deadline.
 */

import { LIVE_NODE_STATES, type Step } from "./rollout-step.js";

export function beginRollback(run: Step, reason: string): void {
  run.state.window = null;
  run.setPhase("rolling_back", reason);
  for (const node of run.state.nodes) {
    if (node.state === "pending")
      run.move(node, "skipped", "the rollout ended before this node's turn");
    else if (LIVE_NODE_STATES.has(node.state)) run.revertNode(node, reason);
  }
  maybeFinishRollback(run);
}

export function maybeFinishRollback(run: Step): void {
  if (run.state.phase !== "rolling_back") return;
  if (run.state.nodes.some((n) => n.state === "reverting")) return;
  const unconfirmed = run.state.nodes
    .filter((n) => n.state === "revert_unconfirmed")
    .map((n) => n.nodeId);
  const reason =
    unconfirmed.length > 0
      ? `reverts unconfirmed on ${unconfirmed.join(", ")}`
      : "every node reverted";
  run.setPhase("rolled_back", reason);
  run.state.finishedAtMs = run.nowMs;
  run.actions.push({ type: "finished", phase: "rolled_back", reason });
}
