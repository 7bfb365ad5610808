/**
 * The commands the Fleet object sent, in flight and settled, in its SQLite: a command stays
 * `sent` until its node acks it or its deadline passes, and settled ones are kept for a bounded
 * time and count so `commandResults` can still answer for them.
 */

import { FLEET_OBJECT_LIMITS } from "../schedcp/fleet/limits.js";
import type { CommandResult, CommandStatus } from "./fleet-types.js";

export type CommandRow = {
  command_id: string;
  batch_id: string;
  node_id: string;
  op: string;
  status: CommandStatus;
  error_json: string | null;
  created_at_ms: number;
  deadline_at_ms: number;
  settled_at_ms: number | null;
};

/** Typed access to the commands table (the schema is created by FleetStore). */
export class CommandStore {
  constructor(private readonly sql: SqlStorage) {}

  insert(row: CommandRow): void {
    this.sql.exec(
      "INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      row.command_id,
      row.batch_id,
      row.node_id,
      row.op,
      row.status,
      row.error_json,
      row.created_at_ms,
      row.deadline_at_ms,
      row.settled_at_ms,
    );
  }

  /** The batch of this node's command while it waits for its ack; null otherwise. */
  openBatchOf(commandId: string, nodeId: string): string | null {
    return (
      this.sql
        .exec<{ batch_id: string }>(
          "SELECT batch_id FROM commands WHERE command_id = ? AND node_id = ? AND status = 'sent'",
          commandId,
          nodeId,
        )
        .toArray()[0]?.batch_id ?? null
    );
  }

  /**
   * Settles a `sent` command of this node with an ack; false when there is no such open
   * command (unknown, another node's, already acked or timed out).
   */
  settleWithAck(
    commandId: string,
    nodeId: string,
    ok: boolean,
    error: { code: string; message: string } | null,
    nowMs: number,
  ): { batchId: string } | null {
    const row = this.sql
      .exec<{ batch_id: string }>(
        `UPDATE commands SET status = ?, error_json = ?, settled_at_ms = ?
         WHERE command_id = ? AND node_id = ? AND status = 'sent' RETURNING batch_id`,
        ok ? "acked" : "failed",
        error === null ? null : JSON.stringify(error),
        nowMs,
        commandId,
        nodeId,
      )
      .toArray()[0];
    return row ? { batchId: row.batch_id } : null;
  }

  /** Times out every `sent` command past its deadline; returns their batch ids. */
  timeOutDue(nowMs: number): string[] {
    return this.sql
      .exec<{ batch_id: string }>(
        `UPDATE commands SET status = 'timed_out', settled_at_ms = deadline_at_ms,
           error_json = '{"code":"timed_out","message":"no ack before the deadline"}'
         WHERE status = 'sent' AND deadline_at_ms <= ? RETURNING batch_id`,
        nowMs,
      )
      .toArray()
      .map((r) => r.batch_id);
  }

  nextDeadline(): number | null {
    return (
      this.sql
        .exec<{ at: number | null }>(
          "SELECT MIN(deadline_at_ms) AS at FROM commands WHERE status = 'sent'",
        )
        .toArray()[0]?.at ?? null
    );
  }

  batchResults(batchId: string): CommandResult[] {
    return this.sql
      .exec<CommandRow>("SELECT * FROM commands WHERE batch_id = ? ORDER BY node_id", batchId)
      .toArray()
      .map(commandResult);
  }

  /** The results of the named commands, in the order asked, skipping ids it does not hold. */
  results(commandIds: readonly string[]): CommandResult[] {
    const out: CommandResult[] = [];
    for (const id of commandIds) {
      const row = this.sql
        .exec<CommandRow>("SELECT * FROM commands WHERE command_id = ?", id)
        .toArray()[0];
      if (row) out.push(commandResult(row));
    }
    return out;
  }

  /** Drops settled commands past their retention, and the oldest beyond the count limit. */
  prune(nowMs: number): void {
    this.sql.exec(
      "DELETE FROM commands WHERE status != 'sent' AND created_at_ms < ?",
      nowMs - FLEET_OBJECT_LIMITS.commandRetentionMs,
    );
    this.sql.exec(
      `DELETE FROM commands WHERE status != 'sent' AND command_id IN (
         SELECT command_id FROM commands ORDER BY created_at_ms DESC LIMIT -1 OFFSET ?)`,
      FLEET_OBJECT_LIMITS.commandsRetained,
    );
  }
}

function commandResult(row: CommandRow): CommandResult {
  const answered = row.status === "acked" || row.status === "failed";
  return {
    commandId: row.command_id,
    batchId: row.batch_id,
    nodeId: row.node_id,
    op: row.op as CommandResult["op"],
    status: row.status,
    error: row.error_json === null ? null : JSON.parse(row.error_json),
    createdAtMs: row.created_at_ms,
    deadlineAtMs: row.deadline_at_ms,
    settledAtMs: row.settled_at_ms,
    latencyMs:
      answered && row.settled_at_ms !== null ? row.settled_at_ms - row.created_at_ms : null,
  };
}
