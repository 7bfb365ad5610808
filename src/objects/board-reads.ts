/**
 * The blackboard and artifact system calls that read, as plain functions
 * `(env, db, caller, input)`: each passes the one call gate (`gateSyscall`: a tenant key as
 * itself, an agent key as its process), then reads D1 and R2. The HTTPS routes and the MCP
 * tools are thin adapters over these, so the two surfaces allow and refuse exactly the same
 * things.
 *
 * Holds a blackboard key, the key list and a key's history; the artifact list, one artifact's
 * metadata and its bytes (a stream, whole or one `Range`, or inline). The writes are in
 * board-writes.ts, the views and the gate in board-views.ts.
 */

import { cursorKey, INVALID_CURSOR, pageOf } from "../api/pagination.js";
import { ApiError, fieldError } from "../api/problem.js";
import type { Env } from "../env.js";
import { BOARD_LIMITS } from "../kernel/agent/tools/board.js";
import { type ArtifactMeta, artifactBlobKey, listArtifacts } from "../store/artifacts.js";
import {
  getBlackboardEntry,
  listBlackboardEntries,
  listBlackboardVersions,
} from "../store/blackboard.js";
import { encodeCursor } from "../store/cursor.js";
import type { Db } from "../store/db.js";
import {
  type ArtifactView,
  artifactOf,
  artifactView,
  type BlackboardEntryView,
  type BlackboardKeySummary,
  type BlackboardVersionView,
  entryView,
  gateBoardCall,
} from "./board-views.js";
import type { Caller, Page } from "./process-calls.js";

// ---------------------------------------------------------------------------------------------
// blackboard

/**
 * A blackboard key's value and version; 404 when it does not exist.
 *
 * @example await getBlackboardAs(env, db, principal, { key: "plan" })
 */
export async function getBlackboardAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { key: string },
): Promise<BlackboardEntryView> {
  const acting = await gateBoardCall(env, db, caller, "bb.read", false);
  const entry = await getBlackboardEntry(db, acting.tenantId, input.key);
  if (!entry) throw new ApiError("not_found", `no blackboard key ${input.key}`);
  return entryView(entry);
}

/**
 * One page of live keys starting with `prefix`, in key order (values not included).
 *
 * @example await listBlackboardAs(env, db, principal, { prefix: "plan:", limit: 20 })
 */
export async function listBlackboardAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { prefix?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<BlackboardKeySummary>> {
  const acting = await gateBoardCall(env, db, caller, "bb.read", false);
  const afterKey = cursorKey(input.cursor);
  const rows = await listBlackboardEntries(db, {
    tenantId: acting.tenantId,
    prefix: input.prefix ?? "",
    afterKey,
    limit: input.limit,
  });
  const { page, nextCursor } = pageOf(rows, input.limit, (r) => r.key);
  return {
    items: page.map((r) => ({
      key: r.key,
      version: r.version,
      sizeBytes: r.sizeBytes,
      updatedBy: r.updatedBy,
      updatedAt: new Date(r.updatedAtMs).toISOString(),
    })),
    nextCursor,
  };
}

/**
 * One page of a key's kept history, newest first (the last versions, deletes included).
 *
 * @example await listBlackboardVersionsAs(env, db, principal, { key: "plan", limit: 20 })
 */
export async function listBlackboardVersionsAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { key: string; limit: number; cursor?: string | undefined },
): Promise<Page<BlackboardVersionView>> {
  const acting = await gateBoardCall(env, db, caller, "bb.read", false);
  const before = cursorKey(input.cursor);
  if (before !== undefined && !/^\d{1,15}$/.test(before)) {
    throw fieldError("cursor", INVALID_CURSOR, "invalid_cursor");
  }
  const rows = await listBlackboardVersions(db, {
    tenantId: acting.tenantId,
    key: input.key,
    beforeVersion: before === undefined ? undefined : Number(before),
    limit: input.limit,
  });
  if (rows === null) throw new ApiError("not_found", `no blackboard key ${input.key}`);
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      key: r.key,
      version: r.version,
      op: r.op,
      value: r.value,
      writtenBy: r.writtenBy,
      writtenAt: new Date(r.writtenAtMs).toISOString(),
    })),
    nextCursor: rows.length > input.limit && last ? encodeCursor(String(last.version)) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// artifacts

export interface ArtifactListInput {
  processId?: string | undefined;
  type?: string | undefined;
  labels: Record<string, string>;
  limit: number;
  cursor?: string | undefined;
}

/**
 * One page of the tenant's artifacts, newest first.
 *
 * @example await listArtifactsAs(env, db, principal, { type: "text/*", labels: {}, limit: 20 })
 */
