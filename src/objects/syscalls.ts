/**
 * The built-in tools of the agent loop, run as system calls: each passes the kernel's gate
 * (capability, budget), is recorded in the process's event log with the decision, and then
 * runs. `spawn` is idempotent per (process, step, call), so a step repeated after a crash
 * finds the child it already made instead of making another.
 */

import { BUILTIN_TOOLS, isBuiltinTool } from "../kernel/agent/builtin-tools.js";
import { KernelError } from "../kernel/errors.js";
import { isId } from "../kernel/ids.js";
import type { PendingEvent } from "../kernel/process/lifecycle.js";
import type { ProcessRecord, WaitingOn } from "../kernel/process/record.js";
import { isTerminal } from "../kernel/process/state.js";
import { gate } from "../kernel/syscall/gate.js";
import type { ChatMessage, ToolCall } from "../llm/types.js";
import { openDb } from "../store/db.js";
import type { LoopHost } from "./agent-loop.js";
import { processStub } from "./agent-process.js";
import { spawnProcess } from "./spawn.js";

export interface ToolRun {
  /** Results to append to the conversation, one per call that produced one now. */
  messages: ChatMessage[];
  events: PendingEvent[];
  /** Calls counted against `maxToolCalls`. */
  countedCalls: number;
  /** `finish` was called: the process exits with this result. */
  exit: { result: unknown } | null;
  /** A call blocked the process (sleep, wait); its result arrives on wake. */
  block: WaitingOn | null;
  /** A call was refused because the tool-call budget is spent. */
  budgetDenied: boolean;
}

function toolMessage(call: ToolCall, value: unknown, isError = false): ChatMessage {
  return {
    role: "tool",
    toolCallId: call.id,
    toolName: call.name,
    content: JSON.stringify(value),
    isError,
  };
}

function syscallEvent(record: ProcessRecord, call: ToolCall, decision: string): PendingEvent {
  return {
    atMs: Date.now(),
    event: "syscall",
    from: record.status,
    to: record.status,
    actor: record.id,
    reason: `${call.name}: ${decision}`,
  };
}

/**
 * Runs `calls` in order until one ends or blocks the step; later calls are skipped with a note
 * to the model.
 */
export async function runToolCalls(
  h: LoopHost,
  record: ProcessRecord,
  calls: ToolCall[],
  stepNo: number,
): Promise<ToolRun> {
  const run: ToolRun = {
    messages: [],
    events: [],
    countedCalls: 0,
    exit: null,
    block: null,
    budgetDenied: false,
  };
  for (const [i, call] of calls.entries()) {
    if (run.exit || run.block) {
      run.messages.push(
        toolMessage(
          call,
          { error: "skipped: an earlier call in this step ended or blocked it" },
          true,
        ),
      );
      continue;
    }
    const builtin = isBuiltinTool(call.name) ? BUILTIN_TOOLS[call.name] : undefined;
    const decision = gate(
      record,
      call.name,
      { capability: builtin?.capability, counted: call.name !== "finish" },
      run.countedCalls,
    );
    if (!decision.allow) {
      run.events.push(syscallEvent(record, call, `deny (${decision.reason})`));
      run.messages.push(toolMessage(call, { error: decision.reason, code: decision.code }, true));
      if (decision.code === "budget_exhausted") run.budgetDenied = true;
      continue;
    }
    const parsed = builtin!.args.safeParse(call.arguments);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const reason = `invalid arguments: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "rejected"}`;
      run.events.push(syscallEvent(record, call, `error (${reason})`));
      run.messages.push(toolMessage(call, { error: reason }, true));
      continue;
    }
    run.events.push(syscallEvent(record, call, "allow"));
    if (call.name !== "finish") run.countedCalls++;
    const args = parsed.data as Record<string, unknown>;
    switch (call.name) {
      case "finish":
        run.exit = { result: args.result ?? null };
        run.messages.push(toolMessage(call, { ok: true }));
        break;
      case "sleep":
        run.block = {
          kind: "sleep",
          until: new Date(Date.now() + (args.ms as number)).toISOString(),
          toolCallId: call.id,
        };
        break;
      case "spawn":
        run.messages.push(await spawnChild(h, record, call, args, `${record.id}:${stepNo}:${i}`));
        break;
      case "wait": {
        const childId = (args.processId as string | undefined) ?? null;
        const outcome = await checkChild(h, record, childId);
        if (outcome.kind === "error")
          run.messages.push(toolMessage(call, { error: outcome.error }, true));
        else if (outcome.kind === "ended") run.messages.push(toolMessage(call, outcome.value));
        else run.block = { kind: "child", processId: childId, toolCallId: call.id };
        break;
      }
    }
  }
  return run;
}

