/**
 * Purging an ended process, as a caller asks for it: the artifacts whose retention ties them to
 * the process, its workspace blobs in R2, its workspace usage, its object's storage and its D1
 * index rows. `keep` artifacts stay. Every step is idempotent, and the object is wiped late, so
 * a purge cut short by a failure can simply be repeated: while the index row remains, a process
 * whose object is already empty still counts as this tenant's and the purge finishes.
 */

import { and, eq } from "drizzle-orm";
import { requireProcessAccess, WRITE_ROLES } from "../api/authorize.js";
import { ApiError } from "../api/problem.js";
import type { Env } from "../env.js";
import { isId } from "../kernel/ids.js";
import { isTerminal } from "../kernel/process/state.js";
import { artifactsDyingWith, deleteArtifacts } from "../store/artifacts.js";
import type { Db } from "../store/db.js";
import { findIndexedProcess } from "../store/process-index.js";
import { artifacts, processIndex, processLabels } from "../store/schema.js";
import { releaseProcessUsage } from "../store/workspace-usage.js";
import { processStub } from "./agent-process.js";
import { gateSyscall } from "./call-gate.js";
import type { Caller } from "./process-calls.js";

/** R2 deletes take at most 1,000 keys per call. */
const R2_DELETE_BATCH = 1000;

export interface PurgeOutcome {
  id: string;
  purged: true;
  artifactsDeleted: number;
  artifactsKept: number;
  workspaceBlobsDeleted: number;
}

/** The R2 prefix of a process's large workspace values (fixed: `ws/{tenantId}/{processId}/`). */
export function workspaceBlobPrefix(tenantId: string, processId: string): string {
  return `ws/${tenantId}/${processId}/`;
}

/** Deletes every blob under `prefix`; returns how many. */
async function deletePrefix(blobs: R2Bucket, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const listing = await blobs.list({ prefix, cursor, limit: R2_DELETE_BATCH });
    const keys = listing.objects.map((o) => o.key);
    if (keys.length > 0) await blobs.delete(keys);
    deleted += keys.length;
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
  return deleted;
}

/**
 * Purges ended process `id` (operator or admin; a live one is 409 `illegal_transition`, a
 * missing or foreign one 404). Afterwards the process answers 404 everywhere.
 *
 * @example await purgeProcessAs(env, db, principal, { id: "proc_…" })
 */
export async function purgeProcessAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string },
): Promise<PurgeOutcome> {
  requireProcessAccess(caller, input.id, WRITE_ROLES);
  if (!isId("process", input.id)) throw new ApiError("not_found", `no process ${input.id}`);
  const acting = await gateSyscall(env, db, caller, "proc.purge", WRITE_ROLES, {
    type: "Process",
    id: input.id,
  });
  const tenantId = acting.tenantId;
  const stub = processStub(env, input.id);
  const record = await stub.get(tenantId);
  if (record && !isTerminal(record.status)) {
    throw new ApiError(
      "illegal_transition",
      `process ${input.id} is ${record.status}: terminate it before purging it`,
      { extra: { state: record.status } },
    );
  }
  if (!record && !(await findIndexedProcess(db, tenantId, input.id))) {
    throw new ApiError("not_found", `no process ${input.id}`);
  }

  const dying = await artifactsDyingWith(db, tenantId, input.id);
  const artifactsDeleted = await deleteArtifacts(env.BLOBS, db, tenantId, dying);
  const kept = await db
    .select({ id: artifacts.id })
    .from(artifacts)
    .where(and(eq(artifacts.tenantId, tenantId), eq(artifacts.processId, input.id)));
  const workspaceBlobsDeleted = await deletePrefix(
    env.BLOBS,
    workspaceBlobPrefix(tenantId, input.id),
  );
  await releaseProcessUsage(db, tenantId, input.id);

  if (record) {
    const wiped = await stub.purge(tenantId);
    if (!wiped.ok && wiped.code === "illegal_transition") {
      // Cannot happen for an ended process (nothing revives one), but never wipe a live one.
      throw new ApiError("illegal_transition", `process ${input.id} is ${wiped.state}`, {
        extra: { state: wiped.state },
      });
    }
  }
  await db.batch([
    db
      .delete(processLabels)
      .where(and(eq(processLabels.tenantId, tenantId), eq(processLabels.processId, input.id))),
    db
      .delete(processIndex)
      .where(and(eq(processIndex.tenantId, tenantId), eq(processIndex.id, input.id))),
  ]);
  return {
    id: input.id,
    purged: true,
    artifactsDeleted,
    artifactsKept: kept.length,
    workspaceBlobsDeleted,
  };
}
