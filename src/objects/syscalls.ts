/**
 * The agent loop's tool calls, run as system calls. Each passes the kernel's gate (capability,
 * tool-call budget, entitlement rate limit, policy), is recorded in the process's event log
 * with the decision and the deciding policies, and then runs. A call policy parks for a
 * person's approval blocks the process (holding no compute) until the approval is decided.
 * `spawn` is idempotent per (process, step, call), so a step repeated after a crash finds the
 * child it already made instead of making another.
 */

import { capabilityOfTool, isBuiltinTool } from "../kernel/agent/builtin-tools.js";
import { sha256Hex } from "../kernel/hash.js";
import type { PendingEvent } from "../kernel/process/lifecycle.js";
import type { ProcessRecord, WaitingOn } from "../kernel/process/record.js";
import { callsInLastMinute, matchEntitlement } from "../kernel/syscall/entitlement.js";
import { type GateDecision, gate } from "../kernel/syscall/gate.js";
import type { PolicyEngine } from "../kernel/syscall/policy.js";
import type { ChatMessage, ToolCall } from "../llm/types.js";
import { createApproval, expireApproval, getApproval } from "../store/approvals.js";
import { writeAudit } from "../store/audit.js";
import { type Capability, type EntitlementRow, findCapabilities } from "../store/capabilities.js";
import { openDb } from "../store/db.js";
import type { LoopHost } from "./agent-loop.js";
import { DEFAULT_APPROVAL_TTL_MS } from "./approvals.js";
import { gateContextFor, grantsFor } from "./gate-context.js";
import { callProviderTool } from "./mcp-providers.js";
import { messageWake } from "./tools/bus.js";
import { runBuiltinTool } from "./tools/index.js";
import { checkChild } from "./tools/process.js";
import { type CallOutcome, toolMessage } from "./tools/types.js";

export interface ToolRun {
  /** Results to append to the conversation, one per call that produced one now. */
  messages: ChatMessage[];
  events: PendingEvent[];
  /** Calls counted against `maxToolCalls`. */
  countedCalls: number;
  /** `finish` was called: the process exits with this result. */
  exit: { result: unknown } | null;
  /** A call blocked the process (sleep, wait, approval); its result arrives on wake. */
  block: WaitingOn | null;
  /** A call was refused because the tool-call budget is spent. */
  budgetDenied: boolean;
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

/** Everything the gate needs that lives outside the process (cached per isolate). */
interface GateContext {
  capabilities: Map<string, Capability>;
  grants: EntitlementRow[];
  policy: PolicyEngine;
}

async function loadGateContext(h: LoopHost, record: ProcessRecord): Promise<GateContext> {
  const ctx = await gateContextFor(openDb(h.processEnv.DB), record.tenantId);
  return {
    capabilities: ctx.capabilities,
    grants: grantsFor(ctx.grants, record.type.name),
    policy: ctx.policy,
  };
}

function decide(
  h: LoopHost,
  ctx: GateContext,
  record: ProcessRecord,
  call: ToolCall,
  callsThisStep: number,
  approved: boolean,
): GateDecision {
  const name = capabilityOfTool(call.name);
  const cap = ctx.capabilities.get(name);
  const nowMs = Date.now();
  const log = h.store.getKv<number[]>(`calls:${name}`) ?? [];
  return gate({
    record,
    name,
    capability: cap ? { risk: cap.risk } : undefined,
    counted: name !== "proc.finish",
    callsThisStep,
    entitlement: matchEntitlement(
      name,
      cap?.risk ?? "critical",
      cap?.provider === "builtin",
      ctx.grants,
    ),
    callsLastMinute: callsInLastMinute(log, nowMs),
    policy: ctx.policy,
    approved,
    resource: { type: "Tenant", id: record.tenantId },
    dataLabels: [],
    nowMs,
  });
}

/** Notes a call in the rate-limit log (the last minute's call times, per capability). */
export function logCall(h: LoopHost, capability: string, nowMs: number): void {
  const key = `calls:${capability}`;
  const log = (h.store.getKv<number[]>(key) ?? []).filter((t) => t > nowMs - 60_000);
  h.store.putKv(key, [...log, nowMs]);
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
  if (calls.length === 0) return run;
  const ctx = await loadGateContext(h, record);
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
    const decision = decide(h, ctx, record, call, run.countedCalls, false);
    const cited = decision.policyIds.length > 0 ? ` [${decision.policyIds.join(", ")}]` : "";
    if (!decision.allow && decision.approval) {
      const waitingOn = await parkForApproval(h, record, call, decision, stepNo, i, ctx);
      run.events.push(
        syscallEvent(record, call, `approval required${cited} (${waitingOn.approvalId})`),
      );
      run.block = waitingOn;
      continue;
    }
    if (!decision.allow) {
      run.events.push(syscallEvent(record, call, `deny (${decision.reason})${cited}`));
      run.messages.push(toolMessage(call, { error: decision.reason, code: decision.code }, true));
      if (decision.code === "budget_exhausted") run.budgetDenied = true;
      continue;
    }
    const outcome = await runAllowedCall(
      h,
      record,
      call,
      stepNo,
      i,
      ctx.capabilities.get(decision.capability),
    );
    run.events.push(
      syscallEvent(record, call, `${outcome.error ? `error (${outcome.error})` : "allow"}${cited}`),
    );
    if (outcome.error) {
      run.messages.push(toolMessage(call, { error: outcome.error }, true));
      continue;
    }
    if (decision.capability !== "proc.finish") run.countedCalls++;
    logCall(h, decision.capability, Date.now());
    const done = outcome.outcome!;
    if (done.kind === "result") run.messages.push(done.message);
    else if (done.kind === "exit") {
      run.exit = { result: done.result };
      run.messages.push(done.message);
    } else run.block = done.waitingOn;
  }
  return run;
}

