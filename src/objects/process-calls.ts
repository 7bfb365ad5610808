/**
 * The caller-facing process system calls as plain functions: authorise the caller, call the
 * process's object or the D1 index, and return plain data. The HTTPS routes and the MCP tools
 * are both thin adapters over these, so the two surfaces cannot drift apart in what they allow.
 *
 * Every function takes `(env, db, caller, input)` and throws `ApiError` (authorisation, not
 * found, bad cursor) or `KernelError` (from spawn) exactly as the routes did before.
 */

import type { z } from "zod";
import {
  ADMIN_ROLES,
  principalOf,
  READ_ROLES,
  requireActor,
  requireProcessAccess,
  requireTenantKey,
  WRITE_ROLES,
} from "../api/authorize.js";
import type { Principal } from "../api/context.js";
import { cursorKey, INVALID_CURSOR, pageOf } from "../api/pagination.js";
import { ApiError, fieldError } from "../api/problem.js";
import type {
  AgentTypeSchema,
  AuditQuerySchema,
  AuditRecordSchema,
  ProcessSummarySchema,
  SpawnRequest,
} from "../api/schemas.js";
import type { Env } from "../env.js";
import { isId } from "../kernel/ids.js";
import type { ProcessEventRecord, ProcessRecord } from "../kernel/process/record.js";
import type { ProcessState } from "../kernel/process/state.js";
import { type AgentType, GLOBAL_SCOPE, listAgentTypes } from "../store/agent-types.js";
import { queryAudit } from "../store/audit.js";
import { encodeCursor } from "../store/cursor.js";
import type { Db } from "../store/db.js";
import { labelsOf, listProcessIndex } from "../store/process-index.js";
import { type ProcessSignal, processStub } from "./agent-process.js";
import { gateSyscall } from "./call-gate.js";
import { poolForModel } from "./pools.js";
import { type SpawnResult, spawnProcess } from "./spawn.js";

/** Who is calling: the principal the transport authenticated (undefined only by a wiring bug). */
export type Caller = Principal | undefined;

/** One page of a listing, newest (or, for events, oldest) first. A type, so it is plain JSON. */
export type Page<T> = {
  items: T[];
  nextCursor: string | null;
};

export type ProcessSummary = z.infer<typeof ProcessSummarySchema>;
export type AgentTypeView = z.infer<typeof AgentTypeSchema>;
export type AuditRecord = z.infer<typeof AuditRecordSchema>;
export type AuditQuery = z.infer<typeof AuditQuerySchema>;

/** An Idempotency-Key: 1 to 255 printable ASCII characters, no spaces. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

// ---------------------------------------------------------------------------------------------
// spawn

export interface SpawnInput extends SpawnRequest {
  /** A replay with the same key and body returns the first process instead of a second one. */
  idempotencyKey?: string | undefined;
}

/**
 * Spawns a process in the caller's tenant (operator or admin).
 *
 * @example await spawnAs(env, db, principal, { type: "assistant", goal: "…", priority: 1, labels: {}, paused: false })
 */
