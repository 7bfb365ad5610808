/**
 * The rollout's deadlines and its one timer: an assign's ack, a node's activation, a revert's
 * ack, the end of the health window. `settleDeadlines` acts on those that have passed (it is
 * the tick, and every other event runs it first: see rollout.ts); `finishStep` sets the timer
 * to the earliest still ahead. The two read the same deadlines: a new one goes in both.
 */

import { fail } from "./rollout-failure.js";
import { judgeWindow, phaseNodes } from "./rollout-health.js";
import { maybeFinishRollback } from "./rollout-rollback.js";
import { ACTIVE_PHASES, type Step } from "./rollout-step.js";
import type { Transition } from "./rollout-types.js";

/**
 * The tick: fails the nodes whose ack or activation is overdue, gives up waiting on overdue
 * reverts, and judges the health window once it has ended.
 */
export function settleDeadlines(run: Step): void {
  for (const node of run.state.nodes) {
    if (
      node.state === "assigning" &&
      node.assign &&
      node.assign.ackedAtMs === null &&
      run.nowMs >= node.assign.deadlineAtMs
    ) {
      // The command may still reach the node: the rollback's revert follows it there.
      fail(run, node, "ack_timeout", `no ack within ${run.state.spec.ackTimeoutMs} ms`);
    } else if (
      (node.state === "assigning" || node.state === "deploying") &&
      node.activateDeadlineAtMs !== null &&
      run.nowMs >= node.activateDeadlineAtMs
    ) {
      // It may still load: the rollback's revert (with this assignment id) takes it off then.
      fail(
        run,
        node,
        "activate_timeout",
        `not active within ${run.state.spec.activateTimeoutMs} ms`,
      );
    } else if (node.state === "reverting" && node.revert && run.nowMs >= node.revert.deadlineAtMs) {
      run.move(
        node,
        "revert_unconfirmed",
        `no ack of the revert within ${run.state.spec.ackTimeoutMs} ms`,
      );
      maybeFinishRollback(run);
    }
  }
  if (
    ACTIVE_PHASES.has(run.state.phase) &&
    run.state.window &&
    run.nowMs >= run.state.window.endsAtMs
  ) {
    judgeWindow(run);
  }
}

/**
 * Ends the step: sets or clears the timer when the next deadline moved, and returns the new
 * state with the actions to carry out.
 */
export function finishStep(run: Step): Transition {
  const next = nextWake(run);
  if (next !== run.state.timerAtMs) {
    run.actions.push(next === null ? { type: "clear-timer" } : { type: "set-timer", atMs: next });
    run.state.timerAtMs = next;
  }
  run.state.updatedAtMs = Math.max(run.state.updatedAtMs, run.nowMs);
  return { state: run.state, actions: run.actions };
}

/** The earliest deadline still ahead: acks, activations, reverts, the window, a stale report. */
function nextWake(run: Step): number | null {
  const times: number[] = [];
  for (const n of run.state.nodes) {
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
  if (ACTIVE_PHASES.has(run.state.phase) && run.state.window) {
    const { endsAtMs } = run.state.window;
    if (run.nowMs < endsAtMs) times.push(endsAtMs);
    else {
      // Past the end, waiting on a recovering node: check again when its report goes stale.
      for (const n of phaseNodes(run)) {
        if (n.lastReportAtMs !== null)
          times.push(n.lastReportAtMs + run.state.spec.maxReportAgeMs + 1);
      }
    }
  }
  const ahead = times.filter((t) => t > run.nowMs);
  return ahead.length > 0 ? Math.min(...ahead) : null;
}
