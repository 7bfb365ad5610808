/**
 * The operator's commands: stop (holds the rollout where it is, only while it is live) and
 * rollback (from any phase but a rollback already under way or done). Out of phase, each is
 * written to the history as ignored and changes nothing.
 */

import { beginRollback } from "./rollout-rollback.js";
import { ACTIVE_PHASES, type Step } from "./rollout-step.js";

export function onStop(run: Step, reason: string): void {
  if (!ACTIVE_PHASES.has(run.state.phase)) {
    run.record(
      null,
      run.state.phase,
      run.state.phase,
      `stop ignored in ${run.state.phase}: ${reason}`,
    );
    return;
  }
  run.state.window = null;
  run.setPhase("stopped", reason);
}

export function onRollbackCommand(run: Step, reason: string): void {
  if (run.state.phase === "rolling_back" || run.state.phase === "rolled_back") {
    run.record(
      null,
      run.state.phase,
      run.state.phase,
      `rollback ignored in ${run.state.phase}: ${reason}`,
    );
    return;
  }
  beginRollback(run, reason);
}
