/**
 * Rollouts in the Fleet object's SQLite: each rollout's state machine state (src/schedcp/
 * rollout.ts), the signed assignment it deploys, which nodes take part while it is live, and an
 * outbox of what must reach D1 (history, failures, quarantines, performance, audit rows).
 *
 * Why here and not in an object of its own: the Fleet object already receives everything the
 * machine steps on — acks, deploy transitions, telemetry, nodes coming and going — and owns the
 * sockets commands go out on, and its alarm already keeps the command deadlines. A Rollout
 * object would need every one of those frames forwarded to it (an RPC per telemetry report) and
 * would send its commands back through this object anyway; here a frame and the step it causes
 * run in one turn of one single-threaded object, so they cannot interleave.
 *
 * Each step's new state and its D1-bound actions are written in one transaction; commands go
 * out after it commits. If the object dies in between, the commands' deadlines pass and the
 * machine treats them as unanswered; the outbox is drained after every step and retried by the
 * alarm until D1 has taken it.
 */

import type { Artifact, AssignmentPayload, Guard } from "../schedcp/protocol/index.js";
import type { NodePerformance } from "../schedcp/rollout-outcome.js";
import type { RolloutAction, RolloutState } from "../schedcp/rollout-types.js";

/** What every node of a rollout is sent: the signed payload and what to load. */
export interface AssignmentTemplate {
  payload: AssignmentPayload;
  artifact: Artifact;
  guards: Guard[];
  signature: string;
  keyId: string;
}

/** How the operator named the target (for the record; the machine has the resolved ids). */
export interface RolloutTarget {
  nodeIds: string[];
  labels: Record<string, string> | null;
}

export interface RolloutRow {
  rolloutId: string;
  state: RolloutState;
  template: AssignmentTemplate;
  target: RolloutTarget;
  createdBy: string;
  createdAtMs: number;
  active: boolean;
}

/** A D1-bound action of a step, as the outbox keeps it. */
export type OutboxItem =
  | Extract<RolloutAction, { type: "record" | "quarantine" }>
  | (Extract<RolloutAction, { type: "node-failure" }> & { rolloutId: string })
  | ({
      type: "performance";
      policyId: string;
      version: number;
      rolloutId: string;
      nodeId: string;
    } & NodePerformance);

