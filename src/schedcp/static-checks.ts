/**
 * The execution verifier's first stage, before any VM: checks a policy's BPF C source, its
 * tunables and the submitted parameters, and says what is wrong where. A source that passes
 * may still fail to compile or be refused by the kernel's verifier (the next stages); one
 * that fails here never reaches a verifier node.
 *
 * What is checked:
 * - size: at most FLEET_LIMITS.maxSourceBytes (UTF-8);
 * - the scheduler: exactly one `struct sched_ext_ops` in `SEC(".struct_ops.link")` (the node
 *   registers it as a link) whose `.name` is the policy's ops name, and a GPL-compatible
 *   license (sched_ext's kfuncs are GPL-only), written in the source or defined by the
 *   project's common.h when the source includes it (as the built-ins do);
 * - includes only from ALLOWED_INCLUDES, and no directive that changes what the scan sees
 *   (`#line`, `#include_next`, `_Pragma`, token pasting with `##`);
 * - calls and references only to allow-listed helpers and kfuncs (bpf-allowlist.ts), the
 *   file's own functions and macros, the headers' macros and a few compiler builtins; no
 *   inline assembly, no function pointers, no integer turned into a pointer (the way helpers
 *   are called by number) except a listed helper declared with its true number;
 * - tunables: each `int` with bounds and a default within them. A tunable reaches the source as
 *   the macro `tunableMacro(name)` (`slice_us` → `-DEK_SLICE_US=…`, bpf/defines.ts, the same
 *   mapping the verifier compiles with): each macro used by the source, none #defined without
 *   `#ifndef` or #undef'd (the `-D` value would be ignored); parameters of known names, right
 *   types, within bounds.
 *
 * The scan runs over tokens (c-lexer.ts), so comments and literals cannot hide or fake a call,
 * and a name split by a backslash-newline is seen whole. Conditional blocks are scanned both
 * ways: parameters arrive as `-D` constants and may select either. Macro bodies are scanned as
 * written. What the preprocessor makes of headers the scan does not read is checked on the
 * compiled object (object-checks.ts, the same allow-list), and by the kernel's verifier in the VM.
 */

import { type Diagnostic, Findings, STATIC_CHECK_LIMITS } from "./diagnostics.js";
import { OpsNameSchema, type Tunable, TunablesSchema } from "./metadata.js";
import { ParametersSchema } from "./protocol/assignment.js";
import { SourceScan } from "./scan/source-scan.js";

export {
  DIAGNOSTIC_CODES,
  type Diagnostic,
  type DiagnosticCode,
  STATIC_CHECK_LIMITS,
} from "./diagnostics.js";

export interface StaticCheckInput {
  source: string;
  opsName: string;
  tunables: readonly Tunable[];
  /** As submitted; checked against ParametersSchema and the tunables. */
  parameters: unknown;
  /**
   * Texts of allowed local headers, trusted: their macros and functions become callable names.
   * Default: the project's own common.h (src/schedcp/bpf/), which the verifier compiles with.
   */
  trustedHeaders?: Readonly<Record<string, string>>;
}

export interface StaticCheckResult {
  /** No error (warnings allowed). */
  ok: boolean;
  diagnostics: Diagnostic[];
  /** The tunables' defaults overlaid with the valid submitted parameters. */
  parameters: Record<string, number | boolean>;
  /** Allow-listed helpers and kfuncs the source uses, sorted. */
  helpers: string[];
  kfuncs: string[];
  sourceBytes: number;
}

const encoder = new TextEncoder();

/**
 * Runs every static check on a policy version.
 *
 * @example runStaticChecks({ source, opsName: "fifo", tunables: [], parameters: {} }).ok
 */
export function runStaticChecks(input: StaticCheckInput): StaticCheckResult {
  const out = new Findings();
  const tunables = checkTunables(input.tunables, out);
  checkOpsName(input.opsName, out);
  const parameters = checkParameters(input.parameters, tunables, out);
  const sourceBytes = encoder.encode(input.source).byteLength;
  const used = { helpers: new Set<string>(), kfuncs: new Set<string>() };
  if (sourceBytes > STATIC_CHECK_LIMITS.maxSourceBytes) {
    out.add(
      "source_too_large",
      `the source is ${sourceBytes} bytes; the limit is ${STATIC_CHECK_LIMITS.maxSourceBytes}`,
      null,
    );
  } else {
    new SourceScan(input, tunables, out, used).run();
  }
  const diagnostics = out.list();
  return {
    ok: diagnostics.every((d) => d.severity !== "error"),
    diagnostics,
    parameters,
    helpers: [...used.helpers].sort(),
    kfuncs: [...used.kfuncs].sort(),
    sourceBytes,
  };
}

function checkTunables(tunables: readonly Tunable[], out: Findings): readonly Tunable[] {
  const parsed = TunablesSchema.safeParse(tunables);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const [index, ...rest] = issue.path;
    const path =
      typeof index === "number"
        ? `tunables[${index}]${rest.map((k) => `.${String(k)}`).join("")}`
        : "tunables";
    out.add("tunable_invalid", issue.message, null, { path });
  }
  // Check parameters against the tunables that are well-formed on their own.
  return tunables.filter((t) => TunablesSchema.safeParse([t]).success);
}

function checkOpsName(opsName: string, out: Findings): void {
  const parsed = OpsNameSchema.safeParse(opsName);
  if (!parsed.success)
    out.add("ops_name_invalid", parsed.error.issues[0]!.message, null, { path: "opsName" });
}

function checkParameters(
  submitted: unknown,
  tunables: readonly Tunable[],
  out: Findings,
): Record<string, number | boolean> {
  const effective: Record<string, number | boolean> = {};
  for (const t of tunables) effective[t.name] = t.default;
  const parsed = ParametersSchema.safeParse(submitted ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = ["parameters", ...issue.path.map(String)].join(".");
      out.add("parameters_invalid", issue.message, null, { path });
    }
    return effective;
  }
  const byName = new Map(tunables.map((t) => [t.name, t]));
  for (const [name, value] of Object.entries(parsed.data)) {
    const path = `parameters.${name}`;
    const tunable = byName.get(name);
    if (!tunable) {
      const known = tunables.map((t) => t.name).join(", ") || "none";
      out.add(
        "parameter_unknown",
        `${name} is not a tunable of this policy (tunables: ${known})`,
        null,
        { path },
      );
      continue;
    }
    if (tunable.type === "bool") {
      if (typeof value !== "boolean") {
        out.add("parameter_type", `${name} is a bool: true or false`, null, { path });
        continue;
      }
      effective[name] = value;
      continue;
    }
    if (typeof value !== "number" || !Number.isInteger(value)) {
      out.add("parameter_type", `${name} is an int: a whole number`, null, { path });
      continue;
    }
    if (value < tunable.min! || value > tunable.max!) {
      out.add(
        "parameter_out_of_bounds",
        `${name} = ${value} is outside [${tunable.min}, ${tunable.max}]`,
        null,
        { path },
      );
      continue;
    }
    effective[name] = value;
  }
  return effective;
}
