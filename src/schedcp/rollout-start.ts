/**
 * The rollout machine's `start`: checks the spec and the version's circuit breaker, builds the
 * initial state (every node pending, with its assignment id and pre-deploy baseline) and
 * assigns the canaries.
 */

import { newTracker } from "./guards.js";
import type { TelemetryReport } from "./protocol/index.js";
import { chooseCanaries } from "./rollout-canaries.js";
import { finishStep } from "./rollout-deadlines.js";
import { Step } from "./rollout-step.js";
import {
  type RolloutSpec,
  RolloutSpecSchema,
  type RolloutState,
  type StartResult,
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
  return { ok: true, ...finishStep(run) };
}
