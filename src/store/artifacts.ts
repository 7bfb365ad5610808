/**
 * Artifacts: a tenant's final outputs (reports, code, datasets). The bytes live in R2 at
 * `art/{tenantId}/{artifactId}`, the metadata in D1. A write is all or nothing: the blob first,
 * then the metadata rows in one batch, and the blob is removed again when that batch fails, so
 * no row ever names a missing blob and no stored blob lacks a row for long.
 */

import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "./db.js";
import { artifactLabels, artifacts } from "./schema.js";

/** Ids per D1 delete statement (D1 binds at most 100 parameters). */
const DELETE_CHUNK = 50;

export type ArtifactRetention = "keep" | "with_process";
export const ARTIFACT_RETENTIONS = ["keep", "with_process"] as const;

export type ArtifactRow = typeof artifacts.$inferSelect;

/** Metadata of one artifact, with its labels. */
export interface ArtifactMeta extends ArtifactRow {
  labels: Record<string, string>;
}

/** The R2 key of an artifact's bytes (fixed convention: `art/{tenantId}/{artifactId}`). */
export function artifactBlobKey(tenantId: string, artifactId: string): string {
  return `art/${tenantId}/${artifactId}`;
}

/**
 * Stores the bytes and then the metadata; on a metadata failure the blob is deleted and the
 * error rethrown.
 *
 * @example await putArtifact(env.BLOBS, db, { id, tenantId, …, bytes })
 */
export async function putArtifact(
  blobs: R2Bucket,
  db: Db,
  a: Omit<ArtifactRow, "sizeBytes" | "sha256"> & {
    bytes: Uint8Array;
    sha256: string;
    labels: Record<string, string>;
  },
): Promise<ArtifactMeta> {
  const blobKey = artifactBlobKey(a.tenantId, a.id);
  await blobs.put(blobKey, a.bytes, {
    httpMetadata: { contentType: a.contentType },
    sha256: a.sha256,
  });
  const row: ArtifactRow = {
    id: a.id,
    tenantId: a.tenantId,
    processId: a.processId,
    name: a.name,
    contentType: a.contentType,
    sizeBytes: a.bytes.byteLength,
    sha256: a.sha256,
    retention: a.retention,
    createdBy: a.createdBy,
    createdAtMs: a.createdAtMs,
  };
  const labelRows = Object.entries(a.labels).map(([key, value]) => ({
    artifactId: a.id,
    tenantId: a.tenantId,
    key,
    value,
  }));
  try {
    const insert = db.insert(artifacts).values(row);
    if (labelRows.length === 0) await insert;
    else await db.batch([insert, db.insert(artifactLabels).values(labelRows)]);
  } catch (error) {
    await blobs.delete(blobKey).catch((cleanup) => {
      console.error("orphaned artifact blob after a failed metadata write", blobKey, cleanup);
    });
    throw error;
  }
  return { ...row, labels: { ...a.labels } };
}

/** One artifact's metadata if it belongs to `tenantId`. */
export async function findArtifact(
  db: Db,
  tenantId: string,
  id: string,
): Promise<ArtifactMeta | null> {
  const rows = await db
    .select()
    .from(artifacts)
    .where(and(eq(artifacts.tenantId, tenantId), eq(artifacts.id, id)))
    .limit(1);
  const row = rows[0];
  if (!row) return null;
  const labels = await artifactLabelsOf(db, [row.id]);
  return { ...row, labels: labels.get(row.id) ?? {} };
}

export interface ArtifactListQuery {
  tenantId: string;
  processId?: string | undefined;
  /** An exact content type, or `major/*` for every subtype. */
  contentType?: string | undefined;
  /** Every label must match. */
  labels: Array<{ key: string; value: string }>;
  beforeId?: string | undefined;
  limit: number;
}

/** One page of a tenant's artifacts, newest first; `limit + 1` rows (see `pageOf`). */
export async function listArtifacts(db: Db, q: ArtifactListQuery): Promise<ArtifactMeta[]> {
  const where = [eq(artifacts.tenantId, q.tenantId)];
  if (q.processId) where.push(eq(artifacts.processId, q.processId));
  if (q.contentType?.endsWith("/*")) {
    const major = q.contentType.slice(0, -1).replace(/[%_\\]/g, (c) => `\\${c}`);
    where.push(sql`${artifacts.contentType} LIKE ${`${major}%`} ESCAPE '\\'`);
  } else if (q.contentType) where.push(eq(artifacts.contentType, q.contentType));
  if (q.beforeId) where.push(lt(artifacts.id, q.beforeId));
  for (const { key, value } of q.labels) {
    const matching = db
      .select({ id: artifactLabels.artifactId })
      .from(artifactLabels)
      .where(
        and(
          eq(artifactLabels.tenantId, q.tenantId),
          eq(artifactLabels.key, key),
          eq(artifactLabels.value, value),
        ),
      );
    where.push(inArray(artifacts.id, matching));
  }
  const rows = await db
    .select()
    .from(artifacts)
    .where(and(...where))
    .orderBy(desc(artifacts.id))
    .limit(q.limit + 1);
  // The extra row only tells whether another page follows (`pageOf` drops it): no labels.
  const labels = await artifactLabelsOf(
    db,
    rows.slice(0, q.limit).map((r) => r.id),
  );
  return rows.map((r) => ({ ...r, labels: labels.get(r.id) ?? {} }));
}

/** Labels of the given artifacts, by artifact id. */
async function artifactLabelsOf(
  db: Db,
  ids: string[],
): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  if (ids.length === 0) return out;
  const rows = await db
    .select()
    .from(artifactLabels)
    .where(inArray(artifactLabels.artifactId, ids));
  for (const row of rows) {
    const labels = out.get(row.artifactId) ?? {};
    labels[row.key] = row.value;
    out.set(row.artifactId, labels);
  }
  return out;
}

/**
 * Deletes artifacts' metadata, then their blobs (a blob left behind by a failure is harmless:
 * nothing names it). Returns how many rows were removed.
 *
 * @example await deleteArtifacts(env.BLOBS, db, tenantId, ["art_…"])
 */
export async function deleteArtifacts(
  blobs: R2Bucket,
  db: Db,
  tenantId: string,
  ids: string[],
): Promise<number> {
  let removedCount = 0;
  // D1 binds at most 100 parameters per statement: delete in chunks.
  for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
    const chunk = ids.slice(i, i + DELETE_CHUNK);
    const [, removed] = await db.batch([
      db
        .delete(artifactLabels)
        .where(
          and(eq(artifactLabels.tenantId, tenantId), inArray(artifactLabels.artifactId, chunk)),
        ),
      db
        .delete(artifacts)
        .where(and(eq(artifacts.tenantId, tenantId), inArray(artifacts.id, chunk)))
        .returning({ id: artifacts.id }),
    ]);
    await blobs.delete(chunk.map((id) => artifactBlobKey(tenantId, id)));
    removedCount += removed.length;
  }
  return removedCount;
}

/** Ids of a process's artifacts whose retention ties them to it. */
export async function artifactsDyingWith(
  db: Db,
  tenantId: string,
  processId: string,
): Promise<string[]> {
  const rows = await db
    .select({ id: artifacts.id })
    .from(artifacts)
    .where(
      and(
        eq(artifacts.tenantId, tenantId),
        eq(artifacts.processId, processId),
        eq(artifacts.retention, "with_process"),
      ),
    );
  return rows.map((r) => r.id);
}
