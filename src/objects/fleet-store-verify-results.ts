/**
 * The verification results nodes sent back, kept in the Fleet object's SQLite by job id (the
 * newest ones, up to a count limit) so a caller that did not wait can read them later.
 */

import { FLEET_OBJECT_LIMITS } from "../schedcp/fleet/limits.js";
import type { VerifyResultEntry } from "./fleet-types.js";

/** Typed access to the verify_results table (the schema is created by FleetStore). */
export class VerifyResultStore {
  constructor(private readonly sql: SqlStorage) {}

  put(jobId: string, nodeId: string, nowMs: number, resultJson: string): void {
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

  get(jobId: string): VerifyResultEntry | null {
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
