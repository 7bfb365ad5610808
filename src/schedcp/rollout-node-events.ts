/**
 * What the nodes tell the rollout about its commands and themselves: acks of the assign and
 * revert commands, the deploy-status transitions of this rollout's assignment (active, or
 * taken off by the kernel, the node's guards, a failed load, a refusal or someone else), and
 * going off- and online. A node that runs the policy after the rollout let go of it is
 * reverted again.
 */

import { newTracker } from "./guards.js";
import type { DeployStatus } from "./protocol/index.js";
import { fail } from "./rollout-failure.js";
import { maybeOpenWindow } from "./rollout-health.js";
import { maybeFinishRollback } from "./rollout-rollback.js";
import { ACTIVE_PHASES, LIVE_NODE_STATES, type Step } from "./rollout-step.js";
import {
  FAILURE_REASONS,
  type FailureReason,
  type RolloutEvent,
  type RolloutNode,
} from "./rollout-types.js";

export function onAck(run: Step, e: Extract<RolloutEvent, { type: "ack" }>): void {
  const node = run.node(e.nodeId);
  if (!node) return;
  const isAssign = node.assign?.commandId === e.commandId;
  const isRevert = node.revert?.commandId === e.commandId;
  const command = isAssign ? node.assign : isRevert ? node.revert : null;
  if (!command || command.ackedAtMs !== null) {
    run.note(node, `ack of ${e.commandId} ignored: not a pending command of this rollout`);
    return;
  }
  command.ackedAtMs = run.nowMs;
  const error = e.error ? `${e.error.code}: ${e.error.message}` : "no reason given";
  if (isAssign) {
    if (node.state !== "assigning") {
      run.note(
        node,
        `late ack of the assign command (${e.ok ? "ok" : error}) after the node moved on`,
      );
      return;
    }
    if (!e.ok) {
      run.move(node, "off", `assign refused: ${error}`);
      fail(run, node, "nack", error);
      return;
    }
    run.move(node, "deploying", "assign acknowledged");
    return;
  }
  if (node.state !== "reverting") {
    run.note(node, `late ack of the revert command (${e.ok ? "ok" : error})`);
    return;
  }
  run.move(
    node,
    e.ok ? "reverted" : "revert_unconfirmed",
    e.ok ? "revert acknowledged" : `revert refused: ${error}`,
  );
  maybeFinishRollback(run);
}

export function onDeployStatus(run: Step, nodeId: string, status: DeployStatus): void {
  const node = run.node(nodeId);
  if (!node) return;
  if (status.assignmentId !== node.assignmentId) {
    run.note(
      node,
      `deploy-status for ${status.assignmentId} ignored: not this rollout's assignment`,
    );
    return;
  }
  const reason = status.reason ?? status.state;
  switch (status.state) {
    case "active":
      onActive(run, node);
      return;
    case "ejected":
      takenOff(run, node, "ejected", reason);
      return;
    case "reverted":
      takenOff(run, node, "guard_reverted", reason);
      return;
    case "failed":
      takenOff(run, node, "load_failed", reason);
      return;
    case "refused":
      takenOff(run, node, "refused", reason);
      return;
    case "stopped":
      if (node.state === "reverting") {
        run.move(
          node,
          "reverted",
          `stopped by our revert${status.reason ? `: ${status.reason}` : ""}`,
        );
        maybeFinishRollback(run);
        return;
      }
      takenOff(run, node, "stopped_externally", reason);
      return;
  }
}

function onActive(run: Step, node: RolloutNode): void {
  if (node.state === "assigning" || node.state === "deploying") {
    node.activeAtMs = run.nowMs;
    node.tracker = newTracker(run.state.spec.guards);
    node.lastReportAtMs = null;
    node.lastVerdict = null;
    run.move(node, "active", "the node runs the policy");
    maybeOpenWindow(run);
    return;
  }
  if (node.state === "active") return;
  // Active after the rollout let go of the node (a late load after a revert, or a
  // revert that reached the node before its assign finished): take it off again.
  if (
    !ACTIVE_PHASES.has(run.state.phase) &&
    run.state.phase !== "stopped" &&
    run.state.phase !== "completed"
  ) {
    run.move(node, "active", "active after the rollout let go of the node");
    if (run.state.phase === "rolled_back")
      run.setPhase("rolling_back", "a node became active after the rollback");
    run.revertNode(node, "late activation after rollback");
    return;
  }
  run.move(node, "active", "active again");
}

function takenOff(run: Step, node: RolloutNode, reason: FailureReason, detail: string): void {
  const wasReverting = node.state === "reverting";
  run.move(node, "off", `${FAILURE_REASONS[reason].what}: ${detail}`);
  fail(run, node, reason, detail);
  if (wasReverting) maybeFinishRollback(run);
}

export function onOffline(run: Step, nodeId: string): void {
  const node = run.node(nodeId);
  if (!node) return;
  node.online = false;
  run.note(node, "went offline");
  if (!ACTIVE_PHASES.has(run.state.phase) || !LIVE_NODE_STATES.has(node.state)) return;
  if (node.state === "active")
    fail(run, node, "offline_while_active", "lost while running the policy");
  else fail(run, node, "offline", `lost while ${node.state}`);
}

export function onOnline(run: Step, nodeId: string, running: DeployStatus["running"]): void {
  const node = run.node(nodeId);
  if (!node) return;
  node.online = true;
  run.note(
    node,
    `back online, running ${running ? `${running.assignmentId}` : "the kernel's default"}`,
  );
  const runsOurs = running?.assignmentId === node.assignmentId;
  const letGo =
    run.state.phase === "rolling_back" ||
    run.state.phase === "rolled_back" ||
    node.failure !== null;
  if (runsOurs && letGo && node.state !== "reverting") {
    if (run.state.phase === "rolled_back")
      run.setPhase("rolling_back", `${node.nodeId} came back running the policy`);
    run.revertNode(node, "came back online still running the policy");
  }
}
