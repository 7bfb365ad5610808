/**
 * The blackboard and artifact system calls that write, as plain functions
 * `(env, db, caller, input)`: each passes the one call gate (`gateSyscall`: a tenant key as
 * itself, an agent key as its process), then writes D1 and R2. The HTTPS routes and the MCP
 * tools are thin adapters over these, so the two surfaces allow and refuse exactly the same
 * things.
 *
 * Holds writing and deleting a blackboard key (compare-and-set, with the 409 a stale write
 * gets), and storing and deleting an artifact (with the size refusal the upload route shares).
 * The reads are in board-reads.ts, the views and the gate in board-views.ts.
 */

import { ApiError, fieldError } from "../api/problem.js";
import type { Env } from "../env.js";
import { BOARD_LIMITS } from "../kernel/agent/tools/board.js";
import { sha256Hex } from "../kernel/hash.js";
import { isId, newId } from "../kernel/ids.js";
import { type ArtifactRetention, deleteArtifacts, putArtifact } from "../store/artifacts.js";
import {
  type CurrentState,
  deleteBlackboardEntry,
  putBlackboardEntry,
} from "../store/blackboard.js";
import type { Db } from "../store/db.js";
import { processStub } from "./agent-process.js";
import {
  type ArtifactView,
  artifactOf,
  artifactView,
  type BlackboardEntryView,
  entryView,
  gateBoardCall,
} from "./board-views.js";
import type { Caller } from "./process-calls.js";

// ---------------------------------------------------------------------------------------------
// blackboard

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
  const acting = await gateBoardCall(env, db, caller, "bb.write", true);
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
  const acting = await gateBoardCall(env, db, caller, "bb.write", true);
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

// ---------------------------------------------------------------------------------------------
// artifacts

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
  const acting = await gateBoardCall(env, db, caller, "artifact.write", true);
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
  const acting = await gateBoardCall(env, db, caller, "artifact.write", true);
  const meta = await artifactOf(db, acting, input.id);
  if (acting.as === "process" && meta.processId !== acting.processId) {
    throw new ApiError("forbidden", "an agent key deletes only its own process's artifacts");
  }
  await deleteArtifacts(env.BLOBS, db, acting.tenantId, [meta.id]);
  return { id: meta.id, deleted: true };
}
