/**
 * The Fleet object's `nodes` table: one row per node it has seen, with the connection that
 * speaks for it now, what it said in its hello, and its per-node counters.
 */

import type { NodeRole, Running } from "./fleet-types.js";

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

/** Typed access to the nodes table (the schema is created by FleetStore). */
export class NodeStore {
  constructor(private readonly sql: SqlStorage) {}

  get(nodeId: string): NodeStateRow | null {
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

  list(where: "all" | "online"): NodeStateRow[] {
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
}
