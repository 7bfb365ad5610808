/**
 * The calls the token rules collected, judged once the whole file has been scanned: a call is
 * fine when it names one of the file's functions or macros, a trusted header's name, a
 * tunable's macro, an allow-listed helper or kfunc, or an allowed builtin.
 */

import {
  ALLOWED_CALLEES,
  FORBIDDEN_CALLEES,
  isAllowedBuiltin,
  RESERVED_CALLEE_PREFIXES,
} from "../bpf-allowlist.js";
import { NOT_CALLS } from "./c-vocabulary.js";
import type { ScanState } from "./state.js";

/** Calls are judged at the end, when every function of the file is known. */
export function checkCalls(state: ScanState): void {
  for (const { name, token, scope } of state.calls) {
    if (
      NOT_CALLS.has(name) ||
      scope.has(name) ||
      state.names.functions.has(name) ||
      state.names.macros.has(name) ||
      state.trusted.has(name) ||
      state.tunableMacros.has(name) ||
      Object.hasOwn(ALLOWED_CALLEES, name) ||
      isAllowedBuiltin(name)
    ) {
      continue;
    }
    // Reported once already, where it is mentioned.
    if (Object.hasOwn(FORBIDDEN_CALLEES, name)) continue;
    if (RESERVED_CALLEE_PREFIXES.some((p) => name.startsWith(p))) continue;
    const declaredOnly = state.names.declared.has(name);
    state.out.add(
      "unknown_call",
      declaredOnly
        ? `${name} is declared but not defined here, and is not an allowed helper or kfunc`
        : `${name} is not defined in this file, not a macro, and not an allowed helper, kfunc or builtin`,
      token,
    );
  }
}
