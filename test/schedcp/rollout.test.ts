/**
 * The rollout state machine, path by path: canary, promotion, completion; rollback on
 * regression, ejection, failure, timeout and lost nodes; operator stop and rollback; the
 * circuit breaker across rollouts; and the interleavings a real fleet produces (late acks,
 * late activations, ejections during promotion, nodes that go offline and come back).
 */

import { describe, expect, it } from "vitest";
import type { DeployStatus } from "../../src/schedcp/protocol";
import { stepRollout } from "../../src/schedcp/rollout";
import { chooseCanaries } from "../../src/schedcp/rollout-canaries";
import { startRollout } from "../../src/schedcp/rollout-start";
import type {
  RolloutAction,
  RolloutEvent,
  RolloutSpec,
  RolloutState,
} from "../../src/schedcp/rollout-types";
import { report } from "./telemetry-fixtures";

const T0 = 1_000_000;
const NODES = Array.from({ length: 10 }, (_, i) => `n${i}`);

function spec(overrides: Partial<RolloutSpec> = {}): RolloutSpec {
  return {
    rolloutId: "rol_test1",
    policyId: "spol_fifo",
    version: 3,
    nodes: NODES,
    canaryFraction: 0.2,
    healthWindowMs: 60_000,
    ackTimeoutMs: 5_000,
    activateTimeoutMs: 30_000,
    maxReportAgeMs: 15_000,
    guards: [{ metric: "psiSomeAvg10Pct", maxIncreasePct: 50, floor: 5, sustainMs: 0 }],
    breaker: { threshold: 3, failedNodes: [], quarantined: false },
    ...overrides,
  };
}

/** Drives one rollout, keeping every action it asked for. */
class Sim {
  state: RolloutState;
  readonly log: RolloutAction[] = [];
  now = T0;

  constructor(s: RolloutSpec = spec(), baselinePsi = 10) {
    const baselines = Object.fromEntries(
      s.nodes.map((n) => [n, report({ psiSomePct: baselinePsi })]),
    );
    const started = startRollout(s, baselines, this.now);
    if (!started.ok) throw new Error(started.message);
    this.state = started.state;
    this.log.push(...started.actions);
  }

  step(event: RolloutEvent): RolloutAction[] {
    const before = structuredClone(this.state);
    const { state, actions } = stepRollout(this.state, event);
    // The input is never changed.
    expect(this.state).toEqual(before);
    this.state = state;
    this.log.push(...actions);
    return actions;
  }

  at(ms: number): this {
    this.now = T0 + ms;
    return this;
  }

  node(nodeId: string) {
    return this.state.nodes.find((n) => n.nodeId === nodeId)!;
  }

  canaries(): string[] {
    return this.state.nodes.filter((n) => n.canary).map((n) => n.nodeId);
  }

  rest(): string[] {
    return this.state.nodes.filter((n) => !n.canary).map((n) => n.nodeId);
  }

  /** The newest command of `op` sent to a node. */
  command(nodeId: string, op: "assign" | "revert") {
    const found = this.log.filter((a) => a.type === op && a.nodeId === nodeId).at(-1);
    if (!found || (found.type !== "assign" && found.type !== "revert"))
      throw new Error(`no ${op} for ${nodeId}`);
    return found;
  }

  ack(nodeId: string, op: "assign" | "revert" = "assign", ok = true): RolloutAction[] {
    const error = ok ? null : { code: "busy", message: "try later" };
    return this.step({
      type: "ack",
      atMs: this.now,
      nodeId,
      commandId: this.command(nodeId, op).commandId,
      ok,
      error,
    });
  }

  status(
    nodeId: string,
    state: DeployStatus["state"],
    reason: string | null = null,
  ): RolloutAction[] {
    const n = this.node(nodeId);
    return this.step({
      type: "deploy-status",
      atMs: this.now,
      nodeId,
      status: {
        type: "deploy-status",
        assignmentId: n.assignmentId,
        policyId: "spol_fifo",
        version: 3,
        state,
        reason,
        running:
          state === "active"
            ? { assignmentId: n.assignmentId, policyId: "spol_fifo", version: 3 }
            : null,
        dryRun: false,
        atMs: this.now,
      },
    });
  }

  telemetry(nodeId: string, psiSomePct: number): RolloutAction[] {
    return this.step({ type: "telemetry", atMs: this.now, nodeId, report: report({ psiSomePct }) });
  }

  tick(): RolloutAction[] {
    return this.step({ type: "tick", atMs: this.now });
  }

