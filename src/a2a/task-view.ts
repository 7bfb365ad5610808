/**
 * A process seen as an A2A task. The task id is the process id; the context id is the process's
 * `a2a.context` label (a process spawned some other way is its own context). The mapping of
 * states:
 *
 *   created                                   → submitted
 *   ready, running, waiting (sleep/child/…)   → working
 *   waiting on an approval (the human gate)   → input-required
 *   paused                                    → as the state it was paused from (documented choice:
 *                                               the work is not over, and A2A has no "paused");
 *                                               `metadata["edgekernel.status"]` says "paused"
 *   exited                                    → completed, the result as the "result" artifact
 *   failed, budget_exhausted                  → failed
 *   terminated                                → canceled
 */

import type { ProcessRecord } from "../kernel/process/record.js";
import type { TaskState, WireArtifact, WireMessage, WirePart, WireTask } from "./protocol.js";

/** The process label that holds the A2A context id. */
export const CONTEXT_LABEL = "a2a.context";

/** The artifact id (and name) under which a completed task's result appears. */
export const RESULT_ARTIFACT_ID = "result";

/** The A2A state of a process record. */
export function taskStateOf(record: Pick<ProcessRecord, "status" | "pausedFrom" | "waitingOn">) {
  const status = record.status === "paused" ? (record.pausedFrom ?? "ready") : record.status;
  const state: TaskState = (() => {
    switch (status) {
      case "created":
        return "TASK_STATE_SUBMITTED";
      case "waiting":
        return record.waitingOn?.kind === "approval"
          ? "TASK_STATE_INPUT_REQUIRED"
          : "TASK_STATE_WORKING";
      case "ready":
      case "running":
        return "TASK_STATE_WORKING";
      case "exited":
        return "TASK_STATE_COMPLETED";
      case "failed":
      case "budget_exhausted":
        return "TASK_STATE_FAILED";
      case "terminated":
        return "TASK_STATE_CANCELED";
      default:
        return "TASK_STATE_WORKING";
    }
  })();
  return state;
}

/** The context id of a process: its label, or its own id when it has none. */
export function contextIdOf(record: Pick<ProcessRecord, "id" | "labels">): string {
  return record.labels[CONTEXT_LABEL] ?? record.id;
}

/** A process result as parts: a string as text, anything else as JSON data. */
export function resultParts(result: unknown): WirePart[] {
  if (typeof result === "string") return [{ text: result }];
  return [{ data: result ?? null, mediaType: "application/json" }];
}

/** The "result" artifact of an exited process. */
export function resultArtifact(record: Pick<ProcessRecord, "result">): WireArtifact {
  return {
    artifactId: RESULT_ARTIFACT_ID,
    name: RESULT_ARTIFACT_ID,
    parts: resultParts(record.result),
  };
}

/** The agent's status message: the result, why it failed, or what it waits for. */
function statusMessage(record: ProcessRecord, state: TaskState): WireMessage | undefined {
  const base = {
    messageId: `${record.id}-status-${record.version}`,
    taskId: record.id,
    contextId: contextIdOf(record),
    role: "ROLE_AGENT" as const,
  };
  if (state === "TASK_STATE_COMPLETED") return { ...base, parts: resultParts(record.result) };
  if (state === "TASK_STATE_INPUT_REQUIRED" && record.waitingOn?.kind === "approval") {
    const approvalId = record.waitingOn.approvalId;
    return {
      ...base,
      parts: [
        {
          text: `waiting for a human to approve request ${approvalId} (POST /v1/approvals/${approvalId}/approve or /deny) before ${record.waitingOn.until}`,
        },
      ],
      metadata: { approvalId },
    };
  }
  const reason = record.exitReason ?? record.note;
  if (reason && (state === "TASK_STATE_FAILED" || state === "TASK_STATE_CANCELED")) {
    return { ...base, parts: [{ text: reason }] };
  }
  return undefined;
}

export interface TaskViewOptions {
  /** How many history messages to include; undefined means all (the goal is the only one). */
  historyLength?: number | undefined;
  /** Include artifacts (ListTasks leaves them out unless asked). */
  includeArtifacts?: boolean | undefined;
}

/**
 * The A2A task for a process record.
 *
 * @example taskOf(record).status.state // "TASK_STATE_WORKING"
 */
export function taskOf(record: ProcessRecord, options: TaskViewOptions = {}): WireTask {
  const state = taskStateOf(record);
  const contextId = contextIdOf(record);
  const message = statusMessage(record, state);
  const task: WireTask = {
    id: record.id,
    contextId,
    status: { state, timestamp: record.updatedAt, ...(message ? { message } : {}) },
    metadata: {
      "edgekernel.status": record.status,
      "edgekernel.type": `${record.type.name}@${record.type.version}`,
    },
  };
  if (state === "TASK_STATE_COMPLETED" && options.includeArtifacts !== false) {
    task.artifacts = [resultArtifact(record)];
  }
  if (options.historyLength !== 0) {
    task.history = [
      {
        messageId: `${record.id}-goal`,
        taskId: record.id,
        contextId,
        role: "ROLE_USER",
        parts: [{ text: record.goal }],
      },
    ];
  }
  return task;
}
