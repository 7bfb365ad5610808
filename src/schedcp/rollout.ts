/**
 * The rollout of one signed policy version to a set of nodes, as a pure state machine with a
 * small interface in the manner of sched_ext's ops table: `start` and `step`. Events come in
 * (acks, deploy-status transitions, telemetry, nodes going off- and online, timer ticks,
 * operator commands), and each step returns the new state and the actions to carry out
 * (assign or revert a node, set the timer, record a node's failure, quarantine the version,
 * record history). The clock is the events' `atMs`: the same events give the same result.
 *
 * Phases:
 *
 *   canary ──all canaries healthy after the window──▶ promoting ──all healthy──▶ completed
 *     │  (a single-node target completes straight from canary)   │
 *     ├── regression, ejection, failure, timeout, offline ───────┴──▶ rolling_back ──▶ rolled_back
 *     └── stop ──▶ stopped ──rollback──▶ rolling_back        (rollback also from completed)
 *
 * Health: a phase's window opens when every node of the phase is active and lasts
 * `healthWindowMs`. At its end each node must be active, its newest report within
 * `maxReportAgeMs`, sent after the window opened, and its guards within bounds against the
 * node's pre-deploy baseline. A missing ack or report is not health: a node without fresh
 * telemetry fails the phase. A node whose guard is over its limit but not yet for `sustainMs`
 * holds promotion until it recovers or regresses.
 *
 * Circuit breaker: failures the policy is to blame for (ejection, a node's own guard revert,
 * a failed load, a regression seen here, a node lost while running it) count per node across
 * rollouts; at `breaker.threshold` distinct nodes the version is quarantined.
 *
 * The words it speaks (spec, phases, node states, failure reasons, state, events, actions) are
 * in rollout-types.ts.
 */

import { evaluateGuards, newTracker } from "./guards.js";
import type { DeployStatus, TelemetryReport } from "./protocol/index.js";
import {
  FAILURE_REASONS,
  type FailureReason,
  type NodeState,
  type RolloutAction,
  type RolloutEvent,
  type RolloutMachine,
  type RolloutNode,
  type RolloutPhase,
  type RolloutSpec,
  RolloutSpecSchema,
  type RolloutState,
  type StartResult,
  type Transition,
} from "./rollout-types.js";

/**
 * Starts a rollout: picks the canaries and assigns them.
 *
 * @example const r = startRollout(spec, { n1: lastReport }, Date.now()); if (r.ok) run(r.actions)
 */
export function startRollout(
  spec: RolloutSpec,
  baselines: Readonly<Record<string, TelemetryReport | null>>,
  nowMs: number,
): StartResult {
  const parsed = RolloutSpecSchema.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ok: false,
      code: "invalid",
      message: `${issue.path.join(".") || "spec"}: ${issue.message}`,
    };
  }
  const { breaker, ...rest } = parsed.data;
  const failedNodes = [...new Set(breaker.failedNodes)];
  if (breaker.quarantined || failedNodes.length >= breaker.threshold) {
    return {
      ok: false,
      code: "quarantined",
      message: `${rest.policyId} version ${rest.version} is quarantined (failed on ${failedNodes.length} nodes); an operator must clear it first`,
    };
  }
  const canaries = new Set(chooseCanaries(rest.rolloutId, rest.nodes, rest.canaryFraction));
  const idBody = rest.rolloutId.slice("rol_".length);
  const state: RolloutState = {
    spec: rest,
    phase: "canary",
    phaseReason: null,
    window: null,
    nodes: rest.nodes.map((nodeId, index) => ({
      nodeId,
      canary: canaries.has(nodeId),
      state: "pending",
      assignmentId: `asg_${idBody}-${index}`,
      assign: null,
      revert: null,
      activateDeadlineAtMs: null,
      activeAtMs: null,
      online: true,
      failure: null,
      baseline: baselines[nodeId] ?? null,
      tracker: newTracker(rest.guards),
      lastReportAtMs: null,
      lastVerdict: null,
    })),
    seq: 0,
    breakerThreshold: breaker.threshold,
    failedNodes,
    quarantined: false,
    timerAtMs: null,
    startedAtMs: nowMs,
    updatedAtMs: nowMs,
    finishedAtMs: null,
  };
  const run = new Step(state, nowMs);
  run.record(null, "none", "canary", `${canaries.size} of ${rest.nodes.length} nodes first`);
  for (const node of run.state.nodes) if (node.canary) run.assignNode(node);
  return { ok: true, ...run.finish() };
}

/**
 * Applies one event; the input state is not changed.
 *
 * @example const { state, actions } = stepRollout(state, { type: "tick", atMs: Date.now() })
 */
