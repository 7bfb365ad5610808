// The official @a2a-js/sdk client, resolving cards and calling the methods by the names it
// speaks, with its fetch handed to the Worker under test.

import {
  CancelTaskRequest,
  GetTaskRequest,
  ListTasksRequest,
  SendMessageRequest,
  TaskState,
} from "@a2a-js/sdk";
import { beforeAll, describe, expect, it } from "vitest";
import { defineType, finishTurn, newTenant, SLEEP_SCRIPT, type TestTenant } from "../helpers";
import { sdkClient } from "./rpc";

/** A SendMessage request with one text part, built by the SDK from its JSON form. */
function textRequest(text: string, configuration?: Record<string, unknown>) {
  return SendMessageRequest.fromJSON({
    message: { messageId: crypto.randomUUID(), role: "ROLE_USER", parts: [{ text }] },
    ...(configuration ? { configuration } : {}),
  });
}

describe("the @a2a-js/sdk client", () => {
  let t: TestTenant;
  let finisher: string;
  let sleeper: string;
  beforeAll(async () => {
    t = await newTenant("a2a-sdk");
    finisher = await defineType(t, { script: [finishTurn("done by the book")] });
    sleeper = await defineType(t, { script: SLEEP_SCRIPT });
  });

  it("sends a message and gets the completed task with its result", async () => {
    const client = await sdkClient(t.operator, finisher);
    const result = await client.sendMessage(textRequest("do it"));
    if (!("status" in result)) throw new Error(`expected a task, got ${JSON.stringify(result)}`);
    expect(result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(result.artifacts[0]?.parts[0]?.content).toEqual({
      $case: "text",
      value: "done by the book",
    });

    const got = await client.getTask(GetTaskRequest.fromJSON({ id: result.id }));
    expect(got.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const listed = await client.listTasks(ListTasksRequest.fromJSON({ pageSize: 10 }));
    expect(listed.tasks.map((x) => x.id)).toContain(result.id);
  });

  it("streams a message to completion", async () => {
    const client = await sdkClient(t.operator, finisher);
    const seen: string[] = [];
    let finalState: TaskState | undefined;
    for await (const event of client.sendMessageStream(textRequest("stream"))) {
      const payload = event.payload;
      if (!payload) continue;
      seen.push(payload.$case);
      if (payload.$case === "statusUpdate") finalState = payload.value.status?.state;
    }
    expect(seen[0]).toBe("task");
    expect(seen).toContain("artifactUpdate");
    expect(finalState).toBe(TaskState.TASK_STATE_COMPLETED);
  });

  it("cancels a task, and reports the spec's errors as the SDK's error classes", async () => {
    const client = await sdkClient(t.operator, sleeper);
    const started = await client.sendMessage(textRequest("sleep", { returnImmediately: true }));
    if (!("status" in started)) throw new Error("expected a task");
    const canceled = await client.cancelTask(CancelTaskRequest.fromJSON({ id: started.id }));
    expect(canceled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    await expect(
      client.cancelTask(CancelTaskRequest.fromJSON({ id: started.id })),
    ).rejects.toMatchObject({ name: "TaskNotCancelableError" });
    await expect(
      client.getTask(GetTaskRequest.fromJSON({ id: "proc_00000000000070008000000000000000" })),
    ).rejects.toMatchObject({ name: "TaskNotFoundError" });
  });
});
