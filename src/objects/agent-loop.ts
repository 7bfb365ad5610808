/**
 * The agent loop: one step per alarm of an AgentProcess. A step asks the pool's scheduler for
 * a lease, builds the context, calls the model, runs the returned tool calls through the
 * system-call gate, records usage, and persists everything the step produced in one
 * transaction. A crash before that transaction repeats the step (its model call and its
 * idempotent tool calls); a crash after it cannot lose or repeat it.
 */

import type { Env } from "../env.js";
import { toolNameOfCapability, toolsFor } from "../kernel/agent/builtin-tools.js";
import { buildContext, estimateTextTokens } from "../kernel/agent/context.js";
import { nextRetry } from "../kernel/capacity/backoff.js";
import { createRng } from "../kernel/capacity/random.js";
import { budgetExhaustion, remainingTokens } from "../kernel/process/budget.js";
import { applyEvent, type PendingEvent, type Stepped } from "../kernel/process/lifecycle.js";
import type { ProcessRecord } from "../kernel/process/record.js";
import { isTerminal, type ProcessEvent } from "../kernel/process/state.js";
import { costMicroUsd } from "../kernel/scheduler/pool-config.js";
import { createModelClient } from "../llm/registry.js";
import type { ScriptedTurn } from "../llm/scripted.js";
import {
  type ChatMessage,
  ModelCallError,
  type ModelResponse,
  type ModelTool,
} from "../llm/types.js";
import { findCapabilities } from "../store/capabilities.js";
import { openDb } from "../store/db.js";
import { compactHistory } from "./memory-compaction.js";
import type { ProcessStore } from "./process-store.js";
import { schedulerStub } from "./scheduler.js";
import type { Lease, LeaseOutcome } from "./scheduler-types.js";
import { runToolCalls, wakeResult } from "./syscalls.js";

/** How often a process whose lease request is queued asks again, in case a grant was lost. */
export const QUEUED_RECHECK_MS = 30_000;

/** What the loop needs from the object that runs it. */
export interface LoopHost {
  readonly store: ProcessStore;
  readonly processEnv: Env;
  inflight: AbortController | null;
  commit(stepped: Stepped, extra?: () => void): Promise<ProcessRecord>;
  end(record: ProcessRecord, event: "exhaust" | "fail", reason: string): Promise<ProcessRecord>;
  afterEnd(record: ProcessRecord): Promise<void>;
  setAlarmAt(atMs: number): Promise<void>;
}

function step(
  record: ProcessRecord,
  event: ProcessEvent,
  reason: string | null,
  nowMs: number,
): Stepped {
  return applyEvent(record, event, { nowMs, actor: "kernel", reason });
}

function chain(a: Stepped, event: ProcessEvent, reason: string | null, nowMs: number): Stepped {
  const b = step(a.record, event, reason, nowMs);
  return { record: b.record, events: [...a.events, ...b.events] };
}

async function completeLease(env: Env, lease: Lease, outcome: LeaseOutcome): Promise<void> {
  await schedulerStub(env, lease.pool).completeLease(lease.pool, lease.leaseId, outcome);
}

/** Gives back a lease that ran no call (or whose call was aborted), after `runMs` of holding it. */
export async function returnLease(env: Env, lease: Lease, runMs = 0): Promise<void> {
  await completeLease(env, lease, { ...ABORTED, runMs });
}

const ABORTED: Omit<LeaseOutcome, "runMs"> = {
  status: "aborted",
  inputTokens: 0,
  outputTokens: 0,
  retryAfterMs: null,
};