export function stepRollout(state: RolloutState, event: RolloutEvent): Transition {
  const run = new Step(structuredClone(state), event.atMs);
  run.apply(event);
  return run.finish();
}

export const rolloutMachine: RolloutMachine = { start: startRollout, step: stepRollout };

/**
 * The canaries: `ceil(fraction × n)` nodes, at least one, ordered by a hash of the rollout id
 * and the node id — deterministic, and a different set for each rollout.
 *
 * @example chooseCanaries("rol_1", ["a", "b", "c", "d"], 0.25) // one of them, always the same
 */
export function chooseCanaries(
  rolloutId: string,
  nodes: readonly string[],
  fraction: number,
): string[] {
  const count = Math.min(nodes.length, Math.max(1, Math.ceil(fraction * nodes.length)));
  return [...nodes]
    .map((nodeId) => ({ nodeId, rank: fnv1a(`${rolloutId}\n${nodeId}`) }))
    .sort((a, b) => a.rank - b.rank || (a.nodeId < b.nodeId ? -1 : 1))
    .slice(0, count)
    .map((n) => n.nodeId);
}

/** 32-bit FNV-1a over UTF-16 code units: small, fast, good enough to shuffle node ids. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

const ACTIVE_PHASES: ReadonlySet<RolloutPhase> = new Set(["canary", "promoting"]);
const LIVE_NODE_STATES: ReadonlySet<NodeState> = new Set(["assigning", "deploying", "active"]);

/** One step's work on a state it owns. */
class Step {
  readonly actions: RolloutAction[] = [];

  constructor(
    readonly state: RolloutState,
    private readonly nowMs: number,
  ) {}

  apply(event: RolloutEvent): void {
    // Deadlines that passed before this event are settled first, as the timer would have: the
    // timer only ever holds deadlines still ahead, so an event that arrives after one (the
    // alarm ran late) must not let the next timer skip past it.
    if (event.type !== "tick") this.onTick();
    switch (event.type) {
      case "ack":
        this.onAck(event);
        return;
      case "deploy-status":
        this.onDeployStatus(event.nodeId, event.status);
        return;
      case "telemetry":
        this.onTelemetry(event.nodeId, event.report);
        return;
      case "node-offline":
        this.onOffline(event.nodeId);
        return;
      case "node-online":
        this.onOnline(event.nodeId, event.running);
        return;
      case "tick":
        this.onTick();
        return;
      case "stop":
        this.onStop(`${event.actor}: ${event.reason}`);
        return;
      case "rollback":
        this.onRollbackCommand(`${event.actor}: ${event.reason}`);
        return;
    }
  }

  finish(): Transition {
    const next = this.nextWake();
    if (next !== this.state.timerAtMs) {
      this.actions.push(
        next === null ? { type: "clear-timer" } : { type: "set-timer", atMs: next },
      );
      this.state.timerAtMs = next;
    }
    this.state.updatedAtMs = Math.max(this.state.updatedAtMs, this.nowMs);
    return { state: this.state, actions: this.actions };
  }

  // -------------------------------------------------------------------------------------------
  // Events

  private onAck(e: Extract<RolloutEvent, { type: "ack" }>): void {
    const node = this.node(e.nodeId);
    if (!node) return;
    const isAssign = node.assign?.commandId === e.commandId;
    const isRevert = node.revert?.commandId === e.commandId;
    const command = isAssign ? node.assign : isRevert ? node.revert : null;
    if (!command || command.ackedAtMs !== null) {
      this.note(node, `ack of ${e.commandId} ignored: not a pending command of this rollout`);
      return;
    }
    command.ackedAtMs = this.nowMs;
    const error = e.error ? `${e.error.code}: ${e.error.message}` : "no reason given";
    if (isAssign) {
      if (node.state !== "assigning") {
        this.note(
          node,
          `late ack of the assign command (${e.ok ? "ok" : error}) after the node moved on`,
        );
        return;
      }
      if (!e.ok) {
        this.move(node, "off", `assign refused: ${error}`);
        this.fail(node, "nack", error);
        return;
      }
      this.move(node, "deploying", "assign acknowledged");
      return;
    }
    if (node.state !== "reverting") {
      this.note(node, `late ack of the revert command (${e.ok ? "ok" : error})`);
      return;
    }
    this.move(
      node,
      e.ok ? "reverted" : "revert_unconfirmed",
      e.ok ? "revert acknowledged" : `revert refused: ${error}`,
    );
    this.maybeFinishRollback();
  }

