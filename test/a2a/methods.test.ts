import { beforeAll, describe, expect, it } from "vitest";
import {
  call,
  defineType,
  finishTurn,
  newTenant,
  SLEEP_SCRIPT,
  spawnIdle,
  type TestTenant,
  until,
} from "../helpers";
import { workerFetch } from "../mcp/client";
import { ORIGIN, rpc, sseEvents, type Task, userMessage } from "./rpc";

const isTask = (t: Task | undefined): t is Task => t !== undefined;

describe("SendMessage and GetTask", () => {
  let t: TestTenant;
  let finisher: string;
  let sleeper: string;
  beforeAll(async () => {
    t = await newTenant("a2a");
    finisher = await defineType(t, { script: [finishTurn("all three incidents resolved")] });
    sleeper = await defineType(t, { script: SLEEP_SCRIPT });
  });

  it("spawns a process of the type, waits for it, and returns the completed task with its result", async () => {
    const contextId = `ctx-${crypto.randomUUID()}`;
    const res = await rpc(`/a2a/${finisher}`, t.operator, "SendMessage", {
      message: userMessage("summarise the incidents", { contextId }),
    });
    expect(res.status).toBe(200);
    expect(res.body.error).toBeUndefined();
    const task = res.body.result?.task;
    expect(task?.id).toMatch(/^proc_/);
    expect(task?.contextId).toBe(contextId);
    expect(task?.status.state).toBe("TASK_STATE_COMPLETED");
    expect(task?.artifacts).toEqual([
      { artifactId: "result", name: "result", parts: [{ text: "all three incidents resolved" }] },
    ]);
    // The task is the process: same id, goal from the message, context as a label.
    const proc = await call<{ goal: string; labels: Record<string, string>; status: string }>(
      "GET",
      `/v1/processes/${task?.id}`,
      { token: t.reader },
    );
    expect(proc.body).toMatchObject({
      goal: "summarise the incidents",
      labels: { "a2a.context": contextId },
      status: "exited",
    });
  });

  it("returns at once when asked, and GetTask follows the task to completion", async () => {
    const res = await rpc(`/a2a/${finisher}`, t.operator, "SendMessage", {
      message: userMessage("go"),
      configuration: { returnImmediately: true },
    });
    const task = res.body.result?.task;
    expect(["TASK_STATE_SUBMITTED", "TASK_STATE_WORKING"]).toContain(task?.status.state);
    await until(t.reader, task!.id, (p) => p.status === "exited");
    const got = await rpc(`/a2a/${finisher}`, t.reader, "GetTask", { id: task!.id });
    expect(got.body.result).toMatchObject({
      id: task!.id,
      contextId: task!.contextId,
      status: { state: "TASK_STATE_COMPLETED" },
      artifacts: [{ parts: [{ text: "all three incidents resolved" }] }],
    });
  });

  it("returns the same task when the same message is sent again", async () => {
    const message = userMessage("once only");
    const first = await rpc(`/a2a/${finisher}`, t.operator, "SendMessage", {
      message,
      configuration: { returnImmediately: true },
    });
    const second = await rpc(`/a2a/${finisher}`, t.operator, "SendMessage", {
      message,
      configuration: { returnImmediately: true },
    });
    expect(second.body.result?.task?.id).toBe(first.body.result?.task?.id);
  });

  it("on the deployment endpoint runs the type named in metadata.agentType", async () => {
    const res = await rpc("/a2a", t.operator, "SendMessage", {
      message: userMessage("via the deployment"),
      metadata: { agentType: finisher },
    });
    expect(res.body.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    expect(res.body.result?.task?.metadata["edgekernel.type"]).toBe(`${finisher}@1.0.0`);
  });

  it("a message to a running task goes to its process's mailbox; to an ended one it is refused", async () => {
    const running = await rpc(`/a2a/${sleeper}`, t.operator, "SendMessage", {
      message: userMessage("sleep"),
      configuration: { returnImmediately: true },
    });
    const task = running.body.result!.task!;
    const follow = await rpc(`/a2a/${sleeper}`, t.operator, "SendMessage", {
      message: userMessage("one more thing", { taskId: task.id }),
      configuration: { returnImmediately: true },
    });
    expect(follow.body.error).toBeUndefined();
    expect(follow.body.result?.task?.id).toBe(task.id);
    let mailbox: Array<{ body: { text: string; a2a: { contextId: string } } }> = [];
    for (let i = 0; i < 200 && mailbox.length === 0; i++) {
      const res = await call<{ items: typeof mailbox }>(
        "GET",
        `/v1/messages?processId=${task.id}`,
        { token: t.reader },
      );
      mailbox = res.body.items ?? [];
      if (mailbox.length === 0) await new Promise((r) => setTimeout(r, 25));
    }
    expect(mailbox[0]?.body).toMatchObject({
      text: "one more thing",
      a2a: { contextId: task.contextId },
    });

    // The context must match the task's; a reader may not send.
    const wrongContext = await rpc(`/a2a/${sleeper}`, t.operator, "SendMessage", {
      message: userMessage("x", { taskId: task.id, contextId: "another" }),
    });
    expect(wrongContext.body.error?.code).toBe(-32602);
    expect(wrongContext.body.error?.message).toMatch(/message\.contextId/);
    const byReader = await rpc(`/a2a/${sleeper}`, t.reader, "SendMessage", {
      message: userMessage("x", { taskId: task.id }),
    });
    expect(byReader.body.error?.code).toBe(-32000);

    const done = await rpc(`/a2a/${finisher}`, t.operator, "SendMessage", {
      message: userMessage("finish"),
    });
    const ended = await rpc(`/a2a/${finisher}`, t.operator, "SendMessage", {
      message: userMessage("again", { taskId: done.body.result!.task!.id }),
    });
    expect(ended.body.error?.code).toBe(-32004);
    expect(ended.body.error?.message).toMatch(/TASK_STATE_COMPLETED/);
  });

  it("writes an audit row for each send, naming the task", async () => {
    const res = await rpc(`/a2a/${finisher}`, t.operator, "SendMessage", {
      message: userMessage("audited"),
      configuration: { returnImmediately: true },
    });
    const audit = await call<{ items: Array<{ target: string; decision: string }> }>(
      "GET",
      "/v1/audit?action=a2a.send_message",
      { token: t.admin },
    );
    expect(audit.body.items.find((a) => a.target === res.body.result?.task?.id)).toMatchObject({
      decision: "allow",
    });
  });
});

describe("SendStreamingMessage", () => {
  let t: TestTenant;
  let finisher: string;
  beforeAll(async () => {
    t = await newTenant("a2a-stream");
    finisher = await defineType(t, { script: [{ text: "thinking" }, finishTurn("streamed")] });
  });

  it("streams the task, its status changes, the result artifact, and ends completed", async () => {
    const res = await workerFetch(`${ORIGIN}/a2a/${finisher}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${t.operator}`,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: "s-1",
        method: "SendStreamingMessage",
        params: { message: userMessage("stream it") },
      }),
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await sseEvents(res);
    expect(events.every((e) => e.jsonrpc === "2.0" && e.id === "s-1")).toBe(true);
    const results = events.map((e) => e.result as Record<string, Record<string, unknown>>);
    const first = results[0]?.task as unknown as Task;
    expect(first.id).toMatch(/^proc_/);
    const last = results.at(-1)?.statusUpdate as { taskId: string; status: { state: string } };
    expect(last).toMatchObject({ taskId: first.id, status: { state: "TASK_STATE_COMPLETED" } });
    const artifact = results.find((r) => r.artifactUpdate)?.artifactUpdate as {
      artifact: { parts: Array<{ text: string }> };
    };
    expect(artifact.artifact.parts).toEqual([{ text: "streamed" }]);
    // Each status update is a change: no state repeats back to back.
    const states = results
      .map((r) => (r.statusUpdate as { status?: { state: string } } | undefined)?.status?.state)
      .filter((s) => s !== undefined);
    for (let i = 1; i < states.length; i++) expect(states[i]).not.toBe(states[i - 1]);
  });
});

