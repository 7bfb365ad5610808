/**
 * The SQLite tables of one process's workspace, inside its Durable Object: each entry's
 * metadata (and its bytes when small), and the shares the process has granted. Synchronous,
 * so a caller groups writes in `storage.transactionSync`.
 */

import type { WorkspaceUsage } from "../kernel/workspace/limits.js";

/** Files hold bytes; keys hold JSON. Two namespaces: a key and a file may share a name. */
export type WorkspaceKind = "file" | "kv";

/** Where an entry's bytes are. */
export type StoredIn = "object" | "r2";

/** One entry's metadata, as callers see it. */
export interface EntryMeta {
  kind: WorkspaceKind;
  path: string;
  sizeBytes: number;
  /** Hex SHA-256 of the bytes: the R2 object name and the HTTP ETag. */
  sha256: string;
  contentType: string;
  storedIn: StoredIn;
  /** 1 on creation, +1 on every overwrite. */
  version: number;
  updatedAt: string;
}

export type ShareMode = "read" | "write";

export interface ShareGrant {
  /** A path, or a prefix ending in `/`. */
  path: string;
  recipient: string;
  mode: ShareMode;
  grantedBy: string;
  grantedAt: string;
}

type EntryRow = {
  kind: string;
  path: string;
  size_bytes: number;
  sha256: string;
  content_type: string;
  stored_in: string;
  version: number;
  updated_at_ms: number;
};

type ShareRow = {
  path: string;
  recipient: string;
  mode: string;
  granted_by: string;
  granted_at_ms: number;
};

const ENTRY_COLUMNS =
  "kind, path, size_bytes, sha256, content_type, stored_in, version, updated_at_ms";

function metaOf(row: EntryRow): EntryMeta {
  return {
    kind: row.kind as WorkspaceKind,
    path: row.path,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    contentType: row.content_type,
    storedIn: row.stored_in as StoredIn,
    version: row.version,
    updatedAt: new Date(row.updated_at_ms).toISOString(),
  };
}

function shareOf(row: ShareRow): ShareGrant {
  return {
    path: row.path,
    recipient: row.recipient,
    mode: row.mode as ShareMode,
    grantedBy: row.granted_by,
    grantedAt: new Date(row.granted_at_ms).toISOString(),
  };
}

