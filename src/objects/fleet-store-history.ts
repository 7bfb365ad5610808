/**
 * Each node's telemetry and deploy history in the Fleet object's SQLite, bounded per node and
 * read newest first in pages. The sequence numbers come from counters on the node's row, so a
 * node's history keeps counting up across reconnects and pruning.
 */

import { FLEET_OBJECT_LIMITS } from "../schedcp/fleet/limits.js";
import type { DeployEventEntry, SeqPage, TelemetryEntry } from "./fleet-types.js";

/** Typed access to the telemetry and deploy_events tables (the schema is created by FleetStore). */
export class NodeHistoryStore {
  constructor(private readonly sql: SqlStorage) {}

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