describe("ListTasks and CancelTask", () => {
  let t: TestTenant;
  let other: TestTenant;
  let finisher: string;
  let sleeper: string;
  beforeAll(async () => {
    t = await newTenant("a2a-list");
    other = await newTenant("a2a-list-other");
    finisher = await defineType(t, { script: [finishTurn("listed")] });
    sleeper = await defineType(t, { script: SLEEP_SCRIPT });
  });

  it("lists the tenant's tasks of a context, one page at a time", async () => {
    const contextId = `ctx-${crypto.randomUUID()}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await rpc(`/a2a/${finisher}`, t.operator, "SendMessage", {
        message: userMessage(`task ${i}`, { contextId }),
      });
      ids.push(res.body.result!.task!.id);
    }
    await rpc(`/a2a/${finisher}`, t.operator, "SendMessage", { message: userMessage("elsewhere") });

    const first = await rpc(`/a2a/${finisher}`, t.reader, "ListTasks", { contextId, pageSize: 2 });
    expect(first.body.result?.tasks?.map((x) => x.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.result?.pageSize).toBe(2);
    expect(first.body.result?.totalSize).toBe(3);
    const token = first.body.result?.nextPageToken;
    expect(token).toBeTruthy();
    const second = await rpc(`/a2a/${finisher}`, t.reader, "ListTasks", {
      contextId,
      pageSize: 2,
      pageToken: token,
    });
    expect(second.body.result?.tasks?.map((x) => x.id)).toEqual([ids[0]]);
    expect(second.body.result?.nextPageToken).toBe("");
    expect(
      second.body.result?.tasks
        ?.filter(isTask)
        .every((x) => x.status.state === "TASK_STATE_COMPLETED"),
    ).toBe(true);

    // Another tenant sees none of them.
    const foreign = await rpc("/a2a", other.reader, "ListTasks", { contextId });
    expect(foreign.body.result?.tasks ?? []).toEqual([]);
  });

  it("filters on a state, and refuses a filter it cannot apply, naming the field", async () => {
    const done = await rpc(`/a2a/${finisher}`, t.reader, "ListTasks", {
      status: "TASK_STATE_COMPLETED",
    });
    expect(done.body.result?.tasks?.length).toBeGreaterThan(0);
    const working = await rpc(`/a2a/${finisher}`, t.reader, "ListTasks", {
      status: "TASK_STATE_WORKING",
    });
    expect(working.body.error?.code).toBe(-32602);
    expect(working.body.error?.message).toMatch(/status/);
    const badToken = await rpc(`/a2a/${finisher}`, t.reader, "ListTasks", {
      pageToken: "bm90LWFuLWlk", // base64url of "not-an-id": well-formed, not ours
    });
    expect(badToken.body.error?.code).toBe(-32602);
    expect(badToken.body.error?.message).toMatch(/pageToken/);
  });

  it("cancels a working task (the process is terminated) and refuses to cancel it twice", async () => {
    const p = await rpc(`/a2a/${sleeper}`, t.operator, "SendMessage", {
      message: userMessage("sleep"),
      configuration: { returnImmediately: true },
    });
    const id = p.body.result!.task!.id;
    await until(t.reader, id, (x) => x.status === "waiting");
    const cancel = await rpc(`/a2a/${sleeper}`, t.operator, "CancelTask", { id });
    expect(cancel.body.result?.status).toMatchObject({ state: "TASK_STATE_CANCELED" });
    const proc = await call<{ status: string }>("GET", `/v1/processes/${id}`, { token: t.reader });
    expect(proc.body.status).toBe("terminated");
    const again = await rpc(`/a2a/${sleeper}`, t.operator, "CancelTask", { id });
    expect(again.body.error?.code).toBe(-32002);
  });

  it("SubscribeToTask streams a live task until it ends, and refuses an ended one", async () => {
    const p = await rpc(`/a2a/${sleeper}`, t.operator, "SendMessage", {
      message: userMessage("sleep"),
      configuration: { returnImmediately: true },
    });
    const id = p.body.result!.task!.id;
    await until(t.reader, id, (x) => x.status === "waiting");
    const res = await workerFetch(`${ORIGIN}/a2a/${sleeper}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.reader}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "SubscribeToTask", params: { id } }),
    });
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    await rpc(`/a2a/${sleeper}`, t.operator, "CancelTask", { id });
    const results = (await sseEvents(res)).map((e) => e.result as Record<string, unknown>);
    expect(results[0]).toMatchObject({ task: { id, status: { state: "TASK_STATE_WORKING" } } });
    expect(results.at(-1)).toMatchObject({
      statusUpdate: { taskId: id, status: { state: "TASK_STATE_CANCELED" } },
    });
    const ended = await rpc(`/a2a/${sleeper}`, t.reader, "SubscribeToTask", { id });
    expect(ended.body.error?.code).toBe(-32004);
  });

  it("a reader may not cancel, and another tenant's task is not found", async () => {
    const idle = await spawnIdle(t.operator);
    const byReader = await rpc("/a2a", t.reader, "CancelTask", { id: idle.id });
    expect(byReader.body.error?.code).toBe(-32000);
    expect(byReader.body.error?.data?.[0]).toMatchObject({ reason: "FORBIDDEN" });
    const foreign = await rpc("/a2a", other.operator, "CancelTask", { id: idle.id });
    expect(foreign.body.error?.code).toBe(-32001);
    const foreignGet = await rpc("/a2a", other.reader, "GetTask", { id: idle.id });
    expect(foreignGet.body.error?.code).toBe(-32001);
    // The process was not touched.
    const proc = await call<{ status: string }>("GET", `/v1/processes/${idle.id}`, {
      token: t.reader,
    });
    expect(proc.body.status).toBe("waiting");
  });

  it("a type's endpoint serves only its own tasks", async () => {
    const idle = await spawnIdle(t.operator); // an `assistant` process
    const res = await rpc(`/a2a/${finisher}`, t.reader, "GetTask", { id: idle.id });
    expect(res.body.error?.code).toBe(-32001);
    const viaDeployment = await rpc("/a2a", t.reader, "GetTask", { id: idle.id });
    expect(viaDeployment.body.result).toMatchObject({
      id: idle.id,
      contextId: idle.id,
      status: { state: "TASK_STATE_WORKING" },
    });
  });
});

