/**
 * One step of the rollout machine: the state it owns, the actions returned so far and the
 * step's clock, with the primitives every event handler uses — send an assign or a revert,
 * move a node, change phase, write history. The handlers are functions over a `Step`, one
 * module per concern (see rollout.ts for the list).
 */

import type {
  NodeState,
  RolloutAction,
  RolloutNode,
  RolloutPhase,
  RolloutState,
} from "./rollout-types.js";

/** The phases in which nodes still deploy and health is judged. */
export const ACTIVE_PHASES: ReadonlySet<RolloutPhase> = new Set(["canary", "promoting"]);
/** The node states in which a node runs the policy or may yet: a rollback reverts these. */
export const LIVE_NODE_STATES: ReadonlySet<NodeState> = new Set([
  "assigning",
  "deploying",
  "active",
]);

/** One step's work on a state it owns. */
export class Step {
  readonly actions: RolloutAction[] = [];

  constructor(
    readonly state: RolloutState,
    readonly nowMs: number,
  ) {}

  // -------------------------------------------------------------------------------------------
  // Commands

  assignNode(node: RolloutNode): void {
    const commandId = this.nextCommandId();
    const deadlineAtMs = this.nowMs + this.state.spec.ackTimeoutMs;
    node.assign = { commandId, sentAtMs: this.nowMs, deadlineAtMs, ackedAtMs: null };
    node.activateDeadlineAtMs = this.nowMs + this.state.spec.activateTimeoutMs;
    this.move(node, "assigning", node.canary ? "canary" : "promoted");
    this.actions.push({
      type: "assign",
      nodeId: node.nodeId,
      commandId,
      assignmentId: node.assignmentId,
      canary: node.canary,
      deadlineAtMs,
    });
  }

  revertNode(node: RolloutNode, reason: string): void {
    const commandId = this.nextCommandId();
    const deadlineAtMs = this.nowMs + this.state.spec.ackTimeoutMs;
    node.revert = { commandId, sentAtMs: this.nowMs, deadlineAtMs, ackedAtMs: null };
    this.move(node, "reverting", reason);
    this.actions.push({
      type: "revert",
      nodeId: node.nodeId,
      commandId,
      assignmentId: node.assignmentId,
      reason,
      deadlineAtMs,
    });
  }

  private nextCommandId(): string {
    this.state.seq += 1;
    return `cmd_${this.state.spec.rolloutId.slice("rol_".length)}-${this.state.seq}`;
  }

  // -------------------------------------------------------------------------------------------
  // Transitions and history

  move(node: RolloutNode, to: NodeState, reason: string): void {
    const from = node.state;
    node.state = to;
    this.record(node, from, to, reason);
  }

  setPhase(to: RolloutPhase, reason: string): void {
    const from = this.state.phase;
    this.state.phase = to;
    this.state.phaseReason = reason;
    this.record(null, from, to, reason);
  }

  /** Something worth the history that changes no state (a late ack, a node going offline). */
  note(node: RolloutNode, reason: string): void {
    this.record(node, node.state, node.state, reason);
  }

  record(node: RolloutNode | null, from: string, to: string, reason: string | null): void {
    const { rolloutId, policyId, version } = this.state.spec;
    this.actions.push({
      type: "record",
      entry: {
        atMs: this.nowMs,
        rolloutId,
        policyId,
        version,
        nodeId: node?.nodeId ?? null,
        from,
        to,
        reason,
      },
    });
  }

  node(nodeId: string): RolloutNode | undefined {
    return this.state.nodes.find((n) => n.nodeId === nodeId);
  }
}
