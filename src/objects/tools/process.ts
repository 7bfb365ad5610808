/**
 * The process tools as they run in the calling process's object: finish, sleep, spawn a
 * child (idempotent per (process, step, call), so a step repeated after a crash finds the child
 * it already made) and wait for one.
 */

import { KernelError } from "../../kernel/errors.js";
import { isId } from "../../kernel/ids.js";
import type { ProcessRecord } from "../../kernel/process/record.js";
import { isTerminal } from "../../kernel/process/state.js";
import { openDb } from "../../store/db.js";
import type { LoopHost } from "../agent-loop.js";
import { processStub } from "../agent-process.js";
import { spawnProcess } from "../spawn.js";
import { resultOf, type ToolHandlers, toolMessage } from "./types.js";

export const PROCESS_TOOL_HANDLERS: ToolHandlers<"finish" | "sleep" | "spawn" | "wait"> = {
  finish: async ({ call }, args) => ({
    kind: "exit",
    result: args.result ?? null,
    message: toolMessage(call, { ok: true }),
  }),

  sleep: async ({ call }, args) => ({
    kind: "block",
    waitingOn: {
      kind: "sleep",
      until: new Date(Date.now() + args.ms).toISOString(),
      toolCallId: call.id,
    },
  }),

  spawn: async ({ h, record, call, stepNo, index }, args) => {
    try {
      const { record: child } = await spawnProcess(h.processEnv, openDb(h.processEnv.DB), {
        tenantId: record.tenantId,
        actor: record.id,
        type: args.type,
        version: args.version,
        goal: args.goal,
        priority: record.priority,
        labels: {},
        parentId: record.id,
        script: args.script,
        idempotency: { scope: "process.spawn.child", key: `${record.id}:${stepNo}:${index}` },
      });
      const children = h.store.getKv<string[]>("children") ?? [];
      if (!children.includes(child.id)) h.store.putKv("children", [...children, child.id]);
      return resultOf(call, { processId: child.id, status: child.status });
    } catch (error) {
      if (error instanceof KernelError) return resultOf(call, { error: error.message }, true);
      throw error;
    }
  },

  wait: async ({ h, record, call }, args) => {
    const childId = args.processId ?? null;
    const check = await checkChild(h, record, childId);
    if (check.kind === "error") return resultOf(call, { error: check.error }, true);
    if (check.kind === "ended") return resultOf(call, check.value);
    return {
      kind: "block",
      waitingOn: { kind: "child", processId: childId, toolCallId: call.id },
    };
  },
};

export type ChildCheck =
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
export async function checkChild(
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
