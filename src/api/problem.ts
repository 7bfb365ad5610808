/**
 * One error model for the whole API: RFC 9457 `application/problem+json`, with a stable
 * `code` clients can branch on and, for validation failures, one entry per offending field.
 */

import { z } from "zod";
import type { KernelError } from "../kernel/errors.js";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
const TYPE_BASE = "https://edgekernel.dev/problems/";

export const FieldErrorSchema = z.object({
  path: z
    .string()
    .meta({ description: "JSON path of the field at fault, e.g. `budget.maxTokens`" }),
  message: z.string(),
  code: z.string(),
});
export type FieldError = z.infer<typeof FieldErrorSchema>;

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .catchall(z.unknown())
  .meta({ id: "Problem" });
export type Problem = z.infer<typeof ProblemSchema>;

/** Stable codes and their titles. Adding a code is an API change; renaming one breaks clients. */
export const PROBLEM_CODES = {
  malformed_json: { status: 400, title: "Malformed JSON" },
  bad_request: { status: 400, title: "Bad request" },
  unauthenticated: { status: 401, title: "Authentication required" },
  credential_revoked: { status: 401, title: "Credential revoked" },
  credential_expired: { status: 401, title: "Credential expired" },
  credential_used: { status: 401, title: "One-time credential already used" },
  forbidden: { status: 403, title: "Forbidden" },
  policy_denied: { status: 403, title: "Denied by policy" },
  approval_required: { status: 403, title: "Policy requires approval" },
  capability_denied: { status: 403, title: "Capability not granted" },
  budget_exhausted: { status: 403, title: "Budget exhausted" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  illegal_transition: { status: 409, title: "Illegal state transition" },
  process_ended: { status: 409, title: "Process has ended" },
  version_conflict: { status: 409, title: "Version conflict" },
  version_not_signed: { status: 409, title: "Policy version is not signed" },
  version_quarantined: { status: 409, title: "Policy version is quarantined" },
  nodes_unavailable: { status: 409, title: "Target nodes unavailable" },
  payload_too_large: { status: 413, title: "Payload too large" },
  quota_exceeded: { status: 413, title: "Workspace quota exceeded" },
  range_not_satisfiable: { status: 416, title: "Range not satisfiable" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  upgrade_required: { status: 426, title: "Upgrade required" },
  validation_failed: { status: 422, title: "Validation failed" },
  static_check_failed: { status: 422, title: "Scheduler policy failed the static checks" },
  idempotency_key_reused: { status: 422, title: "Idempotency key reused with another request" },
  rate_limited: { status: 429, title: "Rate limit reached" },
  internal: { status: 500, title: "Internal error" },
  unavailable: { status: 503, title: "Service unavailable" },
} as const;
export type ProblemCode = keyof typeof PROBLEM_CODES;

/** An error that becomes a problem response; throw it from any handler or middleware. */
export class ApiError extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly extra: Record<string, unknown>;

  constructor(
    code: ProblemCode,
    detail: string,
    options: { errors?: FieldError[]; extra?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.name = "ApiError";
    this.code = code;
    this.status = PROBLEM_CODES[code].status;
    this.errors = options.errors;
    this.extra = options.extra ?? {};
  }
}

/** A single-field validation failure, for checks zod cannot make (e.g. "no such agent type"). */
export function fieldError(path: string, message: string, code = "invalid"): ApiError {
  return new ApiError("validation_failed", `${path}: ${message}`, {
    errors: [{ path, message, code }],
  });
}

/** Renders a zod issue path (`["budget", "maxTokens"]`) as `budget.maxTokens`, `labels[0]`. */
export function formatPath(path: readonly PropertyKey[], prefix?: string): string {
  let out = prefix ?? "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "(root)";
}

/** Turns zod issues into the API's field errors; `where` names the request part (body, query). */
export function fromZodIssues(
  issues: readonly z.core.$ZodIssue[],
  where: "body" | "query" | "param" | "header",
): ApiError {
  const errors = issues.map((issue) => {
    // Unknown keys are reported on the object; point at each offending key instead.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: "unknown field",
        code: "unrecognized_key",
      }));
    }
    return [{ path: formatPath(issue.path), message: issue.message, code: issue.code }];
  });
  const flat = errors.flat();
  const first = flat[0];
  const detail = first ? `${where} ${first.path}: ${first.message}` : `invalid ${where}`;
  return new ApiError("validation_failed", detail, { errors: flat, extra: { in: where } });
}

/** Maps a typed kernel error onto the API's error model. */
export function fromKernelError(error: KernelError): ApiError {
  if (error.code === "invalid_argument" && typeof error.details.path === "string") {
    const path = error.details.path;
    const code = typeof error.details.code === "string" ? error.details.code : "invalid";
    return new ApiError("validation_failed", error.message, {
      errors: [{ path, message: error.message.replace(`${path}: `, ""), code }],
    });
  }
  if (error.code === "conflict" && typeof error.details.status === "string") {
    return new ApiError("conflict", error.message, { extra: { status: error.details.status } });
  }
  if (error.details.reason === "idempotency_key_reused") {
    return new ApiError("idempotency_key_reused", error.message, {
      extra: { processId: error.details.processId },
    });
  }
  const code: ProblemCode =
    error.code === "illegal_transition"
      ? "illegal_transition"
      : error.code === "not_found"
        ? "not_found"
        : error.code === "conflict"
          ? "conflict"
          : "validation_failed";
  return new ApiError(code, error.message, { extra: error.details });
}

/** The problem+json response for `error`. */
export function problemResponse(error: ApiError, requestId: string, instance: string): Response {
  const body: Problem = {
    ...error.extra,
    type: `${TYPE_BASE}${error.code}`,
    title: PROBLEM_CODES[error.code].title,
    status: error.status,
    code: error.code,
    detail: error.message,
    instance,
    requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE },
  });
}