export async function spawnAs(
  env: Env,
  db: Db,
  caller: Caller,
  input: SpawnInput,
): Promise<SpawnResult> {
  const acting = await gateSyscall(env, db, caller, "proc.spawn", WRITE_ROLES, {
    type: "Tenant",
    id: requireActor(caller, WRITE_ROLES).tenantId,
  });
  // A process spawns only its own children; the client acting as it cannot pick another parent.
  let parentId = input.parentId;
  if (acting.as === "process") {
    if (parentId !== undefined && parentId !== null && parentId !== acting.processId) {
      throw new ApiError("forbidden", "an agent key spawns children of its own process only", {
        errors: [
          {
            path: "parentId",
            message: "must be the agent key's process or absent",
            code: "forbidden",
          },
        ],
      });
    }
    parentId = acting.processId;
  }
  const result = await spawnProcess(env, db, {
    tenantId: acting.tenantId,
    actor: acting.actor,
    type: input.type,
    version: input.version,
    goal: input.goal,
    priority: input.priority,
    labels: input.labels,
    parentId,
    budget: input.budget,
    capabilities: input.capabilities,
    script: input.script,
    paused: input.paused,
    idempotency:
      input.idempotencyKey === undefined
        ? undefined
        : {
            scope: acting.as === "process" ? `process.spawn:${acting.processId}` : "process.spawn",
            key: input.idempotencyKey,
          },
  });
  if (acting.as === "process") {
    await processStub(env, acting.processId).adoptChild(acting.tenantId, result.record.id);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// list, get, events

export interface ProcessListInput {
  status?: ProcessState | undefined;
  type?: string | undefined;
  /** Every label must match. */
  labels: Array<{ key: string; value: string }>;
  limit: number;
  cursor?: string | undefined;
}

/**
 * One page of the caller's tenant's processes, newest first (any tenant key).
 *
 * @example await listProcesses(env, db, principal, { labels: [{ key: "team", value: "sre" }], limit: 20 })
 */
export async function listProcesses(
  _env: Env,
  db: Db,
  caller: Caller,
  input: ProcessListInput,
): Promise<Page<ProcessSummary>> {
  const principal = requireTenantKey(caller, READ_ROLES);
  const beforeId = cursorKey(input.cursor);
  const rows = await listProcessIndex(db, {
    tenantId: principal.tenantId,
    status: input.status,
    typeName: input.type,
    labels: input.labels,
    beforeId,
    limit: input.limit,
  });
  const { page, nextCursor } = pageOf(rows, input.limit, (r) => r.id);
  const labelMap = await labelsOf(
    db,
    page.map((r) => r.id),
  );
  return {
    items: page.map((r) => ({
      id: r.id,
      type: { name: r.typeName, version: r.typeVersion },
      status: r.status as ProcessRecord["status"],
      priority: r.priority,
      labels: labelMap.get(r.id) ?? {},
      parentId: r.parentId,
      createdAt: new Date(r.createdAtMs).toISOString(),
      updatedAt: new Date(r.updatedAtMs).toISOString(),
    })),
    nextCursor,
  };
}

/**
 * The process record, for any tenant key or that process's own agent key. Malformed, missing
 * and foreign ids all answer 404.
 *
 * @example await getProcess(env, db, principal, { id: "proc_…" })
 */
export async function getProcess(
  env: Env,
  _db: Db,
  caller: Caller,
  input: { id: string },
): Promise<ProcessRecord> {
  const principal = requireProcessAccess(caller, input.id, READ_ROLES);
  const record = isId("process", input.id)
    ? await processStub(env, input.id).get(principal.tenantId)
    : null;
  if (!record) throw new ApiError("not_found", `no process ${input.id}`);
  return record;
}

/**
 * One page of a process's event log, oldest first (same access as `getProcess`).
 *
 * @example await listProcessEvents(env, db, principal, { id: "proc_…", limit: 50 })
 */
export async function listProcessEvents(
  env: Env,
  _db: Db,
  caller: Caller,
  input: { id: string; limit: number; cursor?: string | undefined },
): Promise<Page<ProcessEventRecord>> {
  const principal = requireProcessAccess(caller, input.id, READ_ROLES);
  const after = cursorKey(input.cursor) ?? "0";
  if (!/^\d{1,15}$/.test(after)) throw fieldError("cursor", INVALID_CURSOR, "invalid_cursor");
  const page = isId("process", input.id)
    ? await processStub(env, input.id).events(principal.tenantId, Number(after), input.limit)
    : null;
  if (!page) throw new ApiError("not_found", `no process ${input.id}`);
  return {
    items: page.events,
    nextCursor: page.nextAfterSeq === null ? null : encodeCursor(String(page.nextAfterSeq)),
  };
}

// ---------------------------------------------------------------------------------------------
// signals

export interface SignalOutcome {
  record: ProcessRecord;
  /** False when the signal changed nothing (terminating an ended process). */
  changed: boolean;
}

/**
 * Sends pause, resume or terminate (operator or admin). An illegal transition is 409 with the
 * current state; terminating an ended process returns it unchanged.
 *
 * @example await signalProcess(env, db, principal, { id: "proc_…", signal: "pause", reason: "maintenance" })
 */
export async function signalProcess(
  env: Env,
  db: Db,
  caller: Caller,
  input: { id: string; signal: ProcessSignal; reason?: string | null | undefined },
): Promise<SignalOutcome> {
  requireProcessAccess(caller, input.id, WRITE_ROLES);
  if (!isId("process", input.id)) throw new ApiError("not_found", `no process ${input.id}`);
  const acting = await gateSyscall(env, db, caller, "proc.signal", WRITE_ROLES, {
    type: "Process",
    id: input.id,
  });
  const result = await processStub(env, input.id).signal(
    acting.tenantId,
    input.signal,
    input.reason ?? null,
    acting.actor,
  );
  if (!result.ok) {
    if (result.code === "not_found") throw new ApiError("not_found", `no process ${input.id}`);
    throw new ApiError("illegal_transition", result.detail, {
      extra: { state: result.state, signal: input.signal },
    });
  }
  return { record: result.record, changed: result.changed };
}

// ---------------------------------------------------------------------------------------------
// agent types

/** An agent type as the API shows it. */
export function agentTypeView(t: AgentType): AgentTypeView {
  return {
    name: t.name,
    version: t.version,
    description: t.description,
    model: t.model,
    systemPrompt: t.systemPrompt,
    defaultBudget: t.defaultBudget,
    capabilities: t.capabilities,
    pool: t.pool ?? poolForModel(t.model),
    status: t.status,
    builtin: t.scope === GLOBAL_SCOPE,
    createdAt: new Date(t.createdAtMs).toISOString(),
  };
}

/**
 * The built-in agent types and the caller's tenant's own, every version, newest first.
 *
 * @example const { items } = await listAgentTypeViews(env, db, principal, {})
 */
export async function listAgentTypeViews(
  _env: Env,
  db: Db,
  caller: Caller,
  _input: Record<string, never> = {},
): Promise<{ items: AgentTypeView[] }> {
  const principal = requireTenantKey(caller, READ_ROLES);
  const types = await listAgentTypes(db, principal.tenantId);
  return { items: types.map(agentTypeView) };
}

// ---------------------------------------------------------------------------------------------
// audit

/**
 * One page of the audit log, newest first: a tenant admin sees its own tenant, the system
 * administrator every tenant (or the one named by `tenantId`).
 *
 * @example await queryAuditLog(env, db, principal, { action: "process.spawn", limit: 20 })
 */
export async function queryAuditLog(
  _env: Env,
  db: Db,
  caller: Caller,
  q: AuditQuery,
): Promise<Page<AuditRecord>> {
  const principal = principalOf(caller);
  let tenantId: string | undefined;
  if (principal.kind === "system") {
    tenantId = q.tenantId;
  } else {
    tenantId = requireTenantKey(principal, ADMIN_ROLES).tenantId;
    if (q.tenantId && q.tenantId !== tenantId) {
      throw new ApiError("forbidden", "a tenant admin reads only its own tenant's audit log");
    }
  }
  const fromMs = q.from ? Date.parse(q.from) : undefined;
  const toMs = q.to ? Date.parse(q.to) : undefined;
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) {
    throw fieldError("from", "must not be after `to`", "invalid_range");
  }
  const beforeId = cursorKey(q.cursor);
  const rows = await queryAudit(db, {
    tenantId,
    actor: q.actor,
    action: q.action,
    fromMs,
    toMs,
    beforeId,
    limit: q.limit,
  });
  const { page, nextCursor } = pageOf(rows, q.limit, (r) => r.id);
  return {
    items: page.map((r) => ({
      id: r.id,
      at: new Date(r.atMs).toISOString(),
      tenantId: r.tenantId,
      actor: r.actor,
      actorRole: r.actorRole,
      action: r.action,
      target: r.target,
      decision: r.decision,
      status: r.status,
      requestId: r.requestId,
      detail: r.detailJson ? (JSON.parse(r.detailJson) as Record<string, unknown>) : null,
    })),
    nextCursor,
  };
}