type Raw = {
  rollout_id: string;
  state_json: string;
  template_json: string;
  target_json: string;
  created_by: string;
  created_at_ms: number;
  active: number;
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS rollouts (
    rollout_id TEXT PRIMARY KEY,
    state_json TEXT NOT NULL,
    template_json TEXT NOT NULL,
    target_json TEXT NOT NULL,
    phase TEXT NOT NULL,
    active INTEGER NOT NULL,
    timer_at_ms INTEGER,
    created_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS rollouts_timer ON rollouts (active, timer_at_ms);
  CREATE TABLE IF NOT EXISTS rollout_nodes (
    node_id TEXT NOT NULL,
    rollout_id TEXT NOT NULL,
    PRIMARY KEY (node_id, rollout_id)
  );
  CREATE TABLE IF NOT EXISTS rollout_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    item_json TEXT NOT NULL
  );
`;

/** Finished rollouts kept for reading back; older ones are pruned (D1 keeps their history). */
export const ROLLOUTS_RETAINED = 1_000;

function fromRaw(r: Raw): RolloutRow {
  return {
    rolloutId: r.rollout_id,
    state: JSON.parse(r.state_json) as RolloutState,
    template: JSON.parse(r.template_json) as AssignmentTemplate,
    target: JSON.parse(r.target_json) as RolloutTarget,
    createdBy: r.created_by,
    createdAtMs: r.created_at_ms,
    active: r.active === 1,
  };
}

/** Whether the machine still steps on events in this phase. */
export function isLive(state: RolloutState): boolean {
  return state.phase !== "completed" && state.phase !== "rolled_back";
}

export class RolloutStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  insert(row: Omit<RolloutRow, "active">): void {
    this.sql.exec(
      `INSERT INTO rollouts (rollout_id, state_json, template_json, target_json, phase, active,
         timer_at_ms, created_by, created_at_ms) VALUES (?, ?, ?, ?, ?, 0, NULL, ?, ?)`,
      row.rolloutId,
      JSON.stringify(row.state),
      JSON.stringify(row.template),
      JSON.stringify(row.target),
      row.state.phase,
      row.createdBy,
      row.createdAtMs,
    );
    this.save(row.rolloutId, row.state);
  }

  /** Writes a step's state; keeps the live node index and the timer in step with it. */
  save(rolloutId: string, state: RolloutState): void {
    const live = isLive(state);
    const was = this.sql
      .exec<{ active: number }>("SELECT active FROM rollouts WHERE rollout_id = ?", rolloutId)
      .toArray()[0];
    this.sql.exec(
      "UPDATE rollouts SET state_json = ?, phase = ?, active = ?, timer_at_ms = ? WHERE rollout_id = ?",
      JSON.stringify(state),
      state.phase,
      live ? 1 : 0,
      live ? state.timerAtMs : null,
      rolloutId,
    );
    if (live && was?.active !== 1) {
      for (const node of state.nodes) {
        this.sql.exec("INSERT OR IGNORE INTO rollout_nodes VALUES (?, ?)", node.nodeId, rolloutId);
      }
    } else if (!live && was?.active === 1) {
      this.sql.exec("DELETE FROM rollout_nodes WHERE rollout_id = ?", rolloutId);
      this.prune();
    }
  }

  get(rolloutId: string): RolloutRow | null {
    const row = this.sql
      .exec<Raw>("SELECT * FROM rollouts WHERE rollout_id = ?", rolloutId)
      .toArray()[0];
    return row ? fromRaw(row) : null;
  }

  /** Newest first, before `beforeId` (ids sort by creation time). */
  list(limit: number, beforeId: string | null, phase: string | null): RolloutRow[] {
    return this.sql
      .exec<Raw>(
        `SELECT * FROM rollouts WHERE rollout_id < ? AND (? IS NULL OR phase = ?)
         ORDER BY rollout_id DESC LIMIT ?`,
        beforeId ?? "~",
        phase,
        phase,
        limit,
      )
      .toArray()
      .map(fromRaw);
  }

  /** The live rollouts a node takes part in. */
  liveFor(nodeId: string): string[] {
    return this.sql
      .exec<{ rollout_id: string }>(
        "SELECT rollout_id FROM rollout_nodes WHERE node_id = ?",
        nodeId,
      )
      .toArray()
      .map((r) => r.rollout_id);
  }

  /** Live rollouts whose timer is due. */
  due(nowMs: number): string[] {
    return this.sql
      .exec<{ rollout_id: string }>(
        "SELECT rollout_id FROM rollouts WHERE active = 1 AND timer_at_ms IS NOT NULL AND timer_at_ms <= ?",
        nowMs,
      )
      .toArray()
      .map((r) => r.rollout_id);
  }

  nextTimer(): number | null {
    return (
      this.sql
        .exec<{ at: number | null }>("SELECT MIN(timer_at_ms) AS at FROM rollouts WHERE active = 1")
        .toArray()[0]?.at ?? null
    );
  }

  // -------------------------------------------------------------------------------------------
  // Outbox

  enqueue(tenantId: string, item: OutboxItem): void {
    this.sql.exec(
      "INSERT INTO rollout_outbox (tenant_id, item_json) VALUES (?, ?)",
      tenantId,
      JSON.stringify(item),
    );
  }

  /** The oldest items, in order. */
  peek(limit: number): Array<{ seq: number; tenantId: string; item: OutboxItem }> {
    return this.sql
      .exec<{ seq: number; tenant_id: string; item_json: string }>(
        "SELECT seq, tenant_id, item_json FROM rollout_outbox ORDER BY seq LIMIT ?",
        limit,
      )
      .toArray()
      .map((r) => ({ seq: r.seq, tenantId: r.tenant_id, item: JSON.parse(r.item_json) }));
  }

  ack(upToSeq: number): void {
    this.sql.exec("DELETE FROM rollout_outbox WHERE seq <= ?", upToSeq);
  }

  outboxSize(): number {
    return (
      this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM rollout_outbox").toArray()[0]?.n ?? 0
    );
  }

  private prune(): void {
    this.sql.exec(
      `DELETE FROM rollouts WHERE active = 0 AND rollout_id IN (
         SELECT rollout_id FROM rollouts ORDER BY rollout_id DESC LIMIT -1 OFFSET ?)`,
      ROLLOUTS_RETAINED,
    );
  }
}
