/**
 * Runs rollouts inside the Fleet object: starts the pure state machine (src/schedcp/rollout.ts),
 * feeds it the frames and timer ticks the object receives, carries out its actions (signed
 * assign and revert commands on the nodes' sockets, the timer) and drains its D1-bound outbox
 * (history, failures, quarantines, performance records).
 *
 * A step — load, step, save, enqueue — is synchronous and runs in one storage transaction, so no
 * other frame interleaves with it; commands go out after it commits (see fleet-rollouts.ts for
 * why that order is safe).
 */

import type { Assignment, TelemetryReport } from "../schedcp/protocol/index.js";
import { rolloutMachine } from "../schedcp/rollout.js";
import { nodePerformance } from "../schedcp/rollout-outcome.js";
import type {
  HistoryEntry,
  RolloutEvent,
  RolloutSpec,
  RolloutState,
  Transition,
} from "../schedcp/rollout-types.js";
import type { Db } from "../store/db.js";
import { quarantineVersion, recordPolicyFailure } from "../store/sched-circuit-breaker.js";
import { appendRolloutHistory, recordPerformance } from "../store/sched-history.js";
import {
  type AssignmentTemplate,
  type OutboxItem,
  type RolloutRow,
  RolloutStore,
  type RolloutTarget,
} from "./fleet-rollouts.js";
import type { TelemetryEntry } from "./fleet-types.js";

/** Outbox items written to D1 per round. */
const OUTBOX_BATCH = 100;
/** Telemetry entries read per node for its performance record. */
const PERFORMANCE_REPORTS_READ = 200;
/** Reports from before the deploy that make the node's baseline class. */
const PERFORMANCE_BASELINE_REPORTS = 30;
/** Commands of a step that fail to go out are answered by these many follow-up steps at most. */
const MAX_FOLLOW_UPS = 10_000;

/** What the engine needs of the Fleet object. */
export interface RolloutHost {
  /** Sends a text frame on the node's current socket; false when it has none. */
  sendText(nodeId: string, text: string): boolean;
  /** The node's newest telemetry (written-behind reports flushed first), newest first. */
  telemetry(nodeId: string, limit: number): TelemetryEntry[];
  transact<T>(fn: () => T): T;
  tenantId(): string;
}

/** What the call layer resolved and checked before the object starts a rollout. */
export interface RolloutStartInput {
  spec: RolloutSpec;
  template: AssignmentTemplate;
  target: RolloutTarget;
  createdBy: string;
}

export type RolloutStartReply =
  | { ok: true; rollout: RolloutRow }
  | { ok: false; code: "invalid" | "quarantined"; message: string };

export type RolloutCommandReply =
  | { ok: true; rollout: RolloutRow }
  | { ok: false; code: "not_found" | "illegal_transition"; message: string; phase?: string };

export class RolloutEngine {
  readonly store: RolloutStore;
  private draining = false;

  constructor(
    sql: SqlStorage,
    private readonly host: RolloutHost,
  ) {
    this.store = new RolloutStore(sql);
  }

  /**
   * Starts a rollout whose nodes the caller resolved: assigns the canaries.
   *
   * @example engine.start(input, Date.now())
   */
  start(input: RolloutStartInput, nowMs: number): RolloutStartReply {
    const baselines: Record<string, TelemetryReport | null> = {};
    for (const nodeId of input.spec.nodes) {
      baselines[nodeId] = this.host.telemetry(nodeId, 1)[0]?.report ?? null;
    }
    const started = rolloutMachine.start(input.spec, baselines, nowMs);
    if (!started.ok) return started;
    const rolloutId = input.spec.rolloutId;
    const performance = this.performanceOf(started, nowMs);
    this.host.transact(() => {
      this.store.insert({
        rolloutId,
        state: started.state,
        template: input.template,
        target: input.target,
        createdBy: input.createdBy,
        createdAtMs: nowMs,
      });
      this.enqueueActions(started, performance);
    });
    this.carryOut(rolloutId, started, nowMs);
    return { ok: true, rollout: this.store.get(rolloutId)! };
  }

