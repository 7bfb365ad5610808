/**
 * Verification jobs in the Fleet object's SQLite: which verifier node runs which policy
 * version, until when, and the object it uploaded. The object is the authority on a job while
 * it runs — it accepts the upload only from the job's node, takes the result only for a running
 * job, and times the job out at its deadline (the alarm, with the command deadlines) — and the
 * policy repository in D1 gets the outcome (src/schedcp/verification.ts).
 */

export type VerifyJobState = "running" | "passed" | "rejected" | "timed_out" | "refused";

export interface VerifyJobRow {
  jobId: string;
  nodeId: string;
  policyId: string;
  version: number;
  state: VerifyJobState;
  reason: string | null;
  uploadSha256: string | null;
  uploadSizeBytes: number | null;
  createdAtMs: number;
  deadlineAtMs: number;
  settledAtMs: number | null;
}

type Raw = {
  job_id: string;
  node_id: string;
  policy_id: string;
  version: number;
  state: VerifyJobState;
  reason: string | null;
  upload_sha256: string | null;
  upload_size_bytes: number | null;
  created_at_ms: number;
  deadline_at_ms: number;
  settled_at_ms: number | null;
};

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS verify_jobs (
    job_id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    upload_sha256 TEXT,
    upload_size_bytes INTEGER,
    created_at_ms INTEGER NOT NULL,
    deadline_at_ms INTEGER NOT NULL,
    settled_at_ms INTEGER
  );
  CREATE INDEX IF NOT EXISTS verify_jobs_running ON verify_jobs (state, deadline_at_ms);
`;

/** Settled jobs kept for reading back (the newest; older ones are pruned). */
export const VERIFY_JOBS_RETAINED = 1_000;

function fromRaw(r: Raw): VerifyJobRow {
  return {
    jobId: r.job_id,
    nodeId: r.node_id,
    policyId: r.policy_id,
    version: r.version,
    state: r.state,
    reason: r.reason,
    uploadSha256: r.upload_sha256,
    uploadSizeBytes: r.upload_size_bytes,
    createdAtMs: r.created_at_ms,
    deadlineAtMs: r.deadline_at_ms,
    settledAtMs: r.settled_at_ms,
  };
}

/** Typed access to the verify_jobs table. */
export class VerifyJobStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  insert(
    job: Omit<
      VerifyJobRow,
      "state" | "reason" | "uploadSha256" | "uploadSizeBytes" | "settledAtMs"
    >,
  ): void {
    this.sql.exec(
      `INSERT INTO verify_jobs (job_id, node_id, policy_id, version, state, created_at_ms, deadline_at_ms)
       VALUES (?, ?, ?, ?, 'running', ?, ?)`,
      job.jobId,
      job.nodeId,
      job.policyId,
      job.version,
      job.createdAtMs,
      job.deadlineAtMs,
    );
  }

  /** Forgets a job no node took. */
  remove(jobId: string): void {
    this.sql.exec("DELETE FROM verify_jobs WHERE job_id = ? AND upload_sha256 IS NULL", jobId);
  }

  get(jobId: string): VerifyJobRow | null {
    const row = this.sql
      .exec<Raw>("SELECT * FROM verify_jobs WHERE job_id = ?", jobId)
      .toArray()[0];
    return row ? fromRaw(row) : null;
  }

  /** The running jobs of a node (a verifier runs one at a time). */
  runningOn(nodeId: string): VerifyJobRow[] {
    return this.sql
      .exec<Raw>("SELECT * FROM verify_jobs WHERE node_id = ? AND state = 'running'", nodeId)
      .toArray()
      .map(fromRaw);
  }

  /** Records the uploaded object of a running job of this node; false otherwise. */
  setUpload(jobId: string, nodeId: string, sha256: string, sizeBytes: number): boolean {
    return (
      this.sql.exec(
        `UPDATE verify_jobs SET upload_sha256 = ?, upload_size_bytes = ?
         WHERE job_id = ? AND node_id = ? AND state = 'running'`,
        sha256,
        sizeBytes,
        jobId,
        nodeId,
      ).rowsWritten > 0
    );
  }

  /** Settles a running job; false when it was not running (settled once, never twice). */
  settle(
    jobId: string,
    state: Exclude<VerifyJobState, "running">,
    reason: string | null,
    nowMs: number,
  ): boolean {
    const written =
      this.sql.exec(
        `UPDATE verify_jobs SET state = ?, reason = ?, settled_at_ms = ?
         WHERE job_id = ? AND state = 'running'`,
        state,
        reason,
        nowMs,
        jobId,
      ).rowsWritten > 0;
    if (written) {
      this.sql.exec(
        `DELETE FROM verify_jobs WHERE state != 'running' AND job_id IN (
           SELECT job_id FROM verify_jobs ORDER BY created_at_ms DESC LIMIT -1 OFFSET ?)`,
        VERIFY_JOBS_RETAINED,
      );
    }
    return written;
  }

  /** Running jobs past their deadline. */
  overdue(nowMs: number): VerifyJobRow[] {
    return this.sql
      .exec<Raw>("SELECT * FROM verify_jobs WHERE state = 'running' AND deadline_at_ms <= ?", nowMs)
      .toArray()
      .map(fromRaw);
  }

  nextDeadline(): number | null {
    return (
      this.sql
        .exec<{ at: number | null }>(
          "SELECT MIN(deadline_at_ms) AS at FROM verify_jobs WHERE state = 'running'",
        )
        .toArray()[0]?.at ?? null
    );
  }
}