  /** Acks and activates `nodes`. */
  bringUp(nodes: string[]): void {
    for (const n of nodes) {
      this.ack(n);
      this.status(n, "active");
    }
  }

  /** Healthy reports from `nodes`. */
  healthy(nodes: string[], psi = 11): void {
    for (const n of nodes) this.telemetry(n, psi);
  }
}

const ofType = <T extends RolloutAction["type"]>(actions: RolloutAction[], type: T) =>
  actions.filter((a): a is Extract<RolloutAction, { type: T }> => a.type === type);

describe("starting a rollout", () => {
  it("chooses canaries deterministically: a fraction rounded up, at least one, per rollout", () => {
    expect(chooseCanaries("rol_a", NODES, 0.2)).toEqual(
      chooseCanaries("rol_a", [...NODES].reverse(), 0.2),
    );
    expect(chooseCanaries("rol_a", NODES, 0.2)).toHaveLength(2);
    expect(chooseCanaries("rol_a", NODES, 0.21)).toHaveLength(3);
    expect(chooseCanaries("rol_a", NODES, 0.01)).toHaveLength(1);
    expect(chooseCanaries("rol_a", NODES, 1)).toHaveLength(10);
    const sets = new Set(
      ["rol_a", "rol_b", "rol_c", "rol_d"].map((id) => chooseCanaries(id, NODES, 0.2).join()),
    );
    expect(sets.size).toBeGreaterThan(1);
  });

  it("assigns the canaries only, and sets the timer to the first deadline", () => {
    const sim = new Sim();
    const assigns = ofType(sim.log, "assign");
    expect(assigns.map((a) => a.nodeId)).toEqual(sim.canaries());
    expect(assigns[0]).toMatchObject({
      commandId: "cmd_test1-1",
      canary: true,
      deadlineAtMs: T0 + 5_000,
    });
    expect(assigns.map((a) => a.assignmentId)).toEqual(
      sim.canaries().map((n) => `asg_test1-${NODES.indexOf(n)}`),
    );
    expect(sim.state.phase).toBe("canary");
    expect(sim.log.at(-1)).toEqual({ type: "set-timer", atMs: T0 + 5_000 });
    expect(sim.rest().every((n) => sim.node(n).state === "pending")).toBe(true);
  });

  it("refuses an invalid spec and a quarantined version", () => {
    const dup = startRollout(spec({ nodes: ["a", "a"] }), {}, T0);
    expect(dup).toMatchObject({
      ok: false,
      code: "invalid",
      message: "nodes: nodes must be distinct",
    });
    expect(startRollout(spec({ canaryFraction: 0 }), {}, T0)).toMatchObject({
      ok: false,
      code: "invalid",
    });
    const q = startRollout(
      spec({ breaker: { threshold: 3, failedNodes: [], quarantined: true } }),
      {},
      T0,
    );
    expect(q).toMatchObject({ ok: false, code: "quarantined" });
    const full = startRollout(
      spec({ breaker: { threshold: 2, failedNodes: ["x", "y"], quarantined: false } }),
      {},
      T0,
    );
    expect(full).toMatchObject({ ok: false, code: "quarantined" });
  });
});