  /** An operator's stop or rollback. */
  command(
    rolloutId: string,
    event: Extract<RolloutEvent, { type: "stop" | "rollback" }>,
  ): RolloutCommandReply {
    const row = this.store.get(rolloutId);
    if (!row) return { ok: false, code: "not_found", message: `no rollout ${rolloutId}` };
    const phase = row.state.phase;
    const allowed =
      event.type === "stop"
        ? phase === "canary" || phase === "promoting"
        : phase !== "rolling_back" && phase !== "rolled_back";
    if (!allowed) {
      return {
        ok: false,
        code: "illegal_transition",
        message: `${rolloutId} is ${phase}: ${event.type === "stop" ? "only a rollout in canary or promoting stops" : "it is already rolling back or rolled back"}`,
        phase,
      };
    }
    this.step(rolloutId, event);
    return { ok: true, rollout: this.store.get(rolloutId)! };
  }

  /** Steps every live rollout the node takes part in with the event `make` builds for it. */
  onNode(nodeId: string, make: (rolloutId: string) => RolloutEvent | null): void {
    for (const rolloutId of this.store.liveFor(nodeId)) {
      const event = make(rolloutId);
      if (event) this.step(rolloutId, event);
    }
  }

  /** Ticks every rollout whose timer is due. */
  tick(nowMs: number): void {
    for (const rolloutId of this.store.due(nowMs))
      this.step(rolloutId, { type: "tick", atMs: nowMs });
  }

  /** The earliest instant the alarm must fire for the rollouts (and a pending outbox). */
  nextWake(nowMs: number, outboxRetryMs: number): number | null {
    const timer = this.store.nextTimer();
    const outbox = this.store.outboxSize() > 0 ? nowMs + outboxRetryMs : null;
    if (timer === null) return outbox;
    return outbox === null ? timer : Math.min(timer, outbox);
  }

  /** Writes the outbox to D1, oldest first; what fails stays for the next call. */
  async drain(db: Db): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const items = this.store.peek(OUTBOX_BATCH);
        if (items.length === 0) return;
        const history: HistoryEntry[] = [];
        let tenantId = items[0]!.tenantId;
        const flushHistory = async () => {
          await appendRolloutHistory(db, tenantId, history.splice(0));
        };
        for (const { tenantId: itemTenant, item } of items) {
          if (itemTenant !== tenantId) {
            await flushHistory();
            tenantId = itemTenant;
          }
          if (item.type === "record") {
            history.push(item.entry);
            continue;
          }
          await flushHistory();
          await writeItem(db, itemTenant, item);
        }
        await flushHistory();
        this.store.ack(items[items.length - 1]!.seq);
      }
    } catch (error) {
      console.error("fleet: writing rollout records to D1 failed; retried by the alarm", error);
    } finally {
      this.draining = false;
    }
  }

  // -------------------------------------------------------------------------------------------

  private step(rolloutId: string, first: RolloutEvent): void {
    const queue: RolloutEvent[] = [first];
    for (let n = 0; n < MAX_FOLLOW_UPS && queue.length > 0; n++) {
      const event = queue.shift()!;
      const row = this.store.get(rolloutId);
      if (!row) return;
      const transition = rolloutMachine.step(row.state, event);
      // Read before the transaction: reading telemetry flushes the object's write-behind.
      const performance = this.performanceOf(transition, event.atMs);
      this.host.transact(() => {
        this.store.save(rolloutId, transition.state);
        this.enqueueActions(transition, performance);
      });
      queue.push(...this.carryOut(rolloutId, transition, event.atMs, row.template));
    }
  }

  /** The performance records of a step that finished the rollout (none otherwise). */
  private performanceOf(t: Transition, nowMs: number): OutboxItem[] {
    const finished = t.actions.find((a) => a.type === "finished");
    return finished?.type === "finished"
      ? this.performanceItems(t.state, finished.phase, nowMs)
      : [];
  }

  /** The D1-bound actions into the outbox (inside the step's transaction). */
  private enqueueActions(t: Transition, performance: readonly OutboxItem[]): void {
    const tenantId = this.host.tenantId();
    for (const action of t.actions) {
      if (action.type === "record" || action.type === "quarantine") {
        this.store.enqueue(tenantId, action);
      } else if (action.type === "node-failure") {
        this.store.enqueue(tenantId, { ...action, rolloutId: t.state.spec.rolloutId });
      }
    }
    for (const item of performance) this.store.enqueue(tenantId, item);
  }

  /** What each node that ran the policy did under it, against its class before. */
  private performanceItems(
    state: RolloutState,
    finished: "completed" | "rolled_back",
    nowMs: number,
  ): OutboxItem[] {
    const items: OutboxItem[] = [];
    for (const node of state.nodes) {
      if (node.activeAtMs === null) continue;
      const activeAtMs = node.activeAtMs;
      const entries = this.host.telemetry(node.nodeId, PERFORMANCE_REPORTS_READ);
      const before = entries
        .filter((e) => e.receivedAtMs < activeAtMs)
        .slice(0, PERFORMANCE_BASELINE_REPORTS)
        .reverse()
        .map((e) => ({ atMs: e.atMs, report: e.report }));
      const after = entries
        .filter((e) => e.receivedAtMs >= activeAtMs && e.receivedAtMs <= nowMs)
        .reverse()
        .map((e) => e.report);
      const perf = nodePerformance(before, after, finished);
      if (!perf) continue;
      items.push({
        type: "performance",
        policyId: state.spec.policyId,
        version: state.spec.version,
        rolloutId: state.spec.rolloutId,
        nodeId: node.nodeId,
        ...perf,
      });
    }
    return items;
  }

  /**
   * Sends the step's commands; returns the events for assignments that could not go out (the
   * node has no socket: it is offline as far as this rollout is concerned).
   */
  private carryOut(
    rolloutId: string,
    t: Transition,
    nowMs: number,
    template: AssignmentTemplate = this.store.get(rolloutId)!.template,
  ): RolloutEvent[] {
    const followUps: RolloutEvent[] = [];
    for (const action of t.actions) {
      if (action.type === "assign") {
        const assignment: Assignment = {
          assignmentId: action.assignmentId,
          rolloutId,
          payload: template.payload,
          artifact: template.artifact,
          guards: template.guards,
          signature: template.signature,
          keyId: template.keyId,
        };
        const sent = this.host.sendText(
          action.nodeId,
          JSON.stringify({
            type: "command",
            commandId: action.commandId,
            deadlineAtMs: action.deadlineAtMs,
            body: { op: "assign", assignment },
          }),
        );
        if (!sent) followUps.push({ type: "node-offline", atMs: nowMs, nodeId: action.nodeId });
      } else if (action.type === "revert") {
        // Unsent, the revert's deadline marks it unconfirmed; the node reverts what it runs
        // when it comes back (node-online).
        this.host.sendText(
          action.nodeId,
          JSON.stringify({
            type: "command",
            commandId: action.commandId,
            deadlineAtMs: action.deadlineAtMs,
            body: {
              op: "revert",
              assignmentId: action.assignmentId,
              reason: action.reason.slice(0, 1_024),
            },
          }),
        );
      }
    }
    return followUps;
  }
}

