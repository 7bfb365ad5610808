import { describe, expect, it } from "vitest";
import { taskOf, taskStateOf } from "../../src/a2a/task-view";
import type { ProcessRecord, WaitingOn } from "../../src/kernel/process/record";

const SLEEP: WaitingOn = { kind: "sleep", until: "2030-01-01T00:00:00.000Z", toolCallId: "c1" };
const APPROVAL: WaitingOn = {
  kind: "approval",
  approvalId: "apr_1",
  toolCallId: "c2",
  until: "2030-01-01T00:00:00.000Z",
};

function record(fields: Partial<ProcessRecord>): ProcessRecord {
  return {
    id: "proc_0000000000007000800000000000000a",
    tenantId: "ten_0000000000007000800000000000000a",
    type: { name: "assistant", version: "1.0.0" },
    goal: "the goal",
    priority: 1,
    labels: {},
    parentId: null,
    status: "running",
    pausedFrom: null,
    budget: {
      maxTokens: 1,
      maxToolCalls: 1,
      wallClockMs: 1_000,
      maxCostMicroUsd: 0,
      deadlineAt: "2030-01-01T00:00:00.000Z",
    },
    usage: { tokensIn: 0, tokensOut: 0, toolCalls: 0, costMicroUsd: 0 },
    capabilities: [],
    model: "scripted",
    pool: "scripted",
    stats: { steps: 0, modelCalls: 0, retries: 0, waitMs: 0, runMs: 0 },
    note: null,
    pendingPause: null,
    waitingOn: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:01.000Z",
    exitReason: null,
    result: null,
    version: 3,
    ...fields,
  } as ProcessRecord;
}

describe("process states as A2A task states", () => {
  const cases: Array<[string, Partial<ProcessRecord>, string]> = [
    ["created", { status: "created" }, "TASK_STATE_SUBMITTED"],
    ["ready", { status: "ready" }, "TASK_STATE_WORKING"],
    ["running", { status: "running" }, "TASK_STATE_WORKING"],
    ["waiting on a sleep", { status: "waiting", waitingOn: SLEEP }, "TASK_STATE_WORKING"],
    [
      "waiting on the human gate",
      { status: "waiting", waitingOn: APPROVAL },
      "TASK_STATE_INPUT_REQUIRED",
    ],
    ["paused from created", { status: "paused", pausedFrom: "created" }, "TASK_STATE_SUBMITTED"],
    ["paused from running", { status: "paused", pausedFrom: "running" }, "TASK_STATE_WORKING"],
    [
      "paused while at the gate",
      { status: "paused", pausedFrom: "waiting", waitingOn: APPROVAL },
      "TASK_STATE_INPUT_REQUIRED",
    ],
    ["exited", { status: "exited", result: "ok" }, "TASK_STATE_COMPLETED"],
    ["failed", { status: "failed", exitReason: "boom" }, "TASK_STATE_FAILED"],
    ["budget_exhausted", { status: "budget_exhausted" }, "TASK_STATE_FAILED"],
    ["terminated", { status: "terminated" }, "TASK_STATE_CANCELED"],
  ];
  for (const [name, fields, state] of cases) {
    it(`${name} → ${state}`, () => {
      expect(taskStateOf(record(fields))).toBe(state);
    });
  }
});

describe("the task of a process", () => {
  it("carries a string result as a text artifact and anything else as JSON data", () => {
    expect(taskOf(record({ status: "exited", result: "done" })).artifacts).toEqual([
      { artifactId: "result", name: "result", parts: [{ text: "done" }] },
    ]);
    expect(taskOf(record({ status: "exited", result: { n: 3 } })).artifacts?.[0]?.parts).toEqual([
      { data: { n: 3 }, mediaType: "application/json" },
    ]);
  });

  it("uses the context label, or the process id without one", () => {
    expect(taskOf(record({ labels: { "a2a.context": "ctx-9" } })).contextId).toBe("ctx-9");
    expect(taskOf(record({})).contextId).toBe("proc_0000000000007000800000000000000a");
  });

  it("says why a task failed, and which approval an input-required task waits for", () => {
    const failed = taskOf(record({ status: "failed", exitReason: "model unavailable" }));
    expect(failed.status.message?.parts).toEqual([{ text: "model unavailable" }]);
    const gated = taskOf(record({ status: "waiting", waitingOn: APPROVAL }));
    expect(gated.status.message?.metadata).toEqual({ approvalId: "apr_1" });
  });

  it("includes the goal as history unless historyLength is 0, and artifacts unless excluded", () => {
    const done = record({ status: "exited", result: "r" });
    expect(taskOf(done).history?.[0]?.parts).toEqual([{ text: "the goal" }]);
    expect(taskOf(done, { historyLength: 0 }).history).toBeUndefined();
    expect(taskOf(done, { includeArtifacts: false }).artifacts).toBeUndefined();
  });
});
