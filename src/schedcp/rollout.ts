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
 * in rollout-types.ts. This file is the interface and the dispatch of events; the work is in
 * the modules beside it, each over one `Step` (rollout-step.ts: the state, the actions so far,
 * the commands, history):
 *
 *   rollout-start.ts        `start`: check the spec and the breaker, assign the canaries
 *   rollout-canaries.ts     which nodes go first
 *   rollout-deadlines.ts    overdue acks, activations and reverts, the window's end; the timer
 *   rollout-node-events.ts  acks, deploy-status transitions, nodes going off- and online
 *   rollout-health.ts       telemetry against the guards, the health window, promotion, completion
 *   rollout-failure.ts      a node's failure and the circuit breaker (quarantine)
 *   rollout-rollback.ts     reverting every live node and finishing the rollback
 *   rollout-operator.ts     the operator's stop and rollback
 */

import { finishStep, settleDeadlines } from "./rollout-deadlines.js";
import { onTelemetry } from "./rollout-health.js";
import { onAck, onDeployStatus, onOffline, onOnline } from "./rollout-node-events.js";
import { onRollbackCommand, onStop } from "./rollout-operator.js";
import { startRollout } from "./rollout-start.js";
import { Step } from "./rollout-step.js";
import type { RolloutEvent, RolloutMachine, RolloutState, Transition } from "./rollout-types.js";

/**
 * Applies one event; the input state is not changed.
 *
 * @example const { state, actions } = stepRollout(state, { type: "tick", atMs: Date.now() })
 */
export function stepRollout(state: RolloutState, event: RolloutEvent): Transition {
  const run = new Step(structuredClone(state), event.atMs);
  applyEvent(run, event);
  return finishStep(run);
}

export const rolloutMachine: RolloutMachine = { start: startRollout, step: stepRollout };

function applyEvent(run: Step, event: RolloutEvent): void {
  // Deadlines that passed before this event are settled first, as the timer would have: the
  // timer only ever holds deadlines still ahead, so an event that arrives after one (the
  // alarm ran late) must not let the next timer skip past it.
  if (event.type !== "tick") settleDeadlines(run);
  switch (event.type) {
    case "ack":
      onAck(run, event);
      return;
    case "deploy-status":
      onDeployStatus(run, event.nodeId, event.status);
      return;
    case "telemetry":
      onTelemetry(run, event.nodeId, event.report);
      return;
    case "node-offline":
      onOffline(run, event.nodeId);
      return;
    case "node-online":
      onOnline(run, event.nodeId, event.running);
      return;
    case "tick":
      settleDeadlines(run);
      return;
    case "stop":
      onStop(run, `${event.actor}: ${event.reason}`);
      return;
    case "rollback":
      onRollbackCommand(run, `${event.actor}: ${event.reason}`);
      return;
  }
}