/**
 * Whether a command id or assignment id was minted by this rollout (see rollout-step.ts and
 * rollout-start.ts).
 */
export function belongsTo(rolloutId: string, id: string): boolean {
  const body = rolloutId.slice("rol_".length);
  return id.startsWith(`cmd_${body}-`) || id.startsWith(`asg_${body}-`);
}

async function writeItem(
  db: Db,
  tenantId: string,
  item: Exclude<OutboxItem, { type: "record" }>,
): Promise<void> {
  const nowMs = Date.now();
  switch (item.type) {
    case "node-failure":
      // Only failures the policy is to blame for count toward the breaker; the rest are in
      // the history already.
      if (!item.counted) return;
      await recordPolicyFailure(db, {
        tenantId,
        policyId: item.policyId,
        version: item.version,
        nodeId: item.nodeId,
        rolloutId: item.rolloutId,
        reason: `${item.reason}: ${item.detail}`.slice(0, 2_000),
        atMs: nowMs,
      });
      return;
    case "quarantine":
      await quarantineVersion(db, {
        tenantId,
        policyId: item.policyId,
        version: item.version,
        failedNodes: item.failedNodes,
        reason: item.reason,
        atMs: nowMs,
      });
      return;
    case "performance":
      await recordPerformance(
        db,
        {
          tenantId,
          policyId: item.policyId,
          version: item.version,
          targetKind: "node",
          target: item.nodeId,
          workloadClass: item.workloadClass,
          metricsBefore: item.metricsBefore,
          metricsAfter: item.metricsAfter,
          outcome: item.outcome,
          rolloutId: item.rolloutId,
        },
        nowMs,
      );
      return;
  }
}