describe("the healthy path", () => {
  it("promotes after the canaries' health window and completes after the rest's", () => {
    const sim = new Sim();
    const canaries = sim.canaries();
    sim.at(1_000).bringUp(canaries);
    expect(sim.state.window).toEqual({ openedAtMs: T0 + 1_000, endsAtMs: T0 + 61_000 });
    expect(sim.log.at(-1)).toEqual({ type: "set-timer", atMs: T0 + 61_000 });
    sim.at(30_000).healthy(canaries);
    sim.at(55_000).healthy(canaries);
    // One millisecond early: nothing.
    sim.at(60_999).tick();
    expect(sim.state.phase).toBe("canary");
    const promoted = sim.at(61_000).tick();
    expect(sim.state.phase).toBe("promoting");
    expect(ofType(promoted, "assign").map((a) => a.nodeId)).toEqual(sim.rest());
    expect(ofType(promoted, "assign").every((a) => !a.canary)).toBe(true);

    sim.at(62_000).bringUp(sim.rest());
    expect(sim.state.window).toEqual({ openedAtMs: T0 + 62_000, endsAtMs: T0 + 122_000 });
    sim.at(110_000).healthy(NODES);
    const done = sim.at(122_000).tick();
    expect(sim.state.phase).toBe("completed");
    expect(sim.state.finishedAtMs).toBe(T0 + 122_000);
    expect(ofType(done, "finished")).toEqual([
      { type: "finished", phase: "completed", reason: "every node held its guards for 60000 ms" },
    ]);
    expect(done.at(-1)).toEqual({ type: "clear-timer" });
    expect(NODES.every((n) => sim.node(n).state === "active")).toBe(true);
    expect(ofType(sim.log, "revert")).toEqual([]);
  });

  it("records every transition for the node and policy history", () => {
    const sim = new Sim();
    const [c] = sim.canaries();
    sim.at(1_000).ack(c!);
    sim.status(c!, "active");
    const entries = ofType(sim.log, "record").map((r) => r.entry);
    expect(entries[0]).toEqual({
      atMs: T0,
      rolloutId: "rol_test1",
      policyId: "spol_fifo",
      version: 3,
      nodeId: null,
      from: "none",
      to: "canary",
      reason: "2 of 10 nodes first",
    });
    expect(entries.filter((e) => e.nodeId === c).map((e) => [e.from, e.to])).toEqual([
      ["pending", "assigning"],
      ["assigning", "deploying"],
      ["deploying", "active"],
    ]);
  });

  it("completes a one-node rollout straight from the canary phase", () => {
    const sim = new Sim(spec({ nodes: ["solo"] }));
    sim.at(1_000).bringUp(["solo"]);
    sim.at(50_000).healthy(["solo"]);
    sim.at(61_000).tick();
    expect(sim.state.phase).toBe("completed");
  });

  it("takes telemetry from before activation as the node's baseline", () => {
    const sim = new Sim(spec({ nodes: ["solo"] }), 1);
    sim.at(500).telemetry("solo", 20); // the pre-deploy load is higher than the stale baseline
    sim.at(1_000).bringUp(["solo"]);
    sim.at(2_000).telemetry("solo", 29); // 29 ≤ 20 × 1.5: fine against the fresh baseline
    expect(sim.node("solo").failure).toBeNull();
    expect(sim.node("solo").lastVerdict).toBe("ok");
  });
});

describe("health: a missing ack or report is not health", () => {
  it("rolls back when a canary sends no report in the window, without blaming the policy", () => {
    const sim = new Sim();
    const [a, b] = sim.canaries();
    sim.at(1_000).bringUp([a!, b!]);
    sim.at(50_000).healthy([a!]);
    const actions = sim.at(61_000).tick();
    expect(sim.state.phase).toBe("rolling_back");
    expect(ofType(actions, "node-failure")).toEqual([
      expect.objectContaining({ nodeId: b, reason: "no_telemetry", counted: false }),
    ]);
    expect(
      ofType(actions, "revert")
        .map((r) => r.nodeId)
        .sort(),
    ).toEqual([a, b].sort());
    expect(sim.state.failedNodes).toEqual([]);
  });

  it("treats a report older than maxReportAgeMs at the window's end as missing", () => {
    const sim = new Sim();
    const canaries = sim.canaries();
    sim.at(1_000).bringUp(canaries);
    sim.at(45_999).healthy(canaries); // 61,000 - 45,999 = 15,001 ms old at the end
    sim.at(61_000).tick();
    expect(sim.state.phase).toBe("rolling_back");
    expect(sim.node(canaries[0]!).failure?.detail).toBe("newest report is 15001 ms old");
  });

  it("waits for a canary over its limit but not yet for sustainMs, then promotes when it recovers", () => {
    const guards = [
      { metric: "psiSomeAvg10Pct" as const, maxIncreasePct: 50, floor: 5, sustainMs: 20_000 },
    ];
    const sim = new Sim(spec({ guards }));
    const [a, b] = sim.canaries();
    sim.at(1_000).bringUp([a!, b!]);
    sim.at(50_000).healthy([a!]);
    sim.at(55_000).telemetry(b!, 40); // over 15, violating since 55,000
    sim.at(61_000).tick();
    expect(sim.state.phase).toBe("canary");
    expect(sim.state.timerAtMs).toBe(T0 + 50_000 + 15_000 + 1);
    sim.at(62_000).telemetry(b!, 12);
    sim.at(63_000).telemetry(a!, 12);
    expect(sim.state.phase).toBe("promoting");
  });
});

