/**
 * The blackboard and artifact system calls as plain functions `(env, db, caller, input)`: each
 * passes the one call gate (`gateSyscall`: a tenant key as itself, an agent key as its process),
 * then reads or writes D1 and R2. The HTTPS routes and the MCP tools are thin adapters over
 * these, so the two surfaces allow and refuse exactly the same things.
 */

import type { z } from "zod";
import { READ_ROLES, WRITE_ROLES } from "../api/authorize.js";
import { cursorKey, INVALID_CURSOR, pageOf } from "../api/pagination.js";
import { ApiError, fieldError } from "../api/problem.js";
import type {
  ArtifactSchema,
  BlackboardEntrySchema,
  BlackboardKeySummarySchema,
  BlackboardVersionSchema,
} from "../api/schemas-board.js";
import type { Env } from "../env.js";
import { ArtifactLabelsSchema, BOARD_LIMITS } from "../kernel/agent/tools/board.js";
import { sha256Hex } from "../kernel/hash.js";
import { isId, newId } from "../kernel/ids.js";
import {
  type ArtifactMeta,
  type ArtifactRetention,
  artifactBlobKey,
  deleteArtifacts,
  findArtifact,
  listArtifacts,
  putArtifact,
} from "../store/artifacts.js";
import {
  type BlackboardEntry,
  type CurrentState,
  deleteBlackboardEntry,
  getBlackboardEntry,
  listBlackboardEntries,
  listBlackboardVersions,
  putBlackboardEntry,
} from "../store/blackboard.js";
import { encodeCursor } from "../store/cursor.js";
import type { Db } from "../store/db.js";
import { processStub } from "./agent-process.js";
import { type Acting, gateSyscall } from "./call-gate.js";
import type { Caller, Page } from "./process-calls.js";

export type BlackboardEntryView = z.infer<typeof BlackboardEntrySchema>;
export type BlackboardKeySummary = z.infer<typeof BlackboardKeySummarySchema>;
export type BlackboardVersionView = z.infer<typeof BlackboardVersionSchema>;
export type ArtifactView = z.infer<typeof ArtifactSchema>;

async function gate(
  env: Env,
  db: Db,
  caller: Caller,
  capability: string,
  write: boolean,
): Promise<Acting> {
  const roles = write ? WRITE_ROLES : READ_ROLES;
  const principal = caller?.kind === "key" ? caller : undefined;
  return gateSyscall(env, db, caller, capability, roles, {
    type: "Tenant",
    id: principal?.tenantId ?? "",
  });
}

// ---------------------------------------------------------------------------------------------
// blackboard

export function entryView(e: BlackboardEntry): BlackboardEntryView {
  return {
    key: e.key,
    version: e.version,
    value: e.value,
    sizeBytes: e.sizeBytes,
    updatedBy: e.updatedBy,
    updatedAt: new Date(e.updatedAtMs).toISOString(),
  };
}

/** The 409 a stale compare-and-set gets: the current version and value in the body. */
export function versionConflict(key: string, expected: number, current: CurrentState): ApiError {
  const detail =
    current === null
      ? `${key} does not exist (expected version ${expected})`
      : expected === 0
        ? `${key} already exists at version ${current.version}`
        : `${key} is at version ${current.version}, not ${expected}`;
  return new ApiError("version_conflict", detail, {
    extra: {
      key,
      expectedVersion: expected,
      currentVersion: current?.version ?? 0,
      currentValue: current?.value ?? null,
    },
  });
}

/**
 * Serialises a blackboard value and checks its size: 422 when absent or not JSON, 413 above
 * the limit.
 */
export function blackboardValueJson(value: unknown): string {
  if (value === undefined) throw fieldError("value", "required", "required");
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) throw fieldError("value", "must be a JSON value", "invalid_type");
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > BOARD_LIMITS.blackboardValueBytes) {
    throw new ApiError(
      "payload_too_large",
      `value is ${bytes} bytes as JSON; the blackboard takes at most ${BOARD_LIMITS.blackboardValueBytes}`,
      { extra: { limitBytes: BOARD_LIMITS.blackboardValueBytes, sizeBytes: bytes } },
    );
  }
  return text;
}

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
  const acting = await gate(env, db, caller, "bb.read", false);
  const entry = await getBlackboardEntry(db, acting.tenantId, input.key);
  if (!entry) throw new ApiError("not_found", `no blackboard key ${input.key}`);
  return entryView(entry);
}

/**
 * Writes a blackboard key; with `ifVersion`, only over that version (0: only a new key). A
 * stale write is 409 `version_conflict` with the current version and value.
 *
 * @example await putBlackboardAs(env, db, principal, { key: "plan", value: { step: 1 }, ifVersion: 0 })
 */
export async function putBlackboardAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { key: string; value: unknown; ifVersion?: number | undefined },
): Promise<{ entry: BlackboardEntryView; created: boolean }> {
  const acting = await gate(env, db, caller, "bb.write", true);
  const valueJson = blackboardValueJson(input.value);
  const outcome = await putBlackboardEntry(db, {
    tenantId: acting.tenantId,
    key: input.key,
    valueJson,
    ifVersion: input.ifVersion,
    actor: acting.actor,
  });
  if (!outcome.ok) throw versionConflict(input.key, input.ifVersion ?? 0, outcome.current);
  return { entry: entryView(outcome.entry), created: outcome.created };
}

/**
 * Deletes a blackboard key (its history stays); with `ifVersion`, only that version.
 *
 * @example await deleteBlackboardAs(env, db, principal, { key: "plan", ifVersion: 4 })
 */
