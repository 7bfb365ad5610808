/**
 * Task streams (SendStreamingMessage, SubscribeToTask) as Server-Sent Events. Each event's data
 * is a JSON-RPC response whose result is one `StreamResponse`: first the task, then a status
 * update each time the task's state changes (the process's object is polled every
 * TASK_POLL_INTERVAL_MS), then — when it completes — the result artifact and the final status.
 * The stream ends when the task ends or needs input, or after STREAM_MAX_DURATION_MS (the client
 * then resubscribes or polls GetTask).
 */

import type { ProcessRecord } from "../kernel/process/record.js";
import { processStub } from "../objects/agent-process.js";
import { type A2aContext, isSettled, sleep, TASK_POLL_INTERVAL_MS } from "./methods.js";
import type { JsonRpcId, StreamEvent } from "./protocol.js";
import { contextIdOf, resultArtifact, taskOf, taskStateOf } from "./task-view.js";

/** A stream stays open at most this long. */
export const STREAM_MAX_DURATION_MS = 5 * 60_000;

/**
 * The events of one task from `record` on, until it settles or `maxDurationMs` passes.
 *
 * @example for await (const event of taskEvents(ctx, record)) send(event)
 */
export async function* taskEvents(
  ctx: A2aContext,
  record: ProcessRecord,
  options: { maxDurationMs?: number; pollIntervalMs?: number } = {},
): AsyncGenerator<StreamEvent> {
  const deadline = Date.now() + (options.maxDurationMs ?? STREAM_MAX_DURATION_MS);
  const interval = options.pollIntervalMs ?? TASK_POLL_INTERVAL_MS;
  yield { task: taskOf(record) };
  let current = record;
  let lastState = taskStateOf(record);
  while (!isSettled(lastState) && Date.now() < deadline) {
    await sleep(interval);
    const next = await processStub(ctx.env, current.id).get(current.tenantId);
    if (!next) return;
    current = next;
    const state = taskStateOf(current);
    if (state === lastState) continue;
    lastState = state;
    const taskId = current.id;
    const contextId = contextIdOf(current);
    if (state === "TASK_STATE_COMPLETED") {
      yield {
        artifactUpdate: { taskId, contextId, artifact: resultArtifact(current), lastChunk: true },
      };
    }
    const { status } = taskOf(current, { historyLength: 0 });
    yield { statusUpdate: { taskId, contextId, status } };
  }
}

/**
 * An SSE response carrying `events`, each wrapped as the JSON-RPC result for request `id`.
 *
 * @example return sseResponse(id, taskEvents(ctx, record))
 */
export function sseResponse(id: JsonRpcId, events: AsyncGenerator<StreamEvent>): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await events.next();
        if (next.done) {
          controller.close();
          return;
        }
        const frame = JSON.stringify({ jsonrpc: "2.0", id, result: next.value });
        controller.enqueue(encoder.encode(`data: ${frame}\n\n`));
      } catch (error) {
        console.error("a2a stream failed", error);
        const frame = JSON.stringify({
          jsonrpc: "2.0",
          id,
          error: { code: -32603, message: "internal error" },
        });
        controller.enqueue(encoder.encode(`data: ${frame}\n\n`));
        controller.close();
      }
    },
    async cancel() {
      // The client went away: stop polling.
      await events.return(undefined);
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
}