describe("rollback", () => {
  it("rolls back every touched node on a regression, and counts it against the version", () => {
    const sim = new Sim();
    const [a, b] = sim.canaries();
    sim.at(1_000).bringUp([a!, b!]);
    const actions = sim.at(10_000).telemetry(a!, 15.01);
    expect(ofType(actions, "node-failure")).toEqual([
      expect.objectContaining({ nodeId: a, reason: "regression", counted: true }),
    ]);
    expect(sim.state.failedNodes).toEqual([a]);
    expect(ofType(actions, "revert").map((r) => [r.nodeId, r.assignmentId])).toEqual(
      [a!, b!].map((n) => [n, sim.node(n).assignmentId]),
    );
    expect(sim.rest().every((n) => sim.node(n).state === "skipped")).toBe(true);
    sim.at(11_000).ack(a!, "revert");
    expect(sim.state.phase).toBe("rolling_back");
    const done = sim.ack(b!, "revert");
    expect(sim.state.phase).toBe("rolled_back");
    expect(ofType(done, "finished")).toEqual([
      { type: "finished", phase: "rolled_back", reason: "every node reverted" },
    ]);
  });

  it("rolls back on an ejection during promotion: the canaries too, not the ejected node", () => {
    const sim = new Sim();
    const canaries = sim.canaries();
    sim.at(1_000).bringUp(canaries);
    sim.at(50_000).healthy(canaries);
    sim.at(61_000).tick();
    const [r0, r1, r2, ...others] = sim.rest();
    sim.at(62_000).bringUp([r0!, r1!]);
    sim.ack(r2!); // r2 acked, still deploying; the others have not answered yet
    const actions = sim.at(63_000).status(r0!, "ejected", "runnable task stall");
    expect(ofType(actions, "node-failure")).toEqual([
      expect.objectContaining({
        nodeId: r0,
        reason: "ejected",
        counted: true,
        detail: "runnable task stall",
      }),
    ]);
    expect(sim.node(r0!).state).toBe("off");
    const reverted = ofType(actions, "revert").map((r) => r.nodeId);
    expect(reverted.sort()).toEqual([...canaries, r1!, r2!, ...others].sort());
  });

  it("handles a late ack and a late activation after the rollback began", () => {
    const sim = new Sim();
    const [a, b] = sim.canaries();
    sim.at(1_000).ack(b!, "assign", false); // b refuses: rollback while a is still assigning
    expect(sim.state.phase).toBe("rolling_back");
    expect(sim.node(a!).state).toBe("reverting");
    expect(sim.node(b!).failure).toMatchObject({ reason: "nack", counted: false });
    const late = sim.at(1_500).ack(a!, "assign");
    expect(ofType(late, "record")[0]!.entry.reason).toContain("late ack of the assign command");
    expect(sim.node(a!).state).toBe("reverting");
    // a's revert reached it before its load finished, so its revert was a no-op: it acks...
    sim.at(2_000).ack(a!, "revert");
    expect(sim.state.phase).toBe("rolled_back");
    // ...and then it reports the policy active. Take it off again.
    const again = sim.at(2_500).status(a!, "active");
    expect(sim.state.phase).toBe("rolling_back");
    const revert = ofType(again, "revert")[0]!;
    expect(revert).toMatchObject({ nodeId: a, assignmentId: sim.node(a!).assignmentId });
    expect(revert.commandId).not.toBe(ofType(sim.log, "revert")[0]!.commandId);
    sim.at(3_000).status(a!, "stopped", "revert");
    expect(sim.state.phase).toBe("rolled_back");
    // A duplicate ack of the first revert changes nothing.
    const dup = sim.step({
      type: "ack",
      atMs: T0 + 3_100,
      nodeId: a!,
      commandId: ofType(sim.log, "revert")[0]!.commandId,
      ok: true,
      error: null,
    });
    expect(ofType(dup, "record")[0]!.entry.from).toBe(ofType(dup, "record")[0]!.entry.to);
    expect(sim.state.phase).toBe("rolled_back");
  });

  it("fails a node that goes offline while running the policy, and reverts it when it comes back", () => {
    const sim = new Sim();
    const [a, b] = sim.canaries();
    sim.at(1_000).bringUp([a!, b!]);
    const actions = sim.at(5_000).step({ type: "node-offline", atMs: T0 + 5_000, nodeId: a! });
    expect(ofType(actions, "node-failure")[0]).toMatchObject({
      reason: "offline_while_active",
      counted: true,
    });
    sim.at(6_000).ack(b!, "revert");
    // a cannot answer: its revert times out, exactly at the deadline.
    sim.at(9_999).tick();
    expect(sim.node(a!).state).toBe("reverting");
    sim.at(10_000).tick();
    expect(sim.node(a!).state).toBe("revert_unconfirmed");
    expect(sim.state.phase).toBe("rolled_back");
    expect(sim.state.phaseReason).toBe(`reverts unconfirmed on ${a}`);
    // It reconnects still running the policy: revert it again.
    const node = sim.node(a!);
    const back = sim.at(20_000).step({
      type: "node-online",
      atMs: T0 + 20_000,
      nodeId: a!,
      running: { assignmentId: node.assignmentId, policyId: "spol_fifo", version: 3 },
    });
    expect(ofType(back, "revert").map((r) => r.nodeId)).toEqual([a]);
    expect(sim.state.phase).toBe("rolling_back");
    sim.ack(a!, "revert");
    expect(sim.state.phase).toBe("rolled_back");
  });

  it("does not blame the policy for a node lost before it ran it", () => {
    const sim = new Sim();
    const [a] = sim.canaries();
    sim.at(1_000).ack(a!);
    const actions = sim.step({ type: "node-offline", atMs: T0 + 1_000, nodeId: a! });
    expect(ofType(actions, "node-failure")[0]).toMatchObject({ reason: "offline", counted: false });
  });

  it("times out a missing ack and a missing activation at their deadlines", () => {
    const noAck = new Sim();
    noAck.at(4_999).tick();
    expect(noAck.state.phase).toBe("canary");
    noAck.at(5_000).tick();
    expect(noAck.state.phase).toBe("rolling_back");
    // The first timeout rolls back; a revert follows each unanswered assign, in case it lands.
    const timedOut = noAck.state.nodes.filter((n) => n.failure?.reason === "ack_timeout");
    expect(timedOut.map((n) => n.nodeId)).toEqual([noAck.canaries()[0]]);
    expect(noAck.canaries().map((n) => noAck.node(n).state)).toEqual(["reverting", "reverting"]);

    const noActive = new Sim();
    for (const n of noActive.canaries()) noActive.at(1_000).ack(n);
    expect(noActive.state.timerAtMs).toBe(T0 + 30_000);
    noActive.at(30_000).tick();
    expect(noActive.state.phase).toBe("rolling_back");
    expect(
      noActive.state.nodes.filter((n) => n.failure?.reason === "activate_timeout"),
    ).toHaveLength(1);
    // Both may still load: both get a revert carrying their assignment id.
    expect(noActive.canaries().map((n) => noActive.node(n).state)).toEqual([
      "reverting",
      "reverting",
    ]);
    expect(noActive.state.failedNodes).toEqual([]);
  });

  it("settles a deadline the alarm missed at the next event, so the timer never skips it", () => {
    const late = new Sim();
    for (const n of late.canaries()) late.at(1_000).ack(n);
    expect(late.state.timerAtMs).toBe(T0 + 30_000);
    // The alarm runs late: a report arrives past the activation deadline, before any tick.
    late.at(31_000).telemetry(late.canaries()[0]!, 11);
    expect(late.state.phase).toBe("rolling_back");
    expect(late.state.nodes.filter((n) => n.failure?.reason === "activate_timeout")).toHaveLength(
      1,
    );
    // The reverts' deadlines are ahead, and the timer holds the first of them.
    const reverts = late.canaries().map((n) => late.node(n).revert!.deadlineAtMs);
    expect(late.state.timerAtMs).toBe(Math.min(...reverts));
    expect(late.state.timerAtMs).toBeGreaterThan(T0 + 31_000);
  });

  it("counts a guard revert and a failed load, not a refused signature or a foreign stop", () => {
    const counted = (state: DeployStatus["state"]) => {
      const sim = new Sim();
      const [a] = sim.canaries();
      sim.at(1_000).ack(a!);
      return ofType(sim.status(a!, state), "node-failure")[0]!;
    };
    expect(counted("reverted")).toMatchObject({ reason: "guard_reverted", counted: true });
    expect(counted("failed")).toMatchObject({ reason: "load_failed", counted: true });
    expect(counted("refused")).toMatchObject({ reason: "refused", counted: false });
    expect(counted("stopped")).toMatchObject({ reason: "stopped_externally", counted: false });
  });

  it("ignores a deploy-status of another assignment", () => {
    const sim = new Sim();
    const [a] = sim.canaries();
    const actions = sim.step({
      type: "deploy-status",
      atMs: T0,
      nodeId: a!,
      status: {
        type: "deploy-status",
        assignmentId: "asg_other-1",
        policyId: "spol_other",
        version: 1,
        state: "ejected",
        reason: null,
        running: null,
        dryRun: false,
        atMs: T0,
      },
    });
    expect(ofType(actions, "node-failure")).toEqual([]);
    expect(sim.state.phase).toBe("canary");
  });
});