export async function listArtifactsAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: ArtifactListInput,
): Promise<Page<ArtifactView>> {
  const acting = await gateBoardCall(env, db, caller, "artifact.read", false);
  const beforeId = cursorKey(input.cursor);
  const rows = await listArtifacts(db, {
    tenantId: acting.tenantId,
    processId: input.processId,
    contentType: input.type,
    labels: Object.entries(input.labels).map(([key, value]) => ({ key, value })),
    beforeId,
    limit: input.limit,
  });
  const { page, nextCursor } = pageOf(rows, input.limit, (r) => r.id);
  return { items: page.map(artifactView), nextCursor };
}

/**
 * One artifact's metadata; another tenant's id answers 404 like a missing one.
 *
 * @example await getArtifactAs(env, db, principal, { id: "art_…" })
 */
export async function getArtifactAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string },
): Promise<ArtifactView> {
  const acting = await gateBoardCall(env, db, caller, "artifact.read", false);
  return artifactView(await artifactOf(db, acting, input.id));
}

/** A byte range of an artifact: offset and length, both in bytes. */
export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * Parses a `Range` header against a size: a single `bytes=` range, or null to send the whole
 * (no header, another unit, or several ranges: RFC 9110 lets a server ignore those), or
 * "unsatisfiable" (416).
 *
 * @example parseRange("bytes=0-99", 1000) // { offset: 0, length: 100 }
 */
export function parseRange(
  header: string | undefined,
  sizeBytes: number,
): ByteRange | "unsatisfiable" | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const [, first, last] = m;
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || sizeBytes === 0) return "unsatisfiable";
    const length = Math.min(suffix, sizeBytes);
    return { offset: sizeBytes - length, length };
  }
  const start = Number(first);
  if (start >= sizeBytes) return "unsatisfiable";
  const end = last === "" ? sizeBytes - 1 : Math.min(Number(last), sizeBytes - 1);
  if (end < start) return null; // syntactically invalid: ignored, as RFC 9110 says
  return { offset: start, length: end - start + 1 };
}

export interface ArtifactContent {
  meta: ArtifactMeta;
  /** The range served, or null for the whole artifact. */
  range: ByteRange | null;
  body: ReadableStream;
}

/**
 * Opens an artifact's bytes, whole or one range; 416 `range_not_satisfiable` for a
 * range past the end.
 *
 * @example const { meta, range, body } = await openArtifactContentAs(env, db, principal, { id, range: "bytes=0-99" })
 */
export async function openArtifactContentAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; range?: string | undefined },
): Promise<ArtifactContent> {
  const acting = await gateBoardCall(env, db, caller, "artifact.read", false);
  const meta = await artifactOf(db, acting, input.id);
  const range = parseRange(input.range, meta.sizeBytes);
  if (range === "unsatisfiable") throw new RangeNotSatisfiable(meta.sizeBytes);
  const object = await env.BLOBS.get(
    artifactBlobKey(acting.tenantId, meta.id),
    range ? { range } : {},
  );
  if (!object) {
    console.error("artifact blob missing", meta.id);
    throw new ApiError("unavailable", `the bytes of ${meta.id} are not available right now`);
  }
  return { meta, range, body: object.body };
}

/** A `Range` past the end of the artifact: the route answers 416 with `Content-Range`. */
export class RangeNotSatisfiable extends ApiError {
  constructor(readonly sizeBytes: number) {
    super("range_not_satisfiable", `the range is outside the artifact's ${sizeBytes} bytes`, {
      extra: { sizeBytes },
    });
  }
}

/**
 * An artifact's bytes (or a slice) in memory, for MCP and the agent loop: at most
 * `BOARD_LIMITS.artifactInlineBytes`; larger reads are refused with 413 naming the limit.
 *
 * @example await readArtifactAs(env, db, principal, { id, offset: 0, length: 4096 })
 */
export async function readArtifactAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; offset?: number | undefined; length?: number | undefined },
): Promise<{ meta: ArtifactView; offset: number; bytes: Uint8Array }> {
  const acting = await gateBoardCall(env, db, caller, "artifact.read", false);
  const meta = await artifactOf(db, acting, input.id);
  const offset = input.offset ?? 0;
  if (offset > meta.sizeBytes) throw fieldError("offset", `past the end (${meta.sizeBytes} bytes)`);
  const length = Math.min(input.length ?? meta.sizeBytes - offset, meta.sizeBytes - offset);
  if (length > BOARD_LIMITS.artifactInlineBytes) {
    throw new ApiError(
      "payload_too_large",
      `reading ${length} bytes inline exceeds ${BOARD_LIMITS.artifactInlineBytes}; pass offset and length, or download ${artifactView(meta).contentUrl}`,
      { extra: { limitBytes: BOARD_LIMITS.artifactInlineBytes, sizeBytes: meta.sizeBytes } },
    );
  }
  let bytes = new Uint8Array(0);
  if (length > 0) {
    const object = await env.BLOBS.get(artifactBlobKey(acting.tenantId, meta.id), {
      range: { offset, length },
    });
    if (!object) throw new ApiError("unavailable", `the bytes of ${meta.id} are not available`);
    bytes = new Uint8Array(await object.arrayBuffer());
  }
  return { meta: artifactView(meta), offset, bytes };
}
