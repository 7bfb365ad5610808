/**
 * Long-term memory in D1: write, full-text search (FTS5, ranked by bm25), list and delete, all
 * scoped to one tenant (and, but for the operator's view, one agent type). The FTS index is
 * kept in sync by triggers (migrations/0009_memory_fts.sql), so this file writes `memories` only.
 */

import { and, count, desc, eq, sql } from "drizzle-orm";
import { newUuidV7Hex } from "../kernel/ids.js";
import type { Db } from "./db.js";
import { memories } from "./schema.js";

export type MemoryRow = typeof memories.$inferSelect;
export type MemorySource = MemoryRow["source"];

/** `mem_` + a UUIDv7: sorts by creation time, like every other id. */
export const MEMORY_ID_PATTERN = /^mem_[0-9a-f]{32}$/;

/** A new memory id. */
export function newMemoryId(nowMs: number = Date.now()): string {
  return `mem_${newUuidV7Hex(nowMs)}`;
}

export interface NewMemory {
  tenantId: string;
  agentType: string;
  processId: string | null;
  step: number | null;
  source: MemorySource;
  content: string;
  tags: string[];
  dedupeKey: string | null;
}

export type WriteOutcome =
  | { ok: true; row: MemoryRow; created: boolean }
  | { ok: false; code: "quota_exceeded"; limit: number };

/** Memories one (tenant, agent type) holds. */
export async function countMemories(db: Db, tenantId: string, agentType: string): Promise<number> {
  const rows = await db
    .select({ n: count() })
    .from(memories)
    .where(and(eq(memories.tenantId, tenantId), eq(memories.agentType, agentType)));
  return rows[0]?.n ?? 0;
}

/**
 * Writes a memory, unless its dedupe key was written before (then the first one is returned)
 * or the (tenant, agent type) holds `maxPerType` already. The count is checked before the
 * insert, so two racing writes may overshoot by one each: a soft cap, bounded by concurrency.
 */
export async function writeMemory(
  db: Db,
  m: NewMemory,
  maxPerType: number,
  nowMs: number,
): Promise<WriteOutcome> {
  if (m.dedupeKey !== null) {
    const existing = await findByDedupeKey(db, m.tenantId, m.dedupeKey);
    if (existing) return { ok: true, row: existing, created: false };
  }
  if ((await countMemories(db, m.tenantId, m.agentType)) >= maxPerType) {
    return { ok: false, code: "quota_exceeded", limit: maxPerType };
  }
  const inserted = await db
    .insert(memories)
    .values({
      id: newMemoryId(nowMs),
      tenantId: m.tenantId,
      agentType: m.agentType,
      processId: m.processId,
      step: m.step,
      source: m.source,
      content: m.content,
      tags: m.tags.join(" "),
      dedupeKey: m.dedupeKey,
      createdAtMs: nowMs,
    })
    .onConflictDoNothing()
    .returning();
  const row = inserted[0];
  if (row) return { ok: true, row, created: true };
  // Lost a race with the same dedupe key: the winner's row is the memory.
  const winner = m.dedupeKey ? await findByDedupeKey(db, m.tenantId, m.dedupeKey) : null;
  if (!winner) throw new Error("memory insert wrote nothing and no row holds its dedupe key");
  return { ok: true, row: winner, created: false };
}

async function findByDedupeKey(
  db: Db,
  tenantId: string,
  dedupeKey: string,
): Promise<MemoryRow | null> {
  const rows = await db
    .select()
    .from(memories)
    .where(and(eq(memories.tenantId, tenantId), eq(memories.dedupeKey, dedupeKey)))
    .limit(1);
  return rows[0] ?? null;
}

export interface MemoryHit {
  row: MemoryRow;
  /** bm25 of the match, negated: higher is better. */
  score: number;
  /** The matching part of the content, terms marked with `[` `]`. */
  snippet: string;
}

export interface MemorySearch {
  tenantId: string;
  /** Undefined only for the operator's tenant-wide view. */
  agentType?: string | undefined;
  /** A sanitised FTS5 expression (see src/kernel/memory/fts-query.ts), never raw user text. */
  ftsQuery: string;
  tag?: string | undefined;
  limit: number;
}

type HitRow = {
  seq: number;
  id: string;
  tenant_id: string;
  agent_type: string;
  process_id: string | null;
  step: number | null;
  source: MemorySource;
  content: string;
  tags: string;
  dedupe_key: string | null;
  created_at_ms: number;
  rank: number;
  snippet: string;
};

/**
 * The best matches of `q.ftsQuery` in the tenant's memories, best (lowest bm25) first; ties go
 * to the newer memory.
 */
export async function searchMemories(db: Db, q: MemorySearch): Promise<MemoryHit[]> {
  const byType = q.agentType === undefined ? sql`` : sql` AND m.agent_type = ${q.agentType}`;
  const byTag =
    q.tag === undefined ? sql`` : sql` AND instr(' ' || m.tags || ' ', ${` ${q.tag} `}) > 0`;
  const rows = await db.all<HitRow>(sql`
    SELECT m.seq, m.id, m.tenant_id, m.agent_type, m.process_id, m.step, m.source, m.content,
           m.tags, m.dedupe_key, m.created_at_ms,
           bm25(memories_fts) AS rank,
           snippet(memories_fts, 0, '[', ']', '…', 24) AS snippet
    FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid
    WHERE memories_fts MATCH ${q.ftsQuery} AND m.tenant_id = ${q.tenantId}${byType}${byTag}
    ORDER BY rank, m.seq DESC
    LIMIT ${q.limit}`);
  return rows.map((r) => ({
    row: {
      seq: r.seq,
      id: r.id,
      tenantId: r.tenant_id,
      agentType: r.agent_type,
      processId: r.process_id,
      step: r.step,
      source: r.source,
      content: r.content,
      tags: r.tags,
      dedupeKey: r.dedupe_key,
      createdAtMs: r.created_at_ms,
    },
    score: -r.rank,
    snippet: r.snippet,
  }));
}

/** The newest memories of a tenant (optionally of one agent type), for listing without a query. */
export async function listMemories(
  db: Db,
  q: { tenantId: string; agentType?: string | undefined; limit: number },
): Promise<MemoryRow[]> {
  const where = [eq(memories.tenantId, q.tenantId)];
  if (q.agentType !== undefined) where.push(eq(memories.agentType, q.agentType));
  return db
    .select()
    .from(memories)
    .where(and(...where))
    .orderBy(desc(memories.seq))
    .limit(q.limit);
}

/** Deletes one memory of (tenant, agent type); false when there is no such memory there. */
export async function deleteMemory(
  db: Db,
  tenantId: string,
  agentType: string,
  memoryId: string,
): Promise<boolean> {
  const deleted = await db
    .delete(memories)
    .where(
      and(
        eq(memories.id, memoryId),
        eq(memories.tenantId, tenantId),
        eq(memories.agentType, agentType),
      ),
    )
    .returning({ id: memories.id });
  return deleted.length > 0;
}
