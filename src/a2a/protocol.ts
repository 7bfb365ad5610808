/**
 * The A2A wire protocol as this server speaks it: A2A 1.0 over JSON-RPC 2.0, with the method
 * names, error codes and ProtoJSON shapes (`TASK_STATE_*`, `ROLE_*`, `{ text }` parts) that the
 * official `@a2a-js/sdk` 1.x client sends and expects. The zod schemas validate what a client
 * sends; the TypeScript types describe what we answer.
 */

import { z } from "zod";
import { PROCESS_LIMITS } from "../kernel/process/record.js";

/** The A2A protocol version every interface of ours declares. */
export const A2A_PROTOCOL_VERSION = "1.0";

/** The transport binding of our interfaces (the SDK picks its transport by this name). */
export const A2A_JSONRPC_BINDING = "JSONRPC";

/** JSON-RPC 2.0 and A2A 1.0 error codes (A2A spec §5.4 / the SDK's `A2A_ERROR_CODE`). */
export const RPC_ERROR = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** Implementation-defined (-32000..-32099): the kernel's gate refused the call. */
  refused: -32000,
  taskNotFound: -32001,
  taskNotCancelable: -32002,
  pushNotificationNotSupported: -32003,
  unsupportedOperation: -32004,
  contentTypeNotSupported: -32005,
  versionNotSupported: -32009,
} as const;

/** The `google.rpc.ErrorInfo` reason of each A2A-specific error (what the SDK maps back). */
export const RPC_ERROR_REASON: Partial<Record<number, string>> = {
  [RPC_ERROR.invalidParams]: "INVALID_PARAMS",
  [RPC_ERROR.taskNotFound]: "TASK_NOT_FOUND",
  [RPC_ERROR.taskNotCancelable]: "TASK_NOT_CANCELABLE",
  [RPC_ERROR.pushNotificationNotSupported]: "PUSH_NOTIFICATION_NOT_SUPPORTED",
  [RPC_ERROR.unsupportedOperation]: "UNSUPPORTED_OPERATION",
  [RPC_ERROR.contentTypeNotSupported]: "CONTENT_TYPE_NOT_SUPPORTED",
  [RPC_ERROR.versionNotSupported]: "VERSION_NOT_SUPPORTED",
};

/** The request header naming the protocol version a client speaks. */
export const A2A_VERSION_HEADER = "a2a-version";

/** The methods we answer, by their A2A 1.0 JSON-RPC names. */
export const A2A_METHODS = [
  "SendMessage",
  "SendStreamingMessage",
  "GetTask",
  "ListTasks",
  "CancelTask",
  "SubscribeToTask",
] as const;
export type A2aMethod = (typeof A2A_METHODS)[number];

/** Methods of the spec we deliberately do not implement: answered with "unsupported operation". */
export const UNSUPPORTED_METHODS = new Set([
  "CreateTaskPushNotificationConfig",
  "GetTaskPushNotificationConfig",
  "ListTaskPushNotificationConfigs",
  "DeleteTaskPushNotificationConfig",
  "GetExtendedAgentCard",
]);