/** Gets a lease for the next step, or leaves the process ready with a note saying why not. */
async function acquireLease(
  h: LoopHost,
  record: ProcessRecord,
  nowMs: number,
): Promise<Lease | null> {
  const held = h.store.getKv<Lease>("lease");
  if (held && held.expiresAtMs > nowMs) return held;
  h.store.deleteKv("lease");
  const system = h.store.getKv<string>("systemPrompt") ?? "";
  const history = h.store.messages();
  const inputTokens = Math.min(
    estimateTextTokens(system) +
      estimateTextTokens(record.goal) +
      history.reduce((n, m) => n + estimateTextTokens(m.content), 0),
    remainingTokens(record) + 1,
  );
  const reply = await schedulerStub(h.processEnv, record.pool).requestLease(record.pool, {
    taskId: `${record.id}:${record.stats.steps + 1}`,
    processId: record.id,
    tenantId: record.tenantId,
    priority: record.priority,
    enqueuedAtMs: h.store.getKv<number>("readySinceMs") ?? nowMs,
    inputTokens: Math.max(1, inputTokens),
    maxOutputTokens: Math.max(1, remainingTokens(record)),
    budgetTokens: record.budget.maxTokens,
    spentTokens: record.usage.tokensIn + record.usage.tokensOut,
  });
  const now = h.store.load();
  if (now?.status !== "ready") {
    if (reply.kind === "granted") await returnLease(h.processEnv, reply.lease);
    return null;
  }
  switch (reply.kind) {
    case "granted":
      h.store.putKv("lease", reply.lease);
      return reply.lease;
    case "queued":
      if (now.note !== reply.note)
        await h.commit({
          record: { ...now, note: reply.note, version: now.version + 1 },
          events: [],
        });
      await h.setAlarmAt(Date.now() + QUEUED_RECHECK_MS);
      return null;
    case "end":
      await h.end(now, "exhaust", reply.note);
      return null;
    case "refused":
      await h.end(now, "fail", reply.note);
      return null;
  }
}

/**
 * Runs the next step of a ready process, if it can get a lease. Called from the alarm only, so
 * steps of one process never overlap.
 */
export async function runStep(h: LoopHost): Promise<void> {
  const env = h.processEnv;
  let record = h.store.load();
  if (record?.status !== "ready") return;
  const spent = budgetExhaustion(record, Date.now());
  if (spent) {
    await h.end(record, "exhaust", spent);
    return;
  }
  const lease = await acquireLease(h, record, Date.now());
  if (!lease) return;
  record = h.store.load()!;
  if (record.status !== "ready") return;

  // Dispatch: ready → running, charging the time it waited for capacity.
  const startedMs = Date.now();
  const readySince = h.store.getKv<number>("readySinceMs") ?? startedMs;
  const dispatched = step(record, "dispatch", null, startedMs);
  record = await h.commit({
    record: {
      ...dispatched.record,
      note: null,
      stats: { ...record.stats, waitMs: record.stats.waitMs + Math.max(0, startedMs - readySince) },
    },
    events: dispatched.events,
  });
  // If the object dies mid-step, this alarm runs the step again once the lease has lapsed.
  await h.setAlarmAt(lease.expiresAtMs + 1_000);

  const stepNo = record.stats.steps + 1;
  const system = h.store.getKv<string>("systemPrompt") ?? "";
  const tools = [...toolsFor(record.capabilities), ...(await externalTools(env, record))];
  const maxOutputTokens = Math.max(1, Math.min(lease.maxOutputTokens, remainingTokens(record)));
  const history = h.store.messages();
  const toolTokens = estimateTextTokens(JSON.stringify(tools));
  const contextWindowTokens = lease.contextWindowTokens;
  // Short-term memory: old turns are compacted into a summary before the window would drop them.
  const view = compactHistory(h, {
    record,
    system,
    history,
    contextWindowTokens,
    maxOutputTokens,
    toolTokens,
  });
  const context = buildContext({
    system,
    goal: record.goal,
    history: view.history,
    summary: view.summary,
    contextWindowTokens,
    maxOutputTokens,
    toolTokens,
  });
  const client = createModelClient(record.model, env, {
    script: h.store.getKv<ScriptedTurn[]>("script") ?? [],
  });
  const controller = new AbortController();
  h.inflight = controller;
  let response: ModelResponse | null = null;
  let failure: ModelCallError | null = null;
  try {
    response = await client.generate({
      system: context.system,
      messages: context.messages,
      tools,
      maxOutputTokens,
      signal: controller.signal,
      assistantTurnsSoFar: history.filter((m) => m.role === "assistant").length,
    });
  } catch (error) {
    failure =
      error instanceof ModelCallError
        ? error
        : new ModelCallError(error instanceof Error ? error.message : String(error), {
            status: null,
          });
  } finally {
    h.inflight = null;
  }
  const runMs = Date.now() - startedMs;

  record = h.store.load()!;
  if (record.status !== "running") {
    // Terminated mid-call: the call was aborted and its result, if any, is discarded.
    await returnLease(env, lease, runMs);
    return;
  }
  if (failure || !response) {
    await handleFailure(h, record, lease, failure!, runMs);
    return;
  }
  await finishStep(h, record, lease, response, stepNo, startedMs);
}

