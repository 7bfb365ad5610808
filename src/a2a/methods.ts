/**
 * The A2A methods mapped onto the kernel's process system calls — the same functions the HTTPS
 * routes and MCP tools use, so A2A is gated exactly like them:
 *
 *   SendMessage (no task id)   → spawnAs: a process of the agent type, the message text its goal
 *   SendMessage (task id)      → sendMessageAs: a direct message to the live process's mailbox
 *   GetTask                    → getProcess, seen through `taskOf`
 *   ListTasks                  → listProcesses (the caller's tenant; contextId is a label filter)
 *   CancelTask                 → signalProcess(terminate)
 *
 * An endpoint serves one agent type (`/a2a/{type}`: its tasks only) or the deployment (`/a2a`:
 * every task of the tenant; a new message names its type in `metadata.agentType`).
 */

import { principalOf } from "../api/authorize.js";
import { sendMessageAs } from "../bus/calls.js";
import type { Env } from "../env.js";
import { sha256Hex } from "../kernel/hash.js";
import { isId } from "../kernel/ids.js";
import {
  AgentTypeNameSchema,
  PRIORITY_DEFAULT,
  type ProcessRecord,
} from "../kernel/process/record.js";
import type { ProcessState } from "../kernel/process/state.js";
import { processStub } from "../objects/agent-process.js";
import {
  type Caller,
  getProcess,
  listProcesses,
  signalProcess,
  spawnAs,
} from "../objects/process-calls.js";
import { writeAudit } from "../store/audit.js";
import { decodeCursor } from "../store/cursor.js";
import type { Db } from "../store/db.js";
import { a2aError, invalidParams, toRpcError } from "./errors.js";
import {
  A2A_LIMITS,
  INTERRUPTED_TASK_STATES,
  type ListTasksParams,
  type Message,
  RPC_ERROR,
  type SendMessageParams,
  type TaskIdParams,
  type TaskState,
  TERMINAL_TASK_STATES,
  type WireTask,
} from "./protocol.js";
import { countTasks } from "./task-count.js";
import { CONTEXT_LABEL, taskOf, taskStateOf } from "./task-view.js";

/** How often a blocking send or a stream looks at the process again. */
export const TASK_POLL_INTERVAL_MS = 250;
/** A blocking SendMessage returns the task as it is after this long, even if still working. */
export const BLOCKING_SEND_MAX_WAIT_MS = 25_000;

/** Everything a method needs: the platform, the caller, and which endpoint it came through. */
export interface A2aContext {
  env: Env;
  db: Db;
  caller: Caller;
  requestId: string;
  /** The agent type the endpoint serves, or null for the deployment endpoint. */
  agentType: string | null;
}

const taskNotFound = (id: string) =>
  a2aError(RPC_ERROR.taskNotFound, `no task ${id}`, { taskId: id });

// ---------------------------------------------------------------------------------------------
// SendMessage

/** The goal a message stands for: its text parts, and JSON data parts, joined by blank lines. */
export function goalOf(message: Message): string {
  const pieces = message.parts.map((part, i) => {
    if (part.text !== undefined) return part.text;
    if (part.data !== undefined) return JSON.stringify(part.data);
    throw a2aError(
      RPC_ERROR.contentTypeNotSupported,
      `message.parts[${i}]: file parts (url or raw) are not supported; send text or data`,
    );
  });
  const goal = pieces.join("\n\n").trim();
  if (goal.length === 0) {
    throw invalidParams([
      { path: "message.parts", message: "the message has no text", code: "too_small" },
    ]);
  }
  if (goal.length > A2A_LIMITS.goalChars) {
    throw invalidParams([
      {
        path: "message.parts",
        message: `the message text exceeds ${A2A_LIMITS.goalChars} characters`,
        code: "too_big",
      },
    ]);
  }
  return goal;
}