describe("operator commands", () => {
  it("stops where it is (no promotion), and rolls back on command", () => {
    const sim = new Sim();
    const canaries = sim.canaries();
    sim.at(1_000).bringUp(canaries);
    sim.step({ type: "stop", atMs: T0 + 2_000, actor: "key_1", reason: "investigating" });
    expect(sim.state).toMatchObject({
      phase: "stopped",
      phaseReason: "key_1: investigating",
      window: null,
    });
    sim.at(2_500).healthy(canaries);
    sim.at(70_000).tick();
    expect(sim.state.phase).toBe("stopped");
    expect(ofType(sim.log, "assign")).toHaveLength(2);
    const rb = sim.step({ type: "rollback", atMs: T0 + 71_000, actor: "key_1", reason: "not now" });
    expect(
      ofType(rb, "revert")
        .map((r) => r.nodeId)
        .sort(),
    ).toEqual([...canaries].sort());
    const again = sim.step({
      type: "rollback",
      atMs: T0 + 71_001,
      actor: "key_1",
      reason: "twice",
    });
    expect(ofType(again, "revert")).toEqual([]);
  });

  it("rolls back a completed rollout on command, and ignores a stop there", () => {
    const sim = new Sim(spec({ nodes: ["solo"] }));
    sim.at(1_000).bringUp(["solo"]);
    sim.at(50_000).healthy(["solo"]);
    sim.at(61_000).tick();
    expect(sim.state.phase).toBe("completed");
    sim.step({ type: "stop", atMs: T0 + 62_000, actor: "k", reason: "x" });
    expect(sim.state.phase).toBe("completed");
    const rb = sim.step({
      type: "rollback",
      atMs: T0 + 63_000,
      actor: "k",
      reason: "policy retired",
    });
    expect(ofType(rb, "revert").map((r) => r.nodeId)).toEqual(["solo"]);
  });
});