  private onDeployStatus(nodeId: string, status: DeployStatus): void {
    const node = this.node(nodeId);
    if (!node) return;
    if (status.assignmentId !== node.assignmentId) {
      this.note(
        node,
        `deploy-status for ${status.assignmentId} ignored: not this rollout's assignment`,
      );
      return;
    }
    const reason = status.reason ?? status.state;
    switch (status.state) {
      case "active":
        this.onActive(node);
        return;
      case "ejected":
        this.takenOff(node, "ejected", reason);
        return;
      case "reverted":
        this.takenOff(node, "guard_reverted", reason);
        return;
      case "failed":
        this.takenOff(node, "load_failed", reason);
        return;
      case "refused":
        this.takenOff(node, "refused", reason);
        return;
      case "stopped":
        if (node.state === "reverting") {
          this.move(
            node,
            "reverted",
            `stopped by our revert${status.reason ? `: ${status.reason}` : ""}`,
          );
          this.maybeFinishRollback();
          return;
        }
        this.takenOff(node, "stopped_externally", reason);
        return;
    }
  }

  private onActive(node: RolloutNode): void {
    if (node.state === "assigning" || node.state === "deploying") {
      node.activeAtMs = this.nowMs;
      node.tracker = newTracker(this.state.spec.guards);
      node.lastReportAtMs = null;
      node.lastVerdict = null;
      this.move(node, "active", "the node runs the policy");
      this.maybeOpenWindow();
      return;
    }
    if (node.state === "active") return;
    // Active after the rollout let go of the node (a late load after a revert, or a
    // revert that reached the node before its assign finished): take it off again.
    if (
      !ACTIVE_PHASES.has(this.state.phase) &&
      this.state.phase !== "stopped" &&
      this.state.phase !== "completed"
    ) {
      this.move(node, "active", "active after the rollout let go of the node");
      if (this.state.phase === "rolled_back")
        this.setPhase("rolling_back", "a node became active after the rollback");
      this.revertNode(node, "late activation after rollback");
      return;
    }
    this.move(node, "active", "active again");
  }

  private takenOff(node: RolloutNode, reason: FailureReason, detail: string): void {
    const wasReverting = node.state === "reverting";
    this.move(node, "off", `${FAILURE_REASONS[reason].what}: ${detail}`);
    this.fail(node, reason, detail);
    if (wasReverting) this.maybeFinishRollback();
  }

  private onTelemetry(nodeId: string, report: TelemetryReport): void {
    const node = this.node(nodeId);
    if (!node) return;
    if (node.state === "pending" || node.state === "assigning" || node.state === "deploying") {
      node.baseline = report;
      return;
    }
    if (node.state !== "active" || !ACTIVE_PHASES.has(this.state.phase)) return;
    const { verdict, tracker } = evaluateGuards(
      this.state.spec.guards,
      node.baseline,
      report,
      this.nowMs,
      node.tracker,
    );
    node.tracker = tracker;
    node.lastReportAtMs = this.nowMs;
    node.lastVerdict = verdict.kind;
    if (verdict.kind === "regressed") {
      this.fail(node, "regression", verdict.detail);
      return;
    }
    if (this.state.window && this.nowMs >= this.state.window.endsAtMs) this.judgeWindow();
  }

  private onOffline(nodeId: string): void {
    const node = this.node(nodeId);
    if (!node) return;
    node.online = false;
    this.note(node, "went offline");
    if (!ACTIVE_PHASES.has(this.state.phase) || !LIVE_NODE_STATES.has(node.state)) return;
    if (node.state === "active")
      this.fail(node, "offline_while_active", "lost while running the policy");
    else this.fail(node, "offline", `lost while ${node.state}`);
  }

  private onOnline(nodeId: string, running: DeployStatus["running"]): void {
    const node = this.node(nodeId);
    if (!node) return;
    node.online = true;
    this.note(
      node,
      `back online, running ${running ? `${running.assignmentId}` : "the kernel's default"}`,
    );
    const runsOurs = running?.assignmentId === node.assignmentId;
    const letGo =
      this.state.phase === "rolling_back" ||
      this.state.phase === "rolled_back" ||
      node.failure !== null;
    if (runsOurs && letGo && node.state !== "reverting") {
      if (this.state.phase === "rolled_back")
        this.setPhase("rolling_back", `${node.nodeId} came back running the policy`);
      this.revertNode(node, "came back online still running the policy");
    }
  }