async function spawnChild(
  h: LoopHost,
  record: ProcessRecord,
  call: ToolCall,
  args: Record<string, unknown>,
  idempotencyKey: string,
): Promise<ChatMessage> {
  try {
    const { record: child } = await spawnProcess(h.processEnv, openDb(h.processEnv.DB), {
      tenantId: record.tenantId,
      actor: record.id,
      type: args.type as string,
      version: args.version as string | undefined,
      goal: args.goal as string,
      priority: record.priority,
      labels: {},
      parentId: record.id,
      script: args.script as unknown[] | undefined,
      idempotency: { scope: "process.spawn.child", key: idempotencyKey },
    });
    const children = h.store.getKv<string[]>("children") ?? [];
    if (!children.includes(child.id)) h.store.putKv("children", [...children, child.id]);
    return toolMessage(call, { processId: child.id, status: child.status });
  } catch (error) {
    if (error instanceof KernelError) return toolMessage(call, { error: error.message }, true);
    throw error;
  }
}

type ChildCheck =
  | { kind: "error"; error: string }
  | {
      kind: "ended";
      value: { processId: string; status: string; result: unknown; exitReason: string | null };
    }
  | { kind: "running" };

/**
 * Whether child `childId` (or, for null, any child not yet waited for) has ended. An ended
 * child is reaped: a later wait-for-any does not return it again.
 */
async function checkChild(
  h: LoopHost,
  record: ProcessRecord,
  childId: string | null,
): Promise<ChildCheck> {
  const reaped = h.store.getKv<string[]>("reapedChildren") ?? [];
  const candidates =
    childId === null
      ? (h.store.getKv<string[]>("children") ?? []).filter((id) => !reaped.includes(id))
      : [childId];
  if (candidates.length === 0)
    return { kind: "error", error: "this process has no children left to wait for" };
  for (const id of candidates) {
    const child = isId("process", id)
      ? await processStub(h.processEnv, id).get(record.tenantId)
      : null;
    if (!child || child.parentId !== record.id)
      return { kind: "error", error: `${id} is not a child of this process` };
    if (isTerminal(child.status)) {
      h.store.putKv("reapedChildren", [...reaped, child.id]);
      return {
        kind: "ended",
        value: {
          processId: child.id,
          status: child.status,
          result: child.result,
          exitReason: child.exitReason,
        },
      };
    }
  }
  return { kind: "running" };
}

export type WakeCheck =
  | { kind: "now"; message: ChatMessage }
  | { kind: "later"; atMs: number | null };

/** Whether what a waiting process waits for has happened, and the tool result to give it. */
export async function wakeResult(
  h: LoopHost,
  record: ProcessRecord,
  waitingOn: WaitingOn,
): Promise<WakeCheck> {
  if (waitingOn.kind === "sleep") {
    const untilMs = Date.parse(waitingOn.until);
    if (Date.now() < untilMs) return { kind: "later", atMs: untilMs };
    const message: ChatMessage = {
      role: "tool",
      toolCallId: waitingOn.toolCallId,
      toolName: "sleep",
      content: JSON.stringify({ slept: true }),
      isError: false,
    };
    return { kind: "now", message };
  }
  const outcome = await checkChild(h, record, waitingOn.processId);
  if (outcome.kind === "running") return { kind: "later", atMs: null };
  const value = outcome.kind === "ended" ? outcome.value : { error: outcome.error };
  return {
    kind: "now",
    message: {
      role: "tool",
      toolCallId: waitingOn.toolCallId,
      toolName: "wait",
      content: JSON.stringify(value),
      isError: outcome.kind === "error",
    },
  };
}