/** Validates the arguments and runs an allowed call. */
async function runAllowedCall(
  h: LoopHost,
  record: ProcessRecord,
  call: ToolCall,
  stepNo: number,
  index: number,
  capability: Capability | undefined,
): Promise<{ outcome?: CallOutcome; error?: string }> {
  if (!isBuiltinTool(call.name)) {
    const db = openDb(h.processEnv.DB);
    const name = capabilityOfTool(call.name);
    const cap = capability ?? (await findCapabilities(db, record.tenantId, [name])).get(name);
    if (!cap || cap.provider === "builtin")
      return { error: `${name} has no provider that can run it` };
    const result = await callProviderTool(db, cap, call.arguments);
    if (!result.ok) return { error: result.error };
    return { outcome: { kind: "result", message: toolMessage(call, result.value) } };
  }
  return runBuiltinTool({ h, record, call, stepNo, index });
}

/** Records an approval request for `call` and returns what the process waits on. */
async function parkForApproval(
  h: LoopHost,
  record: ProcessRecord,
  call: ToolCall,
  decision: Extract<GateDecision, { approval: true }>,
  stepNo: number,
  index: number,
  ctx: GateContext,
): Promise<Extract<WaitingOn, { kind: "approval" }>> {
  const nowMs = Date.now();
  // Derived from (process, step, call): a step repeated after a crash finds the same request.
  const id = `apr_${(await sha256Hex(`${record.id}:${stepNo}:${index}`)).slice(0, 32)}`;
  const ttlMs = Number(h.processEnv.APPROVAL_TTL_MS ?? DEFAULT_APPROVAL_TTL_MS);
  const row = await createApproval(openDb(h.processEnv.DB), {
    id,
    tenantId: record.tenantId,
    processId: record.id,
    principal: record.id,
    capability: decision.capability,
    argumentsJson: JSON.stringify({
      toolName: call.name,
      arguments: call.arguments,
      step: stepNo,
      index,
    }),
    risk: ctx.capabilities.get(decision.capability)?.risk ?? "high",
    status: "pending",
    policyIdsJson: JSON.stringify(decision.policyIds),
    reason: null,
    decidedBy: null,
    createdAtMs: nowMs,
    expiresAtMs: nowMs + ttlMs,
    decidedAtMs: null,
  });
  return {
    kind: "approval",
    approvalId: row.id,
    toolCallId: call.id,
    until: new Date(row.expiresAtMs).toISOString(),
  };
}

export type WakeCheck =
  | { kind: "now"; message: ChatMessage }
  | { kind: "exit"; result: unknown; message: ChatMessage }
  | { kind: "block"; waitingOn: WaitingOn }
  | { kind: "later"; atMs: number | null };

