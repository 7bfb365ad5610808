/**
 * JSON-RPC errors for A2A: one error class, and the mapping from the API's error model
 * (`ApiError`, `KernelError`, zod issues) onto the spec's codes, so a client gets "task not
 * found" for another tenant's task exactly as for a missing one, and "invalid params" naming the
 * field at fault.
 */

import type { z } from "zod";
import { ApiError, formatPath, fromKernelError } from "../api/problem.js";
import { KernelError } from "../kernel/errors.js";
import { RPC_ERROR, RPC_ERROR_REASON } from "./protocol.js";

const ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo";
const A2A_ERROR_DOMAIN = "a2a-protocol.org";
const EDGEKERNEL_ERROR_DOMAIN = "edgekernel";

/** One field at fault, as the API's problem responses name them. */
export interface RpcFieldError {
  path: string;
  message: string;
  code: string;
}

/** The JSON-RPC `error` object. */
export interface RpcErrorBody {
  code: number;
  message: string;
  data?: unknown[];
}

/** An error answered as a JSON-RPC error object; throw it from any method handler. */
export class A2aRpcError extends Error {
  readonly code: number;
  readonly data: unknown[] | undefined;

  constructor(code: number, message: string, data?: unknown[]) {
    super(message);
    this.name = "A2aRpcError";
    this.code = code;
    this.data = data;
  }

  toBody(): RpcErrorBody {
    return { code: this.code, message: this.message, ...(this.data ? { data: this.data } : {}) };
  }
}

/** `google.rpc.ErrorInfo`, as the SDK's server attaches to A2A errors. */
function errorInfo(reason: string, domain: string, metadata?: Record<string, string>) {
  return { "@type": ERROR_INFO_TYPE, reason, domain, ...(metadata ? { metadata } : {}) };
}

/** An A2A-specific error (task not found, not cancelable, …) with its ErrorInfo. */
export function a2aError(code: number, message: string, metadata?: Record<string, string>) {
  const reason = RPC_ERROR_REASON[code];
  return new A2aRpcError(
    code,
    message,
    reason ? [errorInfo(reason, A2A_ERROR_DOMAIN, metadata)] : undefined,
  );
}

/** Invalid params naming each field at fault (in `data`, and the first in the message). */
export function invalidParams(errors: RpcFieldError[]): A2aRpcError {
  const first = errors[0];
  const message = first ? `invalid params: ${first.path}: ${first.message}` : "invalid params";
  return new A2aRpcError(RPC_ERROR.invalidParams, message, [
    errorInfo("INVALID_PARAMS", A2A_ERROR_DOMAIN, first ? { field: first.path } : undefined),
    { "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: errors },
  ]);
}

/** zod issues of `params` as invalid params (`message.parts[0]`, `id`, …). */
export function fromParamIssues(issues: readonly z.core.$ZodIssue[]): A2aRpcError {
  return invalidParams(
    issues.map((issue) => ({
      path: formatPath(issue.path),
      message: issue.message,
      code: issue.code,
    })),
  );
}

/** Field paths of the process API renamed to the A2A params they came from. */
export type FieldRenames = Record<string, string>;

/**
 * Anything a kernel call threw, as the JSON-RPC error to answer. `notFound` says what a 404
 * means here (a task, for task methods). Genuine faults become "internal error" without detail.
 *
 * @example throw toRpcError(error, { notFound: (m) => a2aError(RPC_ERROR.taskNotFound, m) })
 */
export function toRpcError(
  error: unknown,
  options: { notFound?: (message: string) => A2aRpcError; renames?: FieldRenames } = {},
): A2aRpcError {
  if (error instanceof A2aRpcError) return error;
  const apiError =
    error instanceof ApiError
      ? error
      : error instanceof KernelError
        ? fromKernelError(error)
        : undefined;
  if (!apiError) {
    return new A2aRpcError(RPC_ERROR.internalError, "internal error");
  }
  if (apiError.code === "not_found" && options.notFound) return options.notFound(apiError.message);
  if (apiError.code === "validation_failed" && apiError.errors?.length) {
    const renames = options.renames ?? {};
    return invalidParams(apiError.errors.map((e) => ({ ...e, path: renames[e.path] ?? e.path })));
  }
  if (apiError.status >= 500) return new A2aRpcError(RPC_ERROR.internalError, "internal error");
  // The gate's refusals (forbidden, capability, policy, approval, budget, rate limit, ended…)
  // keep the API's stable code so a client can tell them apart.
  const metadata: Record<string, string> = { status: String(apiError.status) };
  for (const [key, value] of Object.entries(apiError.extra)) {
    if (typeof value === "string") metadata[key] = value;
  }
  return new A2aRpcError(RPC_ERROR.refused, `${apiError.code}: ${apiError.message}`, [
    errorInfo(apiError.code.toUpperCase(), EDGEKERNEL_ERROR_DOMAIN, metadata),
  ]);
}
