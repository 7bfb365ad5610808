/** What a built-in tool's handler receives and returns. */

import type { z } from "zod";
import type { BUILTIN_TOOLS, BuiltinToolName } from "../../kernel/agent/builtin-tools.js";
import type { ProcessRecord, WaitingOn } from "../../kernel/process/record.js";
import type { ChatMessage, ToolCall } from "../../llm/types.js";
import type { LoopHost } from "../agent-loop.js";

/** One allowed call of a built-in tool, inside the calling process's object. */
export interface ToolInvocation {
  h: LoopHost;
  record: ProcessRecord;
  call: ToolCall;
  /** The step and the call's position in it: together a stable id for the call (idempotency). */
  stepNo: number;
  index: number;
}

/** What one allowed call did. */
export type CallOutcome =
  | { kind: "result"; message: ChatMessage }
  | { kind: "exit"; result: unknown; message: ChatMessage }
  | { kind: "block"; waitingOn: WaitingOn };

type ArgsOf<K extends BuiltinToolName> = z.infer<(typeof BUILTIN_TOOLS)[K]["args"]>;

/** Runs one tool with its validated arguments. */
export type ToolHandler<K extends BuiltinToolName> = (
  inv: ToolInvocation,
  args: ArgsOf<K>,
) => Promise<CallOutcome>;

/** The handlers of some of the built-in tools (a group), by tool name. */
export type ToolHandlers<K extends BuiltinToolName> = { [P in K]: ToolHandler<P> };

/** A tool's answer as the conversation records it. */
export function toolMessage(
  call: Pick<ToolCall, "id" | "name">,
  value: unknown,
  isError = false,
): ChatMessage {
  return {
    role: "tool",
    toolCallId: call.id,
    toolName: call.name,
    content: JSON.stringify(value),
    isError,
  };
}

/** A result outcome: `value` (or an error the model reads) as the call's answer. */
export function resultOf(call: ToolCall, value: unknown, isError = false): CallOutcome {
  return { kind: "result", message: toolMessage(call, value, isError) };
}