  private onTick(): void {
    for (const node of this.state.nodes) {
      if (
        node.state === "assigning" &&
        node.assign &&
        node.assign.ackedAtMs === null &&
        this.nowMs >= node.assign.deadlineAtMs
      ) {
        // The command may still reach the node: the rollback's revert follows it there.
        this.fail(node, "ack_timeout", `no ack within ${this.state.spec.ackTimeoutMs} ms`);
      } else if (
        (node.state === "assigning" || node.state === "deploying") &&
        node.activateDeadlineAtMs !== null &&
        this.nowMs >= node.activateDeadlineAtMs
      ) {
        // It may still load: the rollback's revert (with this assignment id) takes it off then.
        this.fail(
          node,
          "activate_timeout",
          `not active within ${this.state.spec.activateTimeoutMs} ms`,
        );
      } else if (
        node.state === "reverting" &&
        node.revert &&
        this.nowMs >= node.revert.deadlineAtMs
      ) {
        this.move(
          node,
          "revert_unconfirmed",
          `no ack of the revert within ${this.state.spec.ackTimeoutMs} ms`,
        );
        this.maybeFinishRollback();
      }
    }
    if (
      ACTIVE_PHASES.has(this.state.phase) &&
      this.state.window &&
      this.nowMs >= this.state.window.endsAtMs
    ) {
      this.judgeWindow();
    }
  }

  private onStop(reason: string): void {
    if (!ACTIVE_PHASES.has(this.state.phase)) {
      this.record(
        null,
        this.state.phase,
        this.state.phase,
        `stop ignored in ${this.state.phase}: ${reason}`,
      );
      return;
    }
    this.state.window = null;
    this.setPhase("stopped", reason);
  }

  private onRollbackCommand(reason: string): void {
    if (this.state.phase === "rolling_back" || this.state.phase === "rolled_back") {
      this.record(
        null,
        this.state.phase,
        this.state.phase,
        `rollback ignored in ${this.state.phase}: ${reason}`,
      );
      return;
    }
    this.beginRollback(reason);
  }

  // -------------------------------------------------------------------------------------------
  // Health and promotion

  /** The phase's nodes: the canaries first, everyone once promoted. */
  private phaseNodes(): RolloutNode[] {
    return this.state.phase === "canary"
      ? this.state.nodes.filter((n) => n.canary)
      : this.state.nodes;
  }

  private maybeOpenWindow(): void {
    if (!ACTIVE_PHASES.has(this.state.phase) || this.state.window) return;
    if (!this.phaseNodes().every((n) => n.state === "active")) return;
    this.state.window = {
      openedAtMs: this.nowMs,
      endsAtMs: this.nowMs + this.state.spec.healthWindowMs,
    };
    this.record(
      null,
      this.state.phase,
      this.state.phase,
      `health window opens for ${this.state.spec.healthWindowMs} ms`,
    );
  }

  /** At (or after) the window's end: promote, complete, wait for a recovering node, or fail. */
  private judgeWindow(): void {
    const window = this.state.window!;
    const verdicts = this.phaseNodes().map((node) => ({
      node,
      health: this.healthOf(node, window.openedAtMs),
    }));
    const unhealthy = verdicts.filter((v) => v.health.kind === "unhealthy");
    if (unhealthy.length > 0) {
      for (const { node, health } of unhealthy) {
        if (health.kind === "unhealthy") this.fail(node, "no_telemetry", health.detail);
      }
      return;
    }
    if (verdicts.some((v) => v.health.kind === "waiting")) return;
    this.state.window = null;
    const pending = this.state.nodes.filter((n) => n.state === "pending");
    if (this.state.phase === "canary" && pending.length > 0) {
      this.setPhase(
        "promoting",
        `every canary held its guards for ${this.state.spec.healthWindowMs} ms`,
      );
      for (const node of pending) this.assignNode(node);
      return;
    }
    this.setPhase(
      "completed",
      `every node held its guards for ${this.state.spec.healthWindowMs} ms`,
    );
    this.state.finishedAtMs = this.nowMs;
    this.actions.push({ type: "finished", phase: "completed", reason: this.state.phaseReason });
  }

  private healthOf(
    node: RolloutNode,
    openedAtMs: number,
  ): { kind: "healthy" } | { kind: "waiting" } | { kind: "unhealthy"; detail: string } {
    if (node.state !== "active") return { kind: "unhealthy", detail: `${node.state}, not active` };
    const last = node.lastReportAtMs;
    if (last === null || last < openedAtMs) {
      return { kind: "unhealthy", detail: "no report since the health window opened" };
    }
    if (this.nowMs - last > this.state.spec.maxReportAgeMs) {
      return { kind: "unhealthy", detail: `newest report is ${this.nowMs - last} ms old` };
    }
    if (node.lastVerdict === "ok") return { kind: "healthy" };
    if (node.lastVerdict === "violating") return { kind: "waiting" };
    return {
      kind: "unhealthy",
      detail: "its guards could not be measured (no metric or no baseline)",
    };
  }