/** The agent type a new message is for: the endpoint's, or `metadata.agentType`. */
function agentTypeFor(ctx: A2aContext, params: SendMessageParams): string {
  if (ctx.agentType) return ctx.agentType;
  const named = params.metadata?.agentType ?? params.message.metadata?.agentType;
  const parsed = AgentTypeNameSchema.safeParse(named);
  if (!parsed.success) {
    throw invalidParams([
      {
        path: "metadata.agentType",
        message:
          named === undefined
            ? "the deployment endpoint needs the agent type to run; or use /a2a/{type}"
            : (parsed.error.issues[0]?.message ?? "not an agent type name"),
        code: named === undefined ? "required" : "invalid_format",
      },
    ]);
  }
  return parsed.data;
}

/**
 * Starts a task (spawns a process) or continues one, and returns the task. Unless the client
 * asked to return immediately, waits until the task ends or needs input, up to
 * BLOCKING_SEND_MAX_WAIT_MS.
 */
export async function sendMessage(
  ctx: A2aContext,
  params: SendMessageParams,
  options: { blocking: boolean },
): Promise<ProcessRecord> {
  const record =
    params.message.taskId !== undefined
      ? await continueTask(ctx, params.message)
      : await startTask(ctx, params);
  if (!options.blocking || params.configuration?.returnImmediately) return record;
  return waitForSettled(ctx, record, BLOCKING_SEND_MAX_WAIT_MS);
}

/** A message without a task id: a new process of the endpoint's (or the named) agent type. */
async function startTask(ctx: A2aContext, params: SendMessageParams): Promise<ProcessRecord> {
  const goal = goalOf(params.message);
  const type = agentTypeFor(ctx, params);
  // Without a context id the message starts a new context, named after the message so that a
  // resent message (same messageId) is the same spawn request and replays the same task.
  const contextId =
    params.message.contextId ?? `ctx-${(await sha256Hex(params.message.messageId)).slice(0, 32)}`;
  let record: ProcessRecord;
  try {
    const spawned = await spawnAs(ctx.env, ctx.db, ctx.caller, {
      type,
      goal,
      priority: PRIORITY_DEFAULT,
      labels: { [CONTEXT_LABEL]: contextId },
      paused: false,
      // A client resending the same message (same messageId) gets the same task, not a second.
      idempotencyKey: `a2a:${params.message.messageId}`,
    });
    record = spawned.record;
    await audit(ctx, "a2a.send_message", record.id, "allow", 200, {
      type: `${record.type.name}@${record.type.version}`,
      contextId,
      replayed: spawned.replayed,
    });
  } catch (error) {
    const rpc = toRpcError(error, {
      renames: { type: "metadata.agentType", goal: "message.parts" },
    });
    await audit(
      ctx,
      "a2a.send_message",
      null,
      rpc.code === RPC_ERROR.refused ? "deny" : "error",
      200,
      {
        type,
        error: rpc.message,
      },
    );
    throw rpc;
  }
  return record;
}

/** A message for an existing task: delivered to its process's mailbox while it is live. */
async function continueTask(ctx: A2aContext, message: Message): Promise<ProcessRecord> {
  const id = message.taskId as string;
  const record = await loadTask(ctx, id);
  const state = taskStateOf(record);
  if (TERMINAL_TASK_STATES.has(state)) {
    throw a2aError(
      RPC_ERROR.unsupportedOperation,
      `task ${id} is ${state}: a finished task takes no more messages; start a new task in the same context`,
      { taskId: id },
    );
  }
  const contextId = record.labels[CONTEXT_LABEL] ?? record.id;
  if (message.contextId !== undefined && message.contextId !== contextId) {
    throw invalidParams([
      {
        path: "message.contextId",
        message: `task ${id} belongs to context ${contextId}`,
        code: "invalid_value",
      },
    ]);
  }
  // The bus's direct message, gated as msg.send: the process reads it from its mailbox (and
  // wakes if it sleeps on it). Its body carries the text and where it came from.
  let sent: { messageId: string };
  try {
    sent = await sendMessageAs(ctx.env, ctx.db, ctx.caller, {
      to: id,
      body: { text: goalOf(message), a2a: { messageId: message.messageId, contextId } },
    });
  } catch (error) {
    const rpc = toRpcError(error, { notFound: () => taskNotFound(id) });
    if (rpc.code === RPC_ERROR.refused) {
      await audit(ctx, "a2a.send_message", id, "deny", 200, { followUp: true, error: rpc.message });
    }
    throw rpc;
  }
  await audit(ctx, "a2a.send_message", id, "allow", 200, {
    followUp: true,
    busMessageId: sent.messageId,
  });
  return loadTask(ctx, id);
}