export async function deleteBlackboardAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { key: string; ifVersion?: number | undefined },
): Promise<{ key: string; deleted: true; version: number }> {
  const acting = await gate(env, db, caller, "bb.write", true);
  const outcome = await deleteBlackboardEntry(db, {
    tenantId: acting.tenantId,
    key: input.key,
    ifVersion: input.ifVersion,
    actor: acting.actor,
  });
  if (outcome.ok) return { key: input.key, deleted: true, version: outcome.version };
  if (outcome.code === "not_found")
    throw new ApiError("not_found", `no blackboard key ${input.key}`);
  throw versionConflict(input.key, input.ifVersion ?? 0, outcome.current);
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
  const acting = await gate(env, db, caller, "bb.read", false);
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
  const acting = await gate(env, db, caller, "bb.read", false);
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

export function artifactView(a: ArtifactMeta): ArtifactView {
  return {
    id: a.id,
    name: a.name,
    contentType: a.contentType,
    sizeBytes: a.sizeBytes,
    sha256: a.sha256,
    labels: a.labels,
    retention: a.retention,
    processId: a.processId,
    createdBy: a.createdBy,
    createdAt: new Date(a.createdAtMs).toISOString(),
    contentUrl: `/v1/artifacts/${a.id}/content`,
  };
}

/** Label query parameters (`key=value`, repeated) as a validated map; 422 naming the one at fault. */
export function parseLabelParams(raw: string | string[] | undefined): Record<string, string> {
  const params = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const labels: Record<string, string> = {};
  params.forEach((param, i) => {
    const path = params.length > 1 ? `label[${i}]` : "label";
    const eq = param.indexOf("=");
    if (eq <= 0) throw fieldError(path, "expected key=value", "invalid_format");
    labels[param.slice(0, eq)] = param.slice(eq + 1);
  });
  const checked = ArtifactLabelsSchema.safeParse(labels);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw fieldError("label", issue?.message ?? "invalid labels", "invalid_format");
  }
  return labels;
}

/** The payload-too-large error of an artifact over the limit. */
export function artifactTooLarge(limitBytes: number, sizeBytes?: number): ApiError {
  return new ApiError(
    "payload_too_large",
    `the artifact exceeds ${limitBytes} bytes${sizeBytes === undefined ? "" : ` (${sizeBytes})`}`,
    { extra: { limitBytes, ...(sizeBytes === undefined ? {} : { sizeBytes }) } },
  );
}

export interface ArtifactCreateInput {
  name: string;
  /** The producing process; an agent key's own process when it is the caller. */
  processId?: string | undefined;
  contentType: string;
  retention: ArtifactRetention;
  labels: Record<string, string>;
  bytes: Uint8Array;
}

/**
 * Stores an artifact: the bytes in R2, then its metadata in D1 (all or nothing). An agent key
 * produces it as its own process; a tenant key may name one of its processes, or none.
 *
 * @example await createArtifactAs(env, db, principal, { name: "report.md", contentType: "text/markdown", retention: "keep", labels: {}, bytes })
 */
export async function createArtifactAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: ArtifactCreateInput,
): Promise<ArtifactView> {
  const acting = await gate(env, db, caller, "artifact.write", true);
  if (input.bytes.byteLength > BOARD_LIMITS.artifactBytes) {
    throw artifactTooLarge(BOARD_LIMITS.artifactBytes, input.bytes.byteLength);
  }
  let processId: string | null = input.processId ?? null;
  if (acting.as === "process") {
    if (processId !== null && processId !== acting.processId) {
      throw new ApiError("forbidden", "an agent key stores artifacts of its own process only", {
        errors: [
          { path: "processId", message: "must be the agent key's process", code: "forbidden" },
        ],
      });
    }
    processId = acting.processId;
  } else if (processId !== null) {
    const record = isId("process", processId)
      ? await processStub(env, processId).get(acting.tenantId)
      : null;
    if (!record) {
      throw fieldError("processId", `no process ${processId} in this tenant`, "not_found");
    }
  }
  if (input.retention === "with_process" && processId === null) {
    throw fieldError("retention", "with_process needs a producing process", "invalid");
  }
  const nowMs = Date.now();
  const meta = await putArtifact(env.BLOBS, db, {
    id: newId("artifact", nowMs),
    tenantId: acting.tenantId,
    processId,
    name: input.name,
    contentType: input.contentType,
    retention: input.retention,
    createdBy: acting.actor,
    createdAtMs: nowMs,
    bytes: input.bytes,
    sha256: await sha256Hex(input.bytes),
    labels: input.labels,
  });
  return artifactView(meta);
}

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
  const acting = await gate(env, db, caller, "artifact.read", false);
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

async function artifactOf(db: Db, acting: Acting, id: string): Promise<ArtifactMeta> {
  const meta = isId("artifact", id) ? await findArtifact(db, acting.tenantId, id) : null;
  if (!meta) throw new ApiError("not_found", `no artifact ${id}`);
  return meta;
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
  const acting = await gate(env, db, caller, "artifact.read", false);
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
  const acting = await gate(env, db, caller, "artifact.read", false);
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
  const acting = await gate(env, db, caller, "artifact.read", false);
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

/**
 * Deletes an artifact (metadata, then bytes). An agent key deletes only what its process made.
 *
 * @example await deleteArtifactAs(env, db, principal, { id: "art_…" })
 */
export async function deleteArtifactAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string },
): Promise<{ id: string; deleted: true }> {
  const acting = await gate(env, db, caller, "artifact.write", true);
  const meta = await artifactOf(db, acting, input.id);
  if (acting.as === "process" && meta.processId !== acting.processId) {
    throw new ApiError("forbidden", "an agent key deletes only its own process's artifacts");
  }
  await deleteArtifacts(env.BLOBS, db, acting.tenantId, [meta.id]);
  return { id: meta.id, deleted: true };
}