  // -------------------------------------------------------------------------------------------
  // Failure and rollback

  private fail(node: RolloutNode, reason: FailureReason, detail: string): void {
    if (node.failure) return;
    const counted = FAILURE_REASONS[reason].counted;
    node.failure = { reason, detail, counted, atMs: this.nowMs };
    const { policyId, version } = this.state.spec;
    this.actions.push({
      type: "node-failure",
      policyId,
      version,
      nodeId: node.nodeId,
      reason,
      detail,
      counted,
    });
    this.record(node, node.state, node.state, `failed (${reason}): ${detail}`);
    if (counted && !this.state.failedNodes.includes(node.nodeId)) {
      this.state.failedNodes.push(node.nodeId);
      if (!this.state.quarantined && this.state.failedNodes.length >= this.state.breakerThreshold) {
        this.state.quarantined = true;
        const why = `failed on ${this.state.failedNodes.length} nodes (threshold ${this.state.breakerThreshold})`;
        this.actions.push({
          type: "quarantine",
          policyId,
          version,
          failedNodes: [...this.state.failedNodes],
          reason: why,
        });
        this.record(null, this.state.phase, this.state.phase, `version quarantined: ${why}`);
      }
    }
    if (ACTIVE_PHASES.has(this.state.phase))
      this.beginRollback(`${node.nodeId}: ${FAILURE_REASONS[reason].what}`);
  }

  private beginRollback(reason: string): void {
    this.state.window = null;
    this.setPhase("rolling_back", reason);
    for (const node of this.state.nodes) {
      if (node.state === "pending")
        this.move(node, "skipped", "the rollout ended before this node's turn");
      else if (LIVE_NODE_STATES.has(node.state)) this.revertNode(node, reason);
    }
    this.maybeFinishRollback();
  }

  private maybeFinishRollback(): void {
    if (this.state.phase !== "rolling_back") return;
    if (this.state.nodes.some((n) => n.state === "reverting")) return;
    const unconfirmed = this.state.nodes
      .filter((n) => n.state === "revert_unconfirmed")
      .map((n) => n.nodeId);
    const reason =
      unconfirmed.length > 0
        ? `reverts unconfirmed on ${unconfirmed.join(", ")}`
        : "every node reverted";
    this.setPhase("rolled_back", reason);
    this.state.finishedAtMs = this.nowMs;
    this.actions.push({ type: "finished", phase: "rolled_back", reason });
  }

  // -------------------------------------------------------------------------------------------
  // Commands, transitions, history, timer

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

  private revertNode(node: RolloutNode, reason: string): void {
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

  private move(node: RolloutNode, to: NodeState, reason: string): void {
    const from = node.state;
    node.state = to;
    this.record(node, from, to, reason);
  }

  private setPhase(to: RolloutPhase, reason: string): void {
    const from = this.state.phase;
    this.state.phase = to;
    this.state.phaseReason = reason;
    this.record(null, from, to, reason);
  }

  /** Something worth the history that changes no state (a late ack, a node going offline). */
  private note(node: RolloutNode, reason: string): void {
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

  private node(nodeId: string): RolloutNode | undefined {
    return this.state.nodes.find((n) => n.nodeId === nodeId);
  }

  /** The earliest deadline still ahead: acks, activations, reverts, the window, a stale report. */
  private nextWake(): number | null {
    const times: number[] = [];
    for (const n of this.state.nodes) {
      if (n.state === "assigning" && n.assign && n.assign.ackedAtMs === null)
        times.push(n.assign.deadlineAtMs);
      if (
        (n.state === "assigning" || n.state === "deploying") &&
        n.activateDeadlineAtMs !== null &&
        !n.failure
      ) {
        times.push(n.activateDeadlineAtMs);
      }
      if (n.state === "reverting" && n.revert) times.push(n.revert.deadlineAtMs);
    }
    if (ACTIVE_PHASES.has(this.state.phase) && this.state.window) {
      const { endsAtMs } = this.state.window;
      if (this.nowMs < endsAtMs) times.push(endsAtMs);
      else {
        // Past the end, waiting on a recovering node: check again when its report goes stale.
        for (const n of this.phaseNodes()) {
          if (n.lastReportAtMs !== null)
            times.push(n.lastReportAtMs + this.state.spec.maxReportAgeMs + 1);
        }
      }
    }
    const ahead = times.filter((t) => t > this.nowMs);
    return ahead.length > 0 ? Math.min(...ahead) : null;
  }
}