/** A failed model call: give the lease back, then retry with backoff or fail the process. */
async function handleFailure(
  h: LoopHost,
  record: ProcessRecord,
  lease: Lease,
  failure: ModelCallError,
  runMs: number,
): Promise<void> {
  const env = h.processEnv;
  const status =
    failure.status === 429
      ? "rate_limited"
      : failure.status === null || failure.status >= 500 || failure.status === 408
        ? "transient"
        : "fatal";
  await completeLease(env, lease, {
    status,
    inputTokens: 0,
    outputTokens: 0,
    retryAfterMs: failure.retryAfterMs,
    runMs,
  });
  h.store.deleteKv("lease");
  const attempts = (h.store.getKv<number>("attempts") ?? 0) + 1;
  const seed = new Uint32Array(1);
  crypto.getRandomValues(seed);
  const decision = nextRetry(
    attempts,
    failure.status,
    failure.retryAfterMs,
    lease.retry,
    createRng(seed[0] ?? 1),
  );
  const nowMs = Date.now();
  const what = failure.status === null ? "no response" : `HTTP ${failure.status}`;
  if (!decision.retry) {
    const why =
      decision.reason === "attempts_exhausted" ? `after ${attempts} attempts` : "(not retryable)";
    await h.end(record, "fail", `model call failed ${why}: ${what}: ${failure.message}`);
    return;
  }
  const note = `retrying after ${what} in ${decision.delayMs} ms (attempt ${attempts + 1} of ${lease.retry.maxAttempts})`;
  let stepped = step(record, "yield", note, nowMs);
  stepped = {
    record: {
      ...stepped.record,
      note,
      stats: {
        ...record.stats,
        retries: record.stats.retries + 1,
        runMs: record.stats.runMs + runMs,
      },
    },
    events: stepped.events,
  };
  if (record.pendingPause) stepped = chain(stepped, "pause", record.pendingPause.reason, nowMs);
  // readySinceMs stays as it was: a retry keeps its place in arrival order (and its wait counts).
  await h.commit(stepped, () => h.store.putKv("attempts", attempts));
  if (stepped.record.status === "ready") await h.setAlarmAt(nowMs + decision.delayMs);
}

/** The external (MCP-provided) tools among the process's capabilities, as the model sees them. */
async function externalTools(env: Env, record: ProcessRecord): Promise<ModelTool[]> {
  const external = record.capabilities.filter((c) => !c.startsWith("proc."));
  if (external.length === 0) return [];
  const found = await findCapabilities(openDb(env.DB), record.tenantId, external);
  return [...found.values()]
    .filter((c) => c.provider !== "builtin")
    .map((c) => ({
      name: toolNameOfCapability(c.fullName),
      description: c.description,
      inputSchema: c.inputSchema,
    }));
}

