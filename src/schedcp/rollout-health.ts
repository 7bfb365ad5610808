/**
 * Health and promotion: telemetry measured against the guards and the node's baseline, the
 * phase's health window (opened when every node of the phase is active), and its judgement at
 * the end — promote the rest after the canaries, complete after everyone, keep waiting on a
 * node that is over a guard but not yet for `sustainMs`, or fail the nodes without fresh, good
 * reports.
 */

import { evaluateGuards } from "./guards.js";
import type { TelemetryReport } from "./protocol/index.js";
import { fail } from "./rollout-failure.js";
import { ACTIVE_PHASES, type Step } from "./rollout-step.js";
import type { RolloutNode } from "./rollout-types.js";

export function onTelemetry(run: Step, nodeId: string, report: TelemetryReport): void {
  const node = run.node(nodeId);
  if (!node) return;
  if (node.state === "pending" || node.state === "assigning" || node.state === "deploying") {
    node.baseline = report;
    return;
  }
  if (node.state !== "active" || !ACTIVE_PHASES.has(run.state.phase)) return;
  const { verdict, tracker } = evaluateGuards(
    run.state.spec.guards,
    node.baseline,
    report,
    run.nowMs,
    node.tracker,
  );
  node.tracker = tracker;
  node.lastReportAtMs = run.nowMs;
  node.lastVerdict = verdict.kind;
  if (verdict.kind === "regressed") {
    fail(run, node, "regression", verdict.detail);
    return;
  }
  if (run.state.window && run.nowMs >= run.state.window.endsAtMs) judgeWindow(run);
}

/** The phase's nodes: the canaries first, everyone once promoted. */
export function phaseNodes(run: Step): RolloutNode[] {
  return run.state.phase === "canary" ? run.state.nodes.filter((n) => n.canary) : run.state.nodes;
}

export function maybeOpenWindow(run: Step): void {
  if (!ACTIVE_PHASES.has(run.state.phase) || run.state.window) return;
  if (!phaseNodes(run).every((n) => n.state === "active")) return;
  run.state.window = {
    openedAtMs: run.nowMs,
    endsAtMs: run.nowMs + run.state.spec.healthWindowMs,
  };
  run.record(
    null,
    run.state.phase,
    run.state.phase,
    `health window opens for ${run.state.spec.healthWindowMs} ms`,
  );
}

/** At (or after) the window's end: promote, complete, wait for a recovering node, or fail. */
export function judgeWindow(run: Step): void {
  const window = run.state.window!;
  const verdicts = phaseNodes(run).map((node) => ({
    node,
    health: healthOf(run, node, window.openedAtMs),
  }));
  const unhealthy = verdicts.filter((v) => v.health.kind === "unhealthy");
  if (unhealthy.length > 0) {
    for (const { node, health } of unhealthy) {
      if (health.kind === "unhealthy") fail(run, node, "no_telemetry", health.detail);
    }
    return;
  }
  if (verdicts.some((v) => v.health.kind === "waiting")) return;
  run.state.window = null;
  const pending = run.state.nodes.filter((n) => n.state === "pending");
  if (run.state.phase === "canary" && pending.length > 0) {
    run.setPhase(
      "promoting",
      `every canary held its guards for ${run.state.spec.healthWindowMs} ms`,
    );
    for (const node of pending) run.assignNode(node);
    return;
  }
  run.setPhase("completed", `every node held its guards for ${run.state.spec.healthWindowMs} ms`);
  run.state.finishedAtMs = run.nowMs;
  run.actions.push({ type: "finished", phase: "completed", reason: run.state.phaseReason });
}

function healthOf(
  run: Step,
  node: RolloutNode,
  openedAtMs: number,
): { kind: "healthy" } | { kind: "waiting" } | { kind: "unhealthy"; detail: string } {
  if (node.state !== "active") return { kind: "unhealthy", detail: `${node.state}, not active` };
  const last = node.lastReportAtMs;
  if (last === null || last < openedAtMs) {
    return { kind: "unhealthy", detail: "no report since the health window opened" };
  }
  if (run.nowMs - last > run.state.spec.maxReportAgeMs) {
    return { kind: "unhealthy", detail: `newest report is ${run.nowMs - last} ms old` };
  }
  if (node.lastVerdict === "ok") return { kind: "healthy" };
  if (node.lastVerdict === "violating") return { kind: "waiting" };
  return {
    kind: "unhealthy",
    detail: "its guards could not be measured (no metric or no baseline)",
  };
}
