/**
 * The Fleet object's own SQLite: the nodes it has seen, their telemetry and deploy history
 * (bounded per node), the commands in flight and settled, verification results, and the
 * credentials revoked. Synchronous, as Durable Object SQL is; the object decides when to call.
 */

import { FLEET_OBJECT_LIMITS } from "../schedcp/fleet/limits.js";
import type {
  CommandResult,
  CommandStatus,
  DeployEventEntry,
  NodeRole,
  Running,
  SeqPage,
  TelemetryEntry,
  VerifyResultEntry,
} from "./fleet-types.js";

export type NodeStateRow = {
  node_id: string;
  role: NodeRole;
  labels_json: string;
  token_labels_json: string;
  credential_id: string;
  /** The connection that speaks for the node now; frames and closes of older ones are ignored. */
  conn_id: string | null;
  status: "online" | "offline";
  connected_at_ms: number | null;
  last_seen_ms: number | null;
  /** When D1's last_seen_at_ms was last written. */
  d1_seen_ms: number | null;
  facts_json: string | null;
  agent_version: string | null;
  running_json: string | null;
  dry_run: number;
  telemetry_seq: number;
  event_seq: number;
  state_version: number;
};

type CommandRow = {
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

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS nodes (
    node_id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    labels_json TEXT NOT NULL,
    token_labels_json TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    conn_id TEXT,
    status TEXT NOT NULL,
    connected_at_ms INTEGER,
    last_seen_ms INTEGER,
    d1_seen_ms INTEGER,
    facts_json TEXT,
    agent_version TEXT,
    running_json TEXT,
    dry_run INTEGER NOT NULL DEFAULT 0,
    telemetry_seq INTEGER NOT NULL DEFAULT 0,
    event_seq INTEGER NOT NULL DEFAULT 0,
    state_version INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS nodes_status ON nodes (status);
  CREATE TABLE IF NOT EXISTS revoked (
    credential_id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS telemetry (
    node_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    report_json TEXT NOT NULL,
    PRIMARY KEY (node_id, seq)
  );
  CREATE TABLE IF NOT EXISTS deploy_events (
    node_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    status_json TEXT NOT NULL,
    PRIMARY KEY (node_id, seq)
  );
  CREATE TABLE IF NOT EXISTS commands (
    command_id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    op TEXT NOT NULL,
    status TEXT NOT NULL,
    error_json TEXT,
    created_at_ms INTEGER NOT NULL,
    deadline_at_ms INTEGER NOT NULL,
    settled_at_ms INTEGER
  );
  CREATE INDEX IF NOT EXISTS commands_open ON commands (status, deadline_at_ms);
  CREATE INDEX IF NOT EXISTS commands_batch ON commands (batch_id);
  CREATE INDEX IF NOT EXISTS commands_age ON commands (created_at_ms);
  CREATE TABLE IF NOT EXISTS verify_results (
    job_id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    result_json TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS verify_results_age ON verify_results (received_at_ms);
`;

/** Typed access to one Fleet object's tables. */
export class FleetStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  // -------------------------------------------------------------------------------------------
  // The tenant this object serves

  tenant(): string | null {
    return (
      this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'tenant'").toArray()[0]
        ?.value ?? null
    );
  }

  setTenant(tenantId: string): void {
    this.sql.exec("INSERT OR IGNORE INTO meta VALUES ('tenant', ?)", tenantId);
  }

  // -------------------------------------------------------------------------------------------
  // Nodes

  node(nodeId: string): NodeStateRow | null {
    return (
      this.sql.exec<NodeStateRow>("SELECT * FROM nodes WHERE node_id = ?", nodeId).toArray()[0] ??
      null
    );
  }

  /** Just what every frame needs: which connection speaks for the node. */
  connectionOf(
    nodeId: string,
  ): { conn_id: string | null; role: NodeRole; d1_seen_ms: number | null } | null {
    return (
      this.sql
        .exec<{ conn_id: string | null; role: NodeRole; d1_seen_ms: number | null }>(
          "SELECT conn_id, role, d1_seen_ms FROM nodes WHERE node_id = ?",
          nodeId,
        )
        .toArray()[0] ?? null
    );
  }

  /** Every node's routing fields (no facts), for resolving targets. */
  routing(): Array<{
    node_id: string;
    role: NodeRole;
    labels_json: string;
    conn_id: string | null;
    status: "online" | "offline";
  }> {
    return this.sql
      .exec<{
        node_id: string;
        role: NodeRole;
        labels_json: string;
        conn_id: string | null;
        status: "online" | "offline";
      }>("SELECT node_id, role, labels_json, conn_id, status FROM nodes ORDER BY node_id")
      .toArray();
  }

  onlineCount(): number {
    return (
      this.sql
        .exec<{ n: number }>("SELECT COUNT(*) AS n FROM nodes WHERE status = 'online'")
        .toArray()[0]?.n ?? 0
    );
  }

  nodes(where: "all" | "online"): NodeStateRow[] {
    return this.sql
      .exec<NodeStateRow>(
        where === "online"
          ? "SELECT * FROM nodes WHERE status = 'online' ORDER BY node_id"
          : "SELECT * FROM nodes ORDER BY node_id",
      )
      .toArray();
  }

  /** A new connection speaks for the node from now on; its status waits for the hello. */
  claimConnection(
    identity: {
      nodeId: string;
      role: NodeRole;
      labels: Record<string, string>;
      tokenLabels: Record<string, string>;
      credentialId: string;
    },
    connId: string,
  ): void {
    this.sql.exec(
      `INSERT INTO nodes (node_id, role, labels_json, token_labels_json, credential_id, conn_id, status)
       VALUES (?, ?, ?, ?, ?, ?, 'offline')
       ON CONFLICT (node_id) DO UPDATE SET role = excluded.role, labels_json = excluded.labels_json,
         token_labels_json = excluded.token_labels_json, credential_id = excluded.credential_id,
         conn_id = excluded.conn_id`,
      identity.nodeId,
      identity.role,
      JSON.stringify(identity.labels),
      JSON.stringify(identity.tokenLabels),
      identity.credentialId,
      connId,
    );
  }

  markHello(
    nodeId: string,
    fields: {
      labels: Record<string, string>;
      factsJson: string;
      agentVersion: string;
      running: Running;
      dryRun: boolean;
      nowMs: number;
    },
  ): void {
    this.sql.exec(
      `UPDATE nodes SET status = 'online', labels_json = ?, facts_json = ?, agent_version = ?,
         running_json = ?, dry_run = ?, connected_at_ms = ?, last_seen_ms = ?
       WHERE node_id = ?`,
      JSON.stringify(fields.labels),
      fields.factsJson,
      fields.agentVersion,
      fields.running === null ? null : JSON.stringify(fields.running),
      fields.dryRun ? 1 : 0,
      fields.nowMs,
      fields.nowMs,
      nodeId,
    );
  }

  touch(nodeId: string, nowMs: number): void {
    this.sql.exec("UPDATE nodes SET last_seen_ms = ? WHERE node_id = ?", nowMs, nodeId);
  }

  setD1Seen(nodeId: string, nowMs: number): void {
    this.sql.exec("UPDATE nodes SET d1_seen_ms = ? WHERE node_id = ?", nowMs, nodeId);
  }

  /** Marks the node offline if `connId` still speaks for it; true when it did. */
  markOffline(nodeId: string, connId: string | null): boolean {
    const cursor =
      connId === null
        ? this.sql.exec(
            "UPDATE nodes SET status = 'offline', conn_id = NULL WHERE node_id = ? AND status = 'online'",
            nodeId,
          )
        : this.sql.exec(
            "UPDATE nodes SET status = 'offline', conn_id = NULL WHERE node_id = ? AND conn_id = ?",
            nodeId,
            connId,
          );
    return cursor.rowsWritten > 0;
  }

  setRunning(nodeId: string, running: Running): void {
    this.sql.exec(
      "UPDATE nodes SET running_json = ? WHERE node_id = ?",
      running === null ? null : JSON.stringify(running),
      nodeId,
    );
  }

  /** The next version number for a D1 write of this node's state. */
  nextStateVersion(nodeId: string): number {
    return (
      this.sql
        .exec<{ state_version: number }>(
          "UPDATE nodes SET state_version = state_version + 1 WHERE node_id = ? RETURNING state_version",
          nodeId,
        )
        .toArray()[0]?.state_version ?? 0
    );
  }

  // -------------------------------------------------------------------------------------------
  // Revoked credentials

  isRevoked(credentialId: string): boolean {
    return (
      this.sql.exec("SELECT 1 FROM revoked WHERE credential_id = ?", credentialId).toArray()
        .length > 0
    );
  }

  revoke(credentialId: string, nodeId: string, nowMs: number): void {
    this.sql.exec("INSERT OR IGNORE INTO revoked VALUES (?, ?, ?)", credentialId, nodeId, nowMs);
  }

  // -------------------------------------------------------------------------------------------
  // Telemetry and deploy history

  addTelemetry(nodeId: string, atMs: number, receivedAtMs: number, reportJson: string): number {
    const seq = this.bump(nodeId, "telemetry_seq");
    this.sql.exec(
      "INSERT INTO telemetry VALUES (?, ?, ?, ?, ?)",
      nodeId,
      seq,
      atMs,
      receivedAtMs,
      reportJson,
    );
    this.sql.exec(
      "DELETE FROM telemetry WHERE node_id = ? AND seq <= ?",
      nodeId,
      seq - FLEET_OBJECT_LIMITS.telemetryHistoryPerNode,
    );
    return seq;
  }

  telemetryPage(nodeId: string, beforeSeq: number | null, limit: number): SeqPage<TelemetryEntry> {
    const rows = this.sql
      .exec<{ seq: number; at_ms: number; received_at_ms: number; report_json: string }>(
        `SELECT seq, at_ms, received_at_ms, report_json FROM telemetry
         WHERE node_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
        nodeId,
        beforeSeq ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      )
      .toArray();
    return seqPage(rows, limit, (r) => ({
      seq: r.seq,
      atMs: r.at_ms,
      receivedAtMs: r.received_at_ms,
      report: JSON.parse(r.report_json),
    }));
  }

  addDeployEvent(nodeId: string, receivedAtMs: number, statusJson: string): number {
    const seq = this.bump(nodeId, "event_seq");
    this.sql.exec(
      "INSERT INTO deploy_events VALUES (?, ?, ?, ?)",
      nodeId,
      seq,
      receivedAtMs,
      statusJson,
    );
    this.sql.exec(
      "DELETE FROM deploy_events WHERE node_id = ? AND seq <= ?",
      nodeId,
      seq - FLEET_OBJECT_LIMITS.deployEventsPerNode,
    );
    return seq;
  }

  deployEventPage(
    nodeId: string,
    beforeSeq: number | null,
    limit: number,
  ): SeqPage<DeployEventEntry> {
    const rows = this.sql
      .exec<{ seq: number; received_at_ms: number; status_json: string }>(
        `SELECT seq, received_at_ms, status_json FROM deploy_events
         WHERE node_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
        nodeId,
        beforeSeq ?? Number.MAX_SAFE_INTEGER,
        limit + 1,
      )
      .toArray();
    return seqPage(rows, limit, (r) => ({
      seq: r.seq,
      receivedAtMs: r.received_at_ms,
      status: JSON.parse(r.status_json),
    }));
  }

  private bump(nodeId: string, column: "telemetry_seq" | "event_seq"): number {
    return (
      this.sql
        .exec<{ seq: number }>(
          `UPDATE nodes SET ${column} = ${column} + 1 WHERE node_id = ? RETURNING ${column} AS seq`,
          nodeId,
        )
        .toArray()[0]?.seq ?? 0
    );
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  insertCommand(row: CommandRow): void {
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

  openCount(batchId: string): number {
    return (
      this.sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM commands WHERE batch_id = ? AND status = 'sent'",
          batchId,
        )
        .toArray()[0]?.n ?? 0
    );
  }

  batchResults(batchId: string): CommandResult[] {
    return this.sql
      .exec<CommandRow>("SELECT * FROM commands WHERE batch_id = ? ORDER BY node_id", batchId)
      .toArray()
      .map(commandResult);
  }

  commands(commandIds: readonly string[]): CommandResult[] {
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
  pruneCommands(nowMs: number): void {
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

  // -------------------------------------------------------------------------------------------
  // Verification results

  putVerifyResult(jobId: string, nodeId: string, nowMs: number, resultJson: string): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO verify_results VALUES (?, ?, ?, ?)",
      jobId,
      nodeId,
      nowMs,
      resultJson,
    );
    this.sql.exec(
      `DELETE FROM verify_results WHERE job_id IN (
         SELECT job_id FROM verify_results ORDER BY received_at_ms DESC LIMIT -1 OFFSET ?)`,
      FLEET_OBJECT_LIMITS.verifyResultsRetained,
    );
  }

  verifyResult(jobId: string): VerifyResultEntry | null {
    const row = this.sql
      .exec<{ node_id: string; received_at_ms: number; result_json: string }>(
        "SELECT node_id, received_at_ms, result_json FROM verify_results WHERE job_id = ?",
        jobId,
      )
      .toArray()[0];
    return row
      ? {
          nodeId: row.node_id,
          receivedAtMs: row.received_at_ms,
          result: JSON.parse(row.result_json),
        }
      : null;
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

function seqPage<R extends { seq: number }, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
): SeqPage<T> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(map),
    nextBeforeSeq: rows.length > limit && last ? last.seq : null,
  };
}