describe("the circuit breaker", () => {
  it("quarantines the version at K distinct failed nodes, counting earlier rollouts", () => {
    const sim = new Sim(
      spec({ breaker: { threshold: 2, failedNodes: ["old-node"], quarantined: false } }),
    );
    const [a] = sim.canaries();
    sim.at(1_000).bringUp([a!]);
    const actions = sim.at(2_000).status(a!, "ejected");
    expect(ofType(actions, "quarantine")).toEqual([
      {
        type: "quarantine",
        policyId: "spol_fifo",
        version: 3,
        failedNodes: ["old-node", a],
        reason: "failed on 2 nodes (threshold 2)",
      },
    ]);
    expect(sim.state.quarantined).toBe(true);
    // The next rollout of this version is refused.
    const next = startRollout(
      spec({
        rolloutId: "rol_test2",
        breaker: { threshold: 2, failedNodes: sim.state.failedNodes, quarantined: true },
      }),
      {},
      T0,
    );
    expect(next).toMatchObject({ ok: false, code: "quarantined" });
  });

  it("counts a node once, however often it fails, and never a failure not the policy's", () => {
    const breaker = { threshold: 2, failedNodes: ["n0", "n0"], quarantined: false };
    const sim = new Sim(spec({ nodes: ["n0"], breaker }));
    expect(sim.state.failedNodes).toEqual(["n0"]);
    sim.at(1_000).bringUp(["n0"]);
    expect(ofType(sim.at(2_000).status("n0", "ejected"), "quarantine")).toEqual([]);
    expect(sim.state.failedNodes).toEqual(["n0"]);

    const other = new Sim(spec({ nodes: ["m0"], breaker: { ...breaker, failedNodes: ["x"] } }));
    other.at(1_000).ack("m0");
    other.step({ type: "node-offline", atMs: T0 + 1_000, nodeId: "m0" });
    expect(other.state).toMatchObject({ quarantined: false, failedNodes: ["x"] });
  });
});

describe("determinism", () => {
  it("gives the same states and actions for the same events", () => {
    const run = () => {
      const sim = new Sim();
      const canaries = sim.canaries();
      sim.at(1_000).bringUp(canaries);
      sim.at(50_000).healthy(canaries);
      sim.at(61_000).tick();
      sim.at(62_000).bringUp(sim.rest().slice(0, 3));
      sim.at(63_000).telemetry(sim.rest()[0]!, 99);
      return { state: sim.state, log: sim.log };
    };
    expect(run()).toEqual(run());
  });
});