/** Typed access to one process's workspace tables. */
export class WorkspaceStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS ws_entries (
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        content_type TEXT NOT NULL,
        stored_in TEXT NOT NULL,
        inline_bytes BLOB,
        version INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (kind, path)
      );
      CREATE INDEX IF NOT EXISTS ws_entries_sha ON ws_entries (sha256);
      CREATE TABLE IF NOT EXISTS ws_shares (
        path TEXT NOT NULL,
        recipient TEXT NOT NULL,
        mode TEXT NOT NULL,
        granted_by TEXT NOT NULL,
        granted_at_ms INTEGER NOT NULL,
        PRIMARY KEY (path, recipient)
      );
      CREATE INDEX IF NOT EXISTS ws_shares_recipient ON ws_shares (recipient);
    `);
  }

  entry(kind: WorkspaceKind, path: string): EntryMeta | null {
    const row = this.sql
      .exec<EntryRow>(
        `SELECT ${ENTRY_COLUMNS} FROM ws_entries WHERE kind = ? AND path = ?`,
        kind,
        path,
      )
      .toArray()[0];
    return row ? metaOf(row) : null;
  }

  /** The bytes of a small entry kept in this object (null for one kept in R2). */
  inlineBytes(kind: WorkspaceKind, path: string): Uint8Array | null {
    const row = this.sql
      .exec<{ inline_bytes: ArrayBuffer | null }>(
        "SELECT inline_bytes FROM ws_entries WHERE kind = ? AND path = ?",
        kind,
        path,
      )
      .toArray()[0];
    return row?.inline_bytes ? new Uint8Array(row.inline_bytes) : null;
  }

  /** Writes an entry (creating it at version 1 or bumping its version). */
  upsert(meta: Omit<EntryMeta, "version" | "updatedAt">, inline: Uint8Array | null, nowMs: number) {
    const bytes = inline ? inline.slice().buffer : null;
    this.sql.exec(
      `INSERT INTO ws_entries (${ENTRY_COLUMNS}, inline_bytes) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT (kind, path) DO UPDATE SET size_bytes = excluded.size_bytes,
         sha256 = excluded.sha256, content_type = excluded.content_type,
         stored_in = excluded.stored_in, inline_bytes = excluded.inline_bytes,
         version = ws_entries.version + 1, updated_at_ms = excluded.updated_at_ms`,
      meta.kind,
      meta.path,
      meta.sizeBytes,
      meta.sha256,
      meta.contentType,
      meta.storedIn,
      nowMs,
      bytes,
    );
  }

  delete(kind: WorkspaceKind, path: string): void {
    this.sql.exec("DELETE FROM ws_entries WHERE kind = ? AND path = ?", kind, path);
  }

  /** True while some entry kept in R2 still has these bytes (blobs are shared by content). */
  blobReferenced(sha256: string): boolean {
    return (
      this.sql
        .exec("SELECT 1 FROM ws_entries WHERE sha256 = ? AND stored_in = 'r2' LIMIT 1", sha256)
        .toArray().length > 0
    );
  }

  /** Up to `limit` entries under `prefix` after path `after`, in path order. */
  list(kind: WorkspaceKind, prefix: string, after: string | null, limit: number): EntryMeta[] {
    return this.sql
      .exec<EntryRow>(
        `SELECT ${ENTRY_COLUMNS} FROM ws_entries
         WHERE kind = ? AND substr(path, 1, length(?)) = ? AND path > ?
         ORDER BY path LIMIT ?`,
        kind,
        prefix,
        prefix,
        after ?? "",
        limit,
      )
      .toArray()
      .map(metaOf);
  }

  usage(): WorkspaceUsage {
    const row = this.sql
      .exec<{ bytes: number; objects: number }>(
        "SELECT COALESCE(SUM(size_bytes), 0) AS bytes, COUNT(*) AS objects FROM ws_entries",
      )
      .toArray()[0];
    return { bytes: row?.bytes ?? 0, objects: row?.objects ?? 0 };
  }

  // -------------------------------------------------------------------------------------------
  // shares

  putShare(grant: Omit<ShareGrant, "grantedAt">, nowMs: number): void {
    this.sql.exec(
      `INSERT INTO ws_shares (path, recipient, mode, granted_by, granted_at_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (path, recipient) DO UPDATE SET mode = excluded.mode,
         granted_by = excluded.granted_by, granted_at_ms = excluded.granted_at_ms`,
      grant.path,
      grant.recipient,
      grant.mode,
      grant.grantedBy,
      nowMs,
    );
  }

  /** Removes the shares of `path` to `recipients` (all of its recipients for null); how many. */
  deleteShares(path: string, recipients: readonly string[] | null): number {
    if (recipients === null) {
      return this.sql.exec("DELETE FROM ws_shares WHERE path = ?", path).rowsWritten;
    }
    let n = 0;
    for (const r of recipients) {
      n += this.sql.exec(
        "DELETE FROM ws_shares WHERE path = ? AND recipient = ?",
        path,
        r,
      ).rowsWritten;
    }
    return n;
  }

  shares(): ShareGrant[] {
    return this.sql
      .exec<ShareRow>(
        "SELECT path, recipient, mode, granted_by, granted_at_ms FROM ws_shares ORDER BY path, recipient",
      )
      .toArray()
      .map(shareOf);
  }

  sharesTo(recipient: string): ShareGrant[] {
    return this.sql
      .exec<ShareRow>(
        "SELECT path, recipient, mode, granted_by, granted_at_ms FROM ws_shares WHERE recipient = ?",
        recipient,
      )
      .toArray()
      .map(shareOf);
  }

  shareCount(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM ws_shares").one().n;
  }
}
