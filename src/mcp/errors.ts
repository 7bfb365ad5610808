/**
 * Errors as MCP clients see them. A failed tool call is a tool result with `isError: true`
 * whose text names the API's stable code and each field at fault, so a model can correct its
 * call; the same `ApiError` the HTTPS API would answer with is its source.
 */

import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { ApiError, fromKernelError } from "../api/problem.js";
import { KernelError } from "../kernel/errors.js";

/**
 * The API error for anything thrown by a system call; a fault that is not one becomes
 * `internal` (logged here, never shown).
 *
 * @example toApiError(new KernelError("not_found", "no process")).code // "not_found"
 */
export function toApiError(error: unknown, requestId: string): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof KernelError) return fromKernelError(error);
  console.error("mcp call failed", requestId, error);
  return new ApiError(
    "internal",
    `an internal error occurred; quote request id ${requestId} when reporting it`,
  );
}

/**
 * The tool result for a failed call: `code: detail`, then a line for each field at fault that
 * the detail does not already name.
 *
 * @example toolError(fieldError("goal", "too long")).content[0].text // "validation_failed: goal: too long"
 */
export function toolError(error: ApiError): CallToolResult {
  const lines = [`${error.code}: ${error.message}`];
  for (const field of error.errors ?? []) {
    const line = `${field.path}: ${field.message}`;
    if (!error.message.includes(line)) lines.push(`- ${line}`);
  }
  return {
    isError: true,
    content: [{ type: "text", text: lines.join("\n") }],
  };
}