/** Runs the tools, then persists the whole step and moves the process on, in one transaction. */
async function finishStep(
  h: LoopHost,
  before: ProcessRecord,
  lease: Lease,
  response: ModelResponse,
  stepNo: number,
  startedMs: number,
): Promise<void> {
  const env = h.processEnv;
  const tools = await runToolCalls(h, before, response.toolCalls, stepNo);
  const nowMs = Date.now();
  let record = h.store.load()!;
  const cost = costMicroUsd(lease.pricing, response.usage.inputTokens, response.usage.outputTokens);
  const assistant: ChatMessage = {
    role: "assistant",
    content: response.text,
    toolCalls: response.toolCalls,
  };
  const updated: ProcessRecord = {
    ...record,
    usage: {
      tokensIn: record.usage.tokensIn + response.usage.inputTokens,
      tokensOut: record.usage.tokensOut + response.usage.outputTokens,
      toolCalls: record.usage.toolCalls + tools.countedCalls,
      costMicroUsd: record.usage.costMicroUsd + cost,
    },
    stats: {
      ...record.stats,
      steps: stepNo,
      modelCalls: record.stats.modelCalls + 1,
      runMs: record.stats.runMs + (nowMs - startedMs),
    },
    version: record.version + 1,
  };
  const stepEvent: PendingEvent = {
    atMs: nowMs,
    event: "step",
    from: record.status,
    to: record.status,
    actor: "kernel",
    reason: `step ${stepNo}: ${response.usage.inputTokens} in, ${response.usage.outputTokens} out, ${response.toolCalls.length} tool calls`,
  };
  let stepped: Stepped = { record: updated, events: [stepEvent, ...tools.events] };
  if (record.status === "running") {
    const spent =
      budgetExhaustion(updated, nowMs) ??
      (tools.budgetDenied ? `tool-call budget of ${updated.budget.maxToolCalls} spent` : null);
    if (tools.exit) {
      stepped = chain(stepped, "exit", "finished", nowMs);
      stepped.record = { ...stepped.record, result: (tools.exit.result ?? null) as never };
    } else if (spent) {
      stepped = chain(stepped, "exhaust", spent, nowMs);
      stepped.record = { ...stepped.record, note: spent };
    } else if (tools.block) {
      stepped = chain(stepped, "block", null, nowMs);
      stepped.record = { ...stepped.record, waitingOn: tools.block };
    } else {
      stepped = chain(stepped, "yield", null, nowMs);
    }
    if (record.pendingPause && !isTerminal(stepped.record.status)) {
      stepped = chain(stepped, "pause", record.pendingPause.reason, nowMs);
    }
  }
  record = await h.commit(stepped, () => {
    h.store.appendMessages(stepNo, [assistant, ...tools.messages]);
    h.store.deleteKv("lease");
    h.store.deleteKv("attempts");
    h.store.putKv("readySinceMs", nowMs);
  });
  await completeLease(env, lease, {
    status: "ok",
    inputTokens: response.usage.inputTokens,
    outputTokens: response.usage.outputTokens,
    retryAfterMs: null,
    runMs: nowMs - startedMs,
  });
  if (isTerminal(record.status)) {
    await h.afterEnd(record);
  } else if (record.status === "ready") {
    await h.setAlarmAt(Date.now());
  } else if (record.status === "waiting" && record.waitingOn?.kind === "sleep") {
    await h.setAlarmAt(Date.parse(record.waitingOn.until));
  } else if (record.status === "waiting" && record.waitingOn?.kind === "approval") {
    await h.setAlarmAt(Date.parse(record.waitingOn.until));
  } else if (record.status === "waiting") {
    await h.setAlarmAt(Date.now()); // a child may have ended already
  }
}

/** Wakes a waiting process whose sleep is over, whose child has ended, or whose approval is decided. */
export async function tryWake(h: LoopHost): Promise<void> {
  const record = h.store.load();
  if (record?.status !== "waiting" || !record.waitingOn) return;
  const result = await wakeResult(h, record, record.waitingOn);
  const now = h.store.load()!;
  if (now.status !== "waiting" || !now.waitingOn) return;
  const nowMs = Date.now();
  switch (result.kind) {
    case "later":
      if (result.atMs !== null) await h.setAlarmAt(result.atMs);
      return;
    case "block": {
      await h.commit({
        record: { ...now, waitingOn: result.waitingOn, version: now.version + 1 },
        events: [],
      });
      const on = result.waitingOn;
      await h.setAlarmAt(on.kind === "sleep" ? Date.parse(on.until) : nowMs);
      return;
    }
    case "exit": {
      // An approved finish(): the process leaves through running, as every exit does.
      let stepped = chain(step(now, "wake", null, nowMs), "dispatch", null, nowMs);
      stepped = chain(stepped, "exit", "finished", nowMs);
      stepped.record = { ...stepped.record, result: (result.result ?? null) as never };
      const ended = await h.commit(stepped, () =>
        h.store.appendMessages(now.stats.steps, [result.message]),
      );
      await h.afterEnd(ended);
      return;
    }
    case "now": {
      const woken = step(now, "wake", null, nowMs);
      await h.commit(woken, () => {
        h.store.appendMessages(now.stats.steps, [result.message]);
        h.store.putKv("readySinceMs", nowMs);
      });
      await h.setAlarmAt(nowMs);
    }
  }
}