// ---------------------------------------------------------------------------------------------
// GetTask, CancelTask

/** The process behind task `id`, if the caller may see it through this endpoint. */
export async function loadTask(ctx: A2aContext, id: string): Promise<ProcessRecord> {
  let record: ProcessRecord;
  try {
    record = await getProcess(ctx.env, ctx.db, ctx.caller, { id });
  } catch (error) {
    throw toRpcError(error, { notFound: () => taskNotFound(id) });
  }
  // A type's endpoint serves its own tasks only: another type's task is not found here.
  if (ctx.agentType && record.type.name !== ctx.agentType) throw taskNotFound(id);
  return record;
}

export async function getTask(ctx: A2aContext, params: TaskIdParams): Promise<WireTask> {
  return taskOf(await loadTask(ctx, params.id), { historyLength: params.historyLength });
}

/** Terminates the task's process; a task that has already ended is not cancelable. */
export async function cancelTask(ctx: A2aContext, params: TaskIdParams): Promise<WireTask> {
  const before = await loadTask(ctx, params.id);
  if (TERMINAL_TASK_STATES.has(taskStateOf(before))) {
    throw a2aError(
      RPC_ERROR.taskNotCancelable,
      `task ${params.id} has already ended (${taskStateOf(before)})`,
      { taskId: params.id },
    );
  }
  try {
    const { record, changed } = await signalProcess(ctx.env, ctx.db, ctx.caller, {
      id: params.id,
      signal: "terminate",
      reason: "canceled through A2A",
    });
    await audit(ctx, "a2a.cancel_task", params.id, "allow", 200, { changed });
    if (!changed) {
      // It ended on its own between our look and the signal.
      throw a2aError(RPC_ERROR.taskNotCancelable, `task ${params.id} has already ended`, {
        taskId: params.id,
      });
    }
    return taskOf(record, { historyLength: params.historyLength });
  } catch (error) {
    const rpc = toRpcError(error, { notFound: () => taskNotFound(params.id) });
    if (rpc.code === RPC_ERROR.refused) {
      await audit(ctx, "a2a.cancel_task", params.id, "deny", 200, { error: rpc.message });
    }
    throw rpc;
  }
}

// ---------------------------------------------------------------------------------------------
// ListTasks

/** Task states a listing can filter on: those that are one process state in the index. */
const STATUS_FILTERS: Partial<Record<TaskState, ProcessState>> = {
  TASK_STATE_SUBMITTED: "created",
  TASK_STATE_COMPLETED: "exited",
  TASK_STATE_CANCELED: "terminated",
};

export interface TaskPage {
  tasks: WireTask[];
  nextPageToken: string;
  pageSize: number;
  /** How many tasks match the filter, over all pages. */
  totalSize: number;
}