describe("the human gate as input-required", () => {
  it("shows a task waiting on an approval as input-required, and completed once approved", async () => {
    const t = await newTenant("a2a-gate");
    const policy = await call("PUT", "/v1/access-policies/a2a-sleep-approval", {
      token: t.admin,
      body: {
        cedar:
          '@id("sleep-needs-approval") @approval("required") forbid(principal is Process, action, resource) when { context.capability == "proc.sleep" } unless { context.approved };',
      },
    });
    expect(policy.status, JSON.stringify(policy.body)).toBeLessThan(300);
    const type = await defineType(t, {
      script: [{ toolCalls: [{ name: "sleep", arguments: { ms: 1 } }] }, finishTurn("approved")],
    });
    const res = await rpc(`/a2a/${type}`, t.operator, "SendMessage", {
      message: userMessage("needs a human"),
    });
    const task = res.body.result?.task;
    expect(task?.status.state).toBe("TASK_STATE_INPUT_REQUIRED");
    const approvalId = task?.status.message?.metadata?.approvalId as string;
    expect(approvalId).toBeTruthy();
    expect(task?.metadata["edgekernel.status"]).toBe("waiting");

    const approve = await call("POST", `/v1/approvals/${approvalId}/approve`, {
      token: t.operator,
      body: {},
    });
    expect(approve.status, JSON.stringify(approve.body)).toBe(200);
    await until(t.reader, task!.id, (p) => p.status === "exited");
    const got = await rpc(`/a2a/${type}`, t.reader, "GetTask", { id: task!.id });
    expect(got.body.result?.status).toMatchObject({ state: "TASK_STATE_COMPLETED" });
  });
});