export const TASK_STATES = [
  "TASK_STATE_SUBMITTED",
  "TASK_STATE_WORKING",
  "TASK_STATE_COMPLETED",
  "TASK_STATE_FAILED",
  "TASK_STATE_CANCELED",
  "TASK_STATE_INPUT_REQUIRED",
  "TASK_STATE_REJECTED",
  "TASK_STATE_AUTH_REQUIRED",
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States after which a task never changes again. */
export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set([
  "TASK_STATE_COMPLETED",
  "TASK_STATE_FAILED",
  "TASK_STATE_CANCELED",
  "TASK_STATE_REJECTED",
]);

/** States where the task waits on the client (or a human): a stream or a blocking send ends. */
export const INTERRUPTED_TASK_STATES: ReadonlySet<TaskState> = new Set([
  "TASK_STATE_INPUT_REQUIRED",
  "TASK_STATE_AUTH_REQUIRED",
]);

/** Limits on what one request may carry. */
export const A2A_LIMITS = {
  /** The context id travels as a process label, so it is bounded like one. */
  contextIdChars: PROCESS_LIMITS.labelValueChars,
  idChars: 128,
  partsPerMessage: 64,
  /** The goal is the concatenated text parts: the process's goal limit. */
  goalChars: PROCESS_LIMITS.goalChars,
  pageSizeDefault: 50,
  pageSizeMax: 100,
} as const;

// ---------------------------------------------------------------------------------------------
// JSON-RPC envelope

export const JsonRpcIdSchema = z.union([z.string().max(256), z.number().int(), z.null()]);
export type JsonRpcId = z.infer<typeof JsonRpcIdSchema>;

/** A request: `id` is required (a notification would get no answer, and A2A has none). */
export const JsonRpcRequestSchema = z.object({
  jsonrpc: z.literal("2.0"),
  id: JsonRpcIdSchema,
  method: z.string().min(1).max(128),
  params: z.record(z.string(), z.unknown()).optional(),
});

// ---------------------------------------------------------------------------------------------
// params

const MetadataSchema = z.record(z.string(), z.unknown());

/** One part: exactly one of text, data, url or raw (ProtoJSON `oneof content`). */
export const PartSchema = z
  .object({
    text: z.string().optional(),
    data: z.unknown().optional(),
    url: z.string().max(2048).optional(),
    raw: z.string().optional(),
    mediaType: z.string().max(255).optional(),
    filename: z.string().max(255).optional(),
    metadata: MetadataSchema.optional(),
  })
  .refine(
    (p) => [p.text, p.data, p.url, p.raw].filter((v) => v !== undefined).length === 1,
    "a part carries exactly one of text, data, url or raw",
  );
export type Part = z.infer<typeof PartSchema>;

export const MessageSchema = z.object({
  messageId: z.string().min(1).max(A2A_LIMITS.idChars),
  contextId: z.string().min(1).max(A2A_LIMITS.contextIdChars).optional(),
  taskId: z.string().min(1).max(A2A_LIMITS.idChars).optional(),
  role: z.enum(["ROLE_USER", "ROLE_AGENT"]),
  parts: z.array(PartSchema).min(1).max(A2A_LIMITS.partsPerMessage),
  metadata: MetadataSchema.optional(),
  extensions: z.array(z.string()).optional(),
  referenceTaskIds: z.array(z.string()).optional(),
});
export type Message = z.infer<typeof MessageSchema>;

export const SendMessageParamsSchema = z.object({
  tenant: z.string().optional(),
  message: MessageSchema,
  configuration: z
    .object({
      acceptedOutputModes: z.array(z.string()).optional(),
      historyLength: z.number().int().min(0).optional(),
      /** False (the default) blocks until the task ends or is interrupted, up to a bound. */
      returnImmediately: z.boolean().optional(),
      taskPushNotificationConfig: z.unknown().optional(),
    })
    .optional(),
  metadata: MetadataSchema.optional(),
});
export type SendMessageParams = z.infer<typeof SendMessageParamsSchema>;

export const TaskIdParamsSchema = z.object({
  tenant: z.string().optional(),
  id: z.string().min(1).max(A2A_LIMITS.idChars),
  historyLength: z.number().int().min(0).optional(),
  metadata: MetadataSchema.optional(),
});
export type TaskIdParams = z.infer<typeof TaskIdParamsSchema>;

export const ListTasksParamsSchema = z.object({
  tenant: z.string().optional(),
  contextId: z.string().min(1).max(A2A_LIMITS.contextIdChars).optional(),
  status: z.enum(TASK_STATES).optional(),
  pageSize: z.number().int().min(1).max(A2A_LIMITS.pageSizeMax).optional(),
  pageToken: z.string().max(512).optional(),
  historyLength: z.number().int().min(0).optional(),
  statusTimestampAfter: z.string().optional(),
  includeArtifacts: z.boolean().optional(),
});
export type ListTasksParams = z.infer<typeof ListTasksParamsSchema>;

// ---------------------------------------------------------------------------------------------
// what we answer

export interface WirePart {
  text?: string;
  data?: unknown;
  mediaType?: string;
}

export interface WireMessage {
  messageId: string;
  contextId?: string;
  taskId?: string;
  role: "ROLE_USER" | "ROLE_AGENT";
  parts: WirePart[];
  metadata?: Record<string, unknown>;
}

export interface WireTaskStatus {
  state: TaskState;
  message?: WireMessage;
  timestamp: string;
}

export interface WireArtifact {
  artifactId: string;
  name: string;
  parts: WirePart[];
}

export interface WireTask {
  id: string;
  contextId: string;
  status: WireTaskStatus;
  artifacts?: WireArtifact[];
  history?: WireMessage[];
  metadata: Record<string, unknown>;
}

/** One event of a stream (ProtoJSON `StreamResponse`: exactly one field set). */
export type StreamEvent =
  | { task: WireTask }
  | { statusUpdate: { taskId: string; contextId: string; status: WireTaskStatus } }
  | {
      artifactUpdate: {
        taskId: string;
        contextId: string;
        artifact: WireArtifact;
        lastChunk: boolean;
      };
    };