/** Whether what a waiting process waits for has happened, and what to do about it. */
export async function wakeResult(
  h: LoopHost,
  record: ProcessRecord,
  waitingOn: WaitingOn,
): Promise<WakeCheck> {
  if (waitingOn.kind === "sleep") {
    const untilMs = Date.parse(waitingOn.until);
    if (Date.now() < untilMs) return { kind: "later", atMs: untilMs };
    return {
      kind: "now",
      message: toolMessage({ id: waitingOn.toolCallId, name: "sleep" }, { slept: true }),
    };
  }
  if (waitingOn.kind === "child") {
    const outcome = await checkChild(h, record, waitingOn.processId);
    if (outcome.kind === "running") return { kind: "later", atMs: null };
    const value = outcome.kind === "ended" ? outcome.value : { error: outcome.error };
    return {
      kind: "now",
      message: toolMessage(
        { id: waitingOn.toolCallId, name: "wait" },
        value,
        outcome.kind === "error",
      ),
    };
  }
  if (waitingOn.kind === "message") return messageWake(h, record, waitingOn);
  return approvalOutcome(h, record, waitingOn);
}

/**
 * A parked call's fate: still pending (wait until its deadline), expired or denied (the call
 * fails with the reason), or approved (the call runs now, once: a marker in the process's
 * storage makes a crash mid-call report an unknown outcome rather than run it twice).
 */
async function approvalOutcome(
  h: LoopHost,
  record: ProcessRecord,
  waitingOn: Extract<WaitingOn, { kind: "approval" }>,
): Promise<WakeCheck> {
  const db = openDb(h.processEnv.DB);
  const nowMs = Date.now();
  let row = await getApproval(db, record.tenantId, waitingOn.approvalId);
  if (!row)
    return {
      kind: "now",
      message: toolMessage(
        { id: waitingOn.toolCallId, name: "approval" },
        { error: "approval request vanished" },
        true,
      ),
    };
  const parked = JSON.parse(row.argumentsJson) as {
    toolName: string;
    arguments: Record<string, unknown>;
    step: number;
    index: number;
  };
  const { toolName, arguments: args } = parked;
  const call: ToolCall = { id: waitingOn.toolCallId, name: toolName, arguments: args };
  if (row.status === "pending") {
    if (row.expiresAtMs > nowMs) return { kind: "later", atMs: row.expiresAtMs };
    const expired = await expireApproval(db, record.tenantId, row.id, nowMs);
    if (expired) {
      await writeAudit(
        db,
        {
          tenantId: record.tenantId,
          actor: "kernel",
          actorRole: "system",
          action: "approval.expire",
          target: row.id,
          decision: "deny",
          status: 410,
          requestId: row.id,
          detail: { processId: record.id, capability: row.capability },
        },
        nowMs,
      );
    }
    row = (await getApproval(db, record.tenantId, waitingOn.approvalId)) ?? row;
  }
  if (row.status === "expired")
    return {
      kind: "now",
      message: toolMessage(
        call,
        { error: "approval expired before anyone decided", approvalId: row.id },
        true,
      ),
    };
  if (row.status === "denied") {
    return {
      kind: "now",
      message: toolMessage(
        call,
        {
          error: `denied by ${row.decidedBy}: ${row.reason ?? "no reason given"}`,
          approvalId: row.id,
        },
        true,
      ),
    };
  }
  if (row.status !== "approved") return { kind: "later", atMs: null };
  const marker = `executing:${row.id}`;
  if (h.store.getKv<boolean>(marker)) {
    return {
      kind: "now",
      message: toolMessage(
        call,
        {
          error:
            "the approved call was interrupted; its outcome is unknown and it was not repeated",
          approvalId: row.id,
        },
        true,
      ),
    };
  }
  h.store.putKv(marker, true);
  const outcome = await runAllowedCall(h, record, call, parked.step, parked.index, undefined);
  logCall(h, row.capability, Date.now());
  if (outcome.error)
    return { kind: "now", message: toolMessage(call, { error: outcome.error }, true) };
  const done = outcome.outcome!;
  if (done.kind === "result") return { kind: "now", message: done.message };
  if (done.kind === "exit") return { kind: "exit", result: done.result, message: done.message };
  return { kind: "block", waitingOn: done.waitingOn };
}
