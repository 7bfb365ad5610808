/**
 * The JSON-RPC 2.0 dispatcher of an A2A endpoint: parse, check the envelope, find the method,
 * validate its params with zod, run it, and answer — a JSON response, or an SSE stream for the
 * streaming methods. Errors are JSON-RPC error objects with HTTP 200, as JSON-RPC over HTTP and
 * the SDK expect; only authentication failures (handled before this) are HTTP errors.
 */

import type { z } from "zod";
import { A2aRpcError, a2aError, fromParamIssues, toRpcError } from "./errors.js";
import {
  type A2aContext,
  cancelTask,
  getTask,
  listTasks,
  loadTask,
  sendMessage,
} from "./methods.js";
import {
  A2A_METHODS,
  A2A_PROTOCOL_VERSION,
  type A2aMethod,
  type JsonRpcId,
  JsonRpcIdSchema,
  JsonRpcRequestSchema,
  ListTasksParamsSchema,
  RPC_ERROR,
  SendMessageParamsSchema,
  TaskIdParamsSchema,
  TERMINAL_TASK_STATES,
  UNSUPPORTED_METHODS,
} from "./protocol.js";
import { sseResponse, taskEvents } from "./stream.js";
import { taskOf, taskStateOf } from "./task-view.js";

function rpcJson(body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": "application/json" },
  });
}

function errorResponse(id: JsonRpcId, error: A2aRpcError): Response {
  return rpcJson({ jsonrpc: "2.0", id, error: error.toBody() });
}

function parseParams<T extends z.ZodType>(schema: T, params: unknown): z.infer<T> {
  const parsed = schema.safeParse(params ?? {});
  if (!parsed.success) throw fromParamIssues(parsed.error.issues);
  return parsed.data;
}

/** The request id if the body has a usable one (so even an invalid request is answered by id). */
function idOf(body: unknown): JsonRpcId {
  if (body && typeof body === "object" && !Array.isArray(body) && "id" in body) {
    const parsed = JsonRpcIdSchema.safeParse((body as { id: unknown }).id);
    if (parsed.success) return parsed.data;
  }
  return null;
}

/**
 * Answers one JSON-RPC request body (the raw text) on an A2A endpoint.
 *
 * @example return handleA2aRpc(await c.req.text(), { env, db, caller, requestId, agentType: null })
 */
export async function handleA2aRpc(
  text: string,
  ctx: A2aContext,
  options: { version?: string | undefined } = {},
): Promise<Response> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return errorResponse(
      null,
      new A2aRpcError(RPC_ERROR.parseError, `parse error: ${(error as Error).message}`),
    );
  }
  const id = idOf(body);
  if (Array.isArray(body)) {
    return errorResponse(
      null,
      new A2aRpcError(RPC_ERROR.invalidRequest, "invalid request: batches are not supported"),
    );
  }
  const envelope = JsonRpcRequestSchema.safeParse(body);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "";
    return errorResponse(
      id,
      new A2aRpcError(RPC_ERROR.invalidRequest, `invalid request: ${where}`),
    );
  }
  const { method, params } = envelope.data;
  // A client that names a version must name ours (one that names none is served as 1.0).
  if (options.version !== undefined && options.version.trim() !== A2A_PROTOCOL_VERSION) {
    return errorResponse(
      id,
      a2aError(
        RPC_ERROR.versionNotSupported,
        `A2A version ${options.version} is not supported; this agent speaks ${A2A_PROTOCOL_VERSION}`,
      ),
    );
  }
  if (!(A2A_METHODS as readonly string[]).includes(method)) {
    if (UNSUPPORTED_METHODS.has(method)) {
      return errorResponse(
        id,
        a2aError(
          method.includes("PushNotification")
            ? RPC_ERROR.pushNotificationNotSupported
            : RPC_ERROR.unsupportedOperation,
          `${method} is not supported by this agent`,
        ),
      );
    }
    return errorResponse(
      id,
      new A2aRpcError(RPC_ERROR.methodNotFound, `method not found: ${method}`),
    );
  }
  try {
    return await dispatch(method as A2aMethod, id, params, ctx);
  } catch (error) {
    const rpc = toRpcError(error);
    if (rpc.code === RPC_ERROR.internalError) console.error("a2a call failed", method, error);
    return errorResponse(id, rpc);
  }
}

async function dispatch(
  method: A2aMethod,
  id: JsonRpcId,
  params: unknown,
  ctx: A2aContext,
): Promise<Response> {
  switch (method) {
    case "SendMessage": {
      const p = parseParams(SendMessageParamsSchema, params);
      const record = await sendMessage(ctx, p, { blocking: true });
      const task = taskOf(record, { historyLength: p.configuration?.historyLength });
      return rpcJson({ jsonrpc: "2.0", id, result: { task } });
    }
    case "SendStreamingMessage": {
      const p = parseParams(SendMessageParamsSchema, params);
      const record = await sendMessage(ctx, p, { blocking: false });
      return sseResponse(id, taskEvents(ctx, record));
    }
    case "SubscribeToTask": {
      const p = parseParams(TaskIdParamsSchema, params);
      const record = await loadTask(ctx, p.id);
      if (TERMINAL_TASK_STATES.has(taskStateOf(record))) {
        throw a2aError(
          RPC_ERROR.unsupportedOperation,
          `task ${p.id} has ended: read it with GetTask`,
          { taskId: p.id },
        );
      }
      return sseResponse(id, taskEvents(ctx, record));
    }
    case "GetTask": {
      const p = parseParams(TaskIdParamsSchema, params);
      return rpcJson({ jsonrpc: "2.0", id, result: await getTask(ctx, p) });
    }
    case "ListTasks": {
      const p = parseParams(ListTasksParamsSchema, params);
      return rpcJson({ jsonrpc: "2.0", id, result: await listTasks(ctx, p) });
    }
    case "CancelTask": {
      const p = parseParams(TaskIdParamsSchema, params);
      return rpcJson({ jsonrpc: "2.0", id, result: await cancelTask(ctx, p) });
    }
  }
}
