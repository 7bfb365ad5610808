/**
 * The tables of the Fleet object's SQLite (fleet-store.ts). Objects already deployed hold their
 * data in exactly this layout, and each statement is `IF NOT EXISTS`, so running it whenever the
 * object wakes creates what is missing and leaves what is there alone. That also means an edit
 * here does not reach an existing table: changing one needs a migration of its own.
 */

export const FLEET_STORE_SCHEMA = `
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
