/**
 * The static checks' findings: each a diagnostic with a stable code, a severity, a message and
 * where it is (a line and column in the source, or the input field at fault).
 */

import { FLEET_LIMITS } from "./protocol/messages.js";

export const STATIC_CHECK_LIMITS = {
  maxSourceBytes: FLEET_LIMITS.maxSourceBytes,
  /** Past this many findings the rest are summed up in one `too_many_diagnostics`. */
  maxDiagnostics: 200,
} as const;

/** Every diagnostic code, with what it means. Stable: clients and tests branch on them. */
export const DIAGNOSTIC_CODES = {
  source_too_large: "the source is larger than the limit",
  trigraph: "a trigraph (??x) in the source",
  universal_character_name: "a \\u or \\U escape outside a literal",
  non_ascii: "a non-ASCII character outside a comment or literal",
  unterminated_comment: "a comment that never ends",
  unterminated_literal: "a string or character literal that never ends",
  stray_backslash: "a backslash outside a literal",
  directive_not_allowed: "a preprocessing directive that is not allowed",
  include_not_allowed: "an #include of a header not on the allow-list",
  include_malformed: 'an #include that is not a plain "name" or <name>',
  token_pasting: "token pasting (##) can build names the checks cannot see",
  inline_asm: "inline assembly",
  attribute_not_allowed: "an attribute that binds a name to another symbol",
  callee_forbidden: "a helper or kfunc refused by name",
  callee_not_allowed: "a helper or kfunc that is not on the allow-list",
  unknown_call: "a call to something that is neither defined here nor allowed",
  indirect_call: "a call through a pointer",
  function_pointer: "a function pointer",
  helper_id_mismatch: "a helper declared with another helper's number",
  integer_to_pointer: "an integer turned into a pointer",
  ops_missing: "no struct sched_ext_ops",
  ops_multiple: "more than one struct sched_ext_ops",
  ops_section: 'the struct sched_ext_ops is not in SEC(".struct_ops.link")',
  ops_name_missing: "the struct sched_ext_ops has no .name",
  ops_name_mismatch: "the .name differs from the policy's ops name",
  license_missing: 'no SEC("license")',
  license_not_gpl: "a license sched_ext's GPL-only kfuncs refuse",
  license_duplicate: "a license variable an included header (common.h) already defines",
  ops_name_invalid: "the policy's ops name is malformed",
  tunable_invalid: "a tunable without bounds, with a default outside them, or malformed",
  tunable_unused: "a tunable the source never mentions",
  tunable_redefined: "a tunable #defined without #ifndef: the submitted value would be ignored",
  parameters_invalid: "parameters that are not a map of names to values",
  parameter_unknown: "a parameter that is not one of the policy's tunables",
  parameter_type: "a parameter of the wrong type",
  parameter_out_of_bounds: "a parameter outside its tunable's bounds",
  too_many_diagnostics: "more findings than are listed",
} as const;
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export interface Diagnostic {
  code: DiagnosticCode;
  severity: "error" | "warning";
  message: string;
  /** Where in the source (1-based); null for findings about metadata or parameters. */
  line: number | null;
  column: number | null;
  /** The input field at fault: `source`, `parameters.slice_us`, `tunables[0].max`, `opsName`. */
  path: string;
}

/** Collects diagnostics, source ones sorted by position first, then the rest in order. */
export class Findings {
  private readonly items: Diagnostic[] = [];
  private dropped = 0;

  add(
    code: DiagnosticCode,
    message: string,
    at: { line: number; column: number } | null,
    options: { path?: string; severity?: "error" | "warning" } = {},
  ): void {
    if (this.items.length >= STATIC_CHECK_LIMITS.maxDiagnostics) {
      this.dropped += 1;
      return;
    }
    this.items.push({
      code,
      severity: options.severity ?? "error",
      message,
      line: at?.line ?? null,
      column: at?.column ?? null,
      path: options.path ?? "source",
    });
  }

  list(): Diagnostic[] {
    const sorted = [...this.items].sort((a, b) => {
      if (a.line === null || b.line === null)
        return (a.line === null ? 1 : 0) - (b.line === null ? 1 : 0);
      return a.line - b.line || (a.column ?? 0) - (b.column ?? 0);
    });
    if (this.dropped > 0) {
      sorted.push({
        code: "too_many_diagnostics",
        severity: "error",
        message: `${this.dropped} more findings are not listed`,
        line: null,
        column: null,
        path: "source",
      });
    }
    return sorted;
  }
}
