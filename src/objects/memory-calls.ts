/**
 * Long-term memory as system calls. The caller-facing functions `(env, db, caller, input)` are
 * what both the HTTPS routes and the MCP tools call, so the two surfaces cannot drift; the
 * agent loop's tools and the process-end hook use `remember` and `recall` directly (the loop's
 * gate has already run by then).
 *
 * Memory belongs to a (tenant, agent type): a process reads and writes its own agent type's
 * memory (every version of the type shares it), and another tenant never sees a row of it.
 */

import {
  READ_ROLES,
  requireProcessAccess,
  requireTenantKey,
  WRITE_ROLES,
} from "../api/authorize.js";
import { ApiError, fieldError } from "../api/problem.js";
import type { Env } from "../env.js";
import { isId } from "../kernel/ids.js";
import { toFtsQuery } from "../kernel/memory/fts-query.js";
import { MAX_MEMORIES_PER_AGENT_TYPE } from "../kernel/memory/limits.js";
import type { ProcessRecord } from "../kernel/process/record.js";
import type { Db } from "../store/db.js";
import {
  deleteMemory,
  listMemories,
  MEMORY_ID_PATTERN,
  type MemoryHit,
  type MemoryRow,
  type MemorySource,
  type NewMemory,
  searchMemories,
  writeMemory,
} from "../store/memory.js";
import { processStub } from "./agent-process.js";
import { gateSyscall } from "./call-gate.js";
import type { Caller } from "./process-calls.js";

/** Where a memory came from: on every memory and every search result. */
export type MemoryProvenance = {
  memoryId: string;
  agentType: string;
  /** The process that wrote it (null when a tenant key wrote it through no process). */
  processId: string | null;
  /** The writing process's step, when its agent loop wrote it. */
  step: number | null;
  source: MemorySource;
  createdAt: string;
};

/** A memory as the API shows it. A type, so it is plain JSON. */
export type MemoryView = {
  id: string;
  content: string;
  tags: string[];
  provenance: MemoryProvenance;
};

/** One search result: the memory, the matching snippet and its bm25 score (higher is better). */
export type MemoryHitView = MemoryView & { snippet: string; score: number };

export function memoryView(row: MemoryRow): MemoryView {
  return {
    id: row.id,
    content: row.content,
    tags: row.tags === "" ? [] : row.tags.split(" "),
    provenance: {
      memoryId: row.id,
      agentType: row.agentType,
      processId: row.processId,
      step: row.step,
      source: row.source,
      createdAt: new Date(row.createdAtMs).toISOString(),
    },
  };
}

function hitView(hit: MemoryHit): MemoryHitView {
  return { ...memoryView(hit.row), snippet: hit.snippet, score: hit.score };
}

// ---------------------------------------------------------------------------------------------
// The calls themselves, after the gate

export type RememberResult =
  | { ok: true; memory: MemoryView; created: boolean }
  | { ok: false; code: "quota_exceeded"; reason: string };

/**
 * Writes a memory (idempotent per `dedupeKey`), within the per-type quota.
 *
 * @example await remember(db, { tenantId, agentType: "assistant", processId, step: 3, source: "explicit", content, tags: [], dedupeKey: null })
 */
export async function remember(db: Db, m: NewMemory): Promise<RememberResult> {
  const out = await writeMemory(db, m, MAX_MEMORIES_PER_AGENT_TYPE, Date.now());
  if (!out.ok) {
    return {
      ok: false,
      code: out.code,
      reason: `agent type ${m.agentType} holds ${out.limit} memories already (the limit): delete some first`,
    };
  }
  return { ok: true, memory: memoryView(out.row), created: out.created };
}

export type RecallResult =
  | { ok: true; items: MemoryHitView[] }
  | { ok: false; code: "empty_query" };

/**
 * The best matches of `text` (plain words; FTS syntax is not interpreted) in the tenant's
 * memories of `agentType` (or all its memories when undefined).
 *
 * @example await recall(db, { tenantId, agentType: "assistant", text: "canary rollout", limit: 5 })
 */
export async function recall(
  db: Db,
  q: {
    tenantId: string;
    agentType?: string | undefined;
    text: string;
    tag?: string | undefined;
    limit: number;
  },
): Promise<RecallResult> {
  const ftsQuery = toFtsQuery(q.text);
  if (ftsQuery === null) return { ok: false, code: "empty_query" };
  const hits = await searchMemories(db, {
    tenantId: q.tenantId,
    agentType: q.agentType,
    ftsQuery,
    tag: q.tag,
    limit: q.limit,
  });
  return { ok: true, items: hits.map(hitView) };
}

// ---------------------------------------------------------------------------------------------
// Caller-facing: HTTPS and MCP

const EMPTY_QUERY_MESSAGE = "must contain at least one word (letters or digits)";