/** One page of the caller's tenant's tasks (this endpoint's type only), newest first. */
export async function listTasks(ctx: A2aContext, params: ListTasksParams): Promise<TaskPage> {
  let status: ProcessState | undefined;
  if (params.status !== undefined) {
    status = STATUS_FILTERS[params.status];
    if (!status) {
      throw invalidParams([
        {
          path: "status",
          message: `filtering on ${params.status} is not supported; filter on ${Object.keys(STATUS_FILTERS).join(", ")} or list all`,
          code: "unsupported",
        },
      ]);
    }
  }
  if (params.statusTimestampAfter !== undefined) {
    throw invalidParams([
      { path: "statusTimestampAfter", message: "not supported", code: "unsupported" },
    ]);
  }
  const pageSize = params.pageSize ?? A2A_LIMITS.pageSizeDefault;
  // Our page tokens hold a process id; anything else was not issued here.
  const tokenKey = params.pageToken ? decodeCursor(params.pageToken) : null;
  if (params.pageToken && (tokenKey === null || !isId("process", tokenKey))) {
    throw invalidParams([
      {
        path: "pageToken",
        message: "not a page token issued by this agent",
        code: "invalid_cursor",
      },
    ]);
  }
  const label =
    params.contextId === undefined ? undefined : { key: CONTEXT_LABEL, value: params.contextId };
  let page: Awaited<ReturnType<typeof listProcesses>>;
  try {
    page = await listProcesses(ctx.env, ctx.db, ctx.caller, {
      status,
      type: ctx.agentType ?? undefined,
      labels: label ? [label] : [],
      limit: pageSize,
      cursor: params.pageToken || undefined,
    });
  } catch (error) {
    throw toRpcError(error, { renames: { cursor: "pageToken" } });
  }
  // listProcesses let only a tenant key through: the caller has a tenant.
  const tenantId = (principalOf(ctx.caller) as { tenantId: string }).tenantId;
  // The index knows the status; the object knows what a waiting process waits on and its result.
  const [records, totalSize] = await Promise.all([
    Promise.all(page.items.map((item) => processStub(ctx.env, item.id).get(tenantId))),
    countTasks(ctx.db, { tenantId, typeName: ctx.agentType ?? undefined, status, label }),
  ]);
  return {
    tasks: records
      .filter((r): r is ProcessRecord => r !== null)
      .map((r) =>
        taskOf(r, {
          historyLength: params.historyLength ?? 0,
          includeArtifacts: params.includeArtifacts ?? false,
        }),
      ),
    nextPageToken: page.nextCursor ?? "",
    pageSize,
    totalSize,
  };
}

// ---------------------------------------------------------------------------------------------
// watching a task

/** True once a task has nothing more to report without the client (ended or interrupted). */
export function isSettled(state: TaskState): boolean {
  return TERMINAL_TASK_STATES.has(state) || INTERRUPTED_TASK_STATES.has(state);
}

/** Polls the process until its task settles or `maxWaitMs` passes; returns the last record. */
export async function waitForSettled(
  ctx: A2aContext,
  record: ProcessRecord,
  maxWaitMs: number,
): Promise<ProcessRecord> {
  const deadline = Date.now() + maxWaitMs;
  let current = record;
  while (!isSettled(taskStateOf(current)) && Date.now() < deadline) {
    await sleep(TASK_POLL_INTERVAL_MS);
    current = (await processStub(ctx.env, current.id).get(current.tenantId)) ?? current;
  }
  return current;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// audit

/** One audit row for a state-changing A2A call, named for the method, with its real outcome. */
async function audit(
  ctx: A2aContext,
  action: string,
  target: string | null,
  decision: "allow" | "deny" | "error",
  status: number,
  detail: Record<string, unknown>,
): Promise<void> {
  const p = ctx.caller;
  const asProcess = p?.kind === "key" && p.processId !== null;
  try {
    await writeAudit(
      ctx.db,
      {
        tenantId: p?.kind === "key" ? p.tenantId : null,
        actor: p?.kind === "key" && p.processId !== null ? p.processId : (p?.actor ?? "anonymous"),
        actorRole: asProcess ? "process" : (p?.role ?? "none"),
        action,
        target,
        decision,
        status,
        requestId: ctx.requestId,
        detail: asProcess && p?.kind === "key" ? { ...detail, keyId: p.keyId } : detail,
      },
      Date.now(),
    );
  } catch (error) {
    console.error("audit write failed", action, ctx.requestId, error);
  }
}
