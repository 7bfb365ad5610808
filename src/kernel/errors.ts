/**
 * Typed kernel errors. Adapters (API, MCP, Durable Objects) map each `code` to a transport
 * status; the kernel itself knows nothing about HTTP.
 */

export type KernelErrorCode =
  | "illegal_transition"
  | "not_found"
  | "conflict"
  | "invalid_argument"
  | "quota_exceeded";

/** A failure the caller can act on, carrying a stable machine-readable code. */
export class KernelError extends Error {
  readonly code: KernelErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: KernelErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "KernelError";
    this.code = code;
    this.details = details;
  }
}