/** The process `id` as `tenantId` sees it, or 404 (malformed, missing and foreign ids alike). */
async function visibleProcess(env: Env, tenantId: string, id: string): Promise<ProcessRecord> {
  const record = isId("process", id) ? await processStub(env, id).get(tenantId) : null;
  if (!record) throw new ApiError("not_found", `no process ${id}`);
  return record;
}

/**
 * Writes a memory as process `id`, for its agent type (operator, admin, or the process's own
 * agent key; `memory.write` through the gate).
 *
 * @example await writeMemoryAs(env, db, principal, { id: "proc_…", content: "the canary host is n7", tags: ["fleet"] })
 */
export async function writeMemoryAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; content: string; tags: string[] },
): Promise<MemoryView> {
  const principal = requireProcessAccess(caller, input.id, WRITE_ROLES);
  const record = await visibleProcess(env, principal.tenantId, input.id);
  const acting = await gateSyscall(env, db, caller, "memory.write", WRITE_ROLES, {
    type: "Process",
    id: input.id,
  });
  const out = await remember(db, {
    tenantId: acting.tenantId,
    agentType: record.type.name,
    processId: record.id,
    step: null,
    source: "explicit",
    content: input.content,
    tags: [...new Set(input.tags)],
    dedupeKey: null,
  });
  if (!out.ok) {
    throw new ApiError("conflict", out.reason, {
      extra: { reason: "memory_quota_exceeded", limit: MAX_MEMORIES_PER_AGENT_TYPE },
    });
  }
  return out.memory;
}

/**
 * Searches the memories of process `id`'s agent type (any tenant key, or the process's own
 * agent key; `memory.read` through the gate). An empty query is 422.
 *
 * @example await searchMemoryAs(env, db, principal, { id: "proc_…", q: "canary", limit: 5 })
 */
export async function searchMemoryAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; q: string; limit: number; tag?: string | undefined },
): Promise<{ items: MemoryHitView[] }> {
  const principal = requireProcessAccess(caller, input.id, READ_ROLES);
  if (toFtsQuery(input.q) === null) throw fieldError("q", EMPTY_QUERY_MESSAGE, "empty_query");
  const record = await visibleProcess(env, principal.tenantId, input.id);
  const acting = await gateSyscall(env, db, caller, "memory.read", READ_ROLES, {
    type: "Process",
    id: input.id,
  });
  const out = await recall(db, {
    tenantId: acting.tenantId,
    agentType: record.type.name,
    text: input.q,
    tag: input.tag,
    limit: input.limit,
  });
  if (!out.ok) throw fieldError("q", EMPTY_QUERY_MESSAGE, "empty_query");
  return { items: out.items };
}

/**
 * Deletes one memory of process `id`'s agent type (operator, admin or the process's agent key;
 * `memory.write` through the gate). A memory of another type or tenant answers 404.
 *
 * @example await deleteMemoryAs(env, db, principal, { id: "proc_…", memoryId: "mem_…" })
 */
export async function deleteMemoryAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; memoryId: string },
): Promise<void> {
  const principal = requireProcessAccess(caller, input.id, WRITE_ROLES);
  const record = await visibleProcess(env, principal.tenantId, input.id);
  if (!MEMORY_ID_PATTERN.test(input.memoryId)) {
    throw new ApiError("not_found", `no memory ${input.memoryId}`);
  }
  const acting = await gateSyscall(env, db, caller, "memory.write", WRITE_ROLES, {
    type: "Process",
    id: input.id,
  });
  const deleted = await deleteMemory(db, acting.tenantId, record.type.name, input.memoryId);
  if (!deleted) throw new ApiError("not_found", `no memory ${input.memoryId}`);
}

/**
 * The operator's view: the tenant's memories across agent types, searched by `q` (best first)
 * or, without `q`, newest first (any tenant key; a read that only looks).
 *
 * @example await listTenantMemories(env, db, principal, { q: "canary", agentType: "assistant", limit: 20 })
 */
export async function listTenantMemories(
  _env: Env,
  db: Db,
  caller: Caller,
  input: { q?: string | undefined; agentType?: string | undefined; limit: number },
): Promise<{ items: Array<MemoryView & { snippet?: string; score?: number }> }> {
  const principal = requireTenantKey(caller, READ_ROLES);
  if (input.q === undefined) {
    const rows = await listMemories(db, {
      tenantId: principal.tenantId,
      agentType: input.agentType,
      limit: input.limit,
    });
    return { items: rows.map(memoryView) };
  }
  const out = await recall(db, {
    tenantId: principal.tenantId,
    agentType: input.agentType,
    text: input.q,
    limit: input.limit,
  });
  if (!out.ok) throw fieldError("q", EMPTY_QUERY_MESSAGE, "empty_query");
  return { items: out.items };
}
