/**
 * The preprocessor directives: only allowed ones, includes only of allowed headers, and what
 * `#define` teaches the rest of the scan (the file's macros, integer macros, license macros).
 * Macro bodies and `#if` conditions are scanned by the token rules like any other code.
 */

import { ALLOWED_INCLUDES } from "../bpf-allowlist.js";
import type { Directive } from "../c-lexer.js";
import { integerValue } from "./c-tokens.js";
import { ALLOWED_DIRECTIVES, OPENS_CONDITIONAL } from "./c-vocabulary.js";
import { learnLicenseMacro } from "./license.js";
import { scanTokens } from "./references.js";
import type { ScanState } from "./state.js";
import { checkTunableDefine, checkTunableUndef } from "./tunables.js";

export function checkDirectives(state: ScanState, directives: readonly Directive[]): void {
  let previous: Directive | null = null;
  let conditionalDepth = 0;
  for (const d of directives) {
    if (OPENS_CONDITIONAL.has(d.name)) conditionalDepth += 1;
    else if (d.name === "endif") conditionalDepth = Math.max(0, conditionalDepth - 1);
    if (!ALLOWED_DIRECTIVES.has(d.name)) {
      state.out.add("directive_not_allowed", `#${d.name} is not allowed`, d);
    } else if (d.name === "include") {
      const path = checkInclude(state, d);
      if (path !== null && conditionalDepth === 0) state.includedAlways.set(path, d);
    } else if (d.name === "define") {
      checkDefine(state, d, previous);
    } else if (d.name === "undef") {
      checkTunableUndef(state, d);
    } else if (d.name !== "error" && d.name !== "warning" && d.name !== "pragma") {
      // #if and friends: their names are references too.
      scanTokens(state, d.tokens, { topLevel: false, scope: new Set(), conditional: true });
    }
    previous = d;
  }
}

/** The included path, or null when the include is malformed or not allowed. */
function checkInclude(state: ScanState, d: Directive): string | null {
  const m = /^"([^"]*)"$/.exec(d.rest) ?? /^<([^>]*)>$/.exec(d.rest);
  if (!m) {
    state.out.add(
      "include_malformed",
      `#include ${d.rest}: only a plain "name" or <name> (no macros) is allowed`,
      d,
    );
    return null;
  }
  const path = m[1]!;
  if (!Object.hasOwn(ALLOWED_INCLUDES, path)) {
    const allowed = Object.keys(ALLOWED_INCLUDES).join(", ");
    state.out.add("include_not_allowed", `#include ${d.rest}: only ${allowed} may be included`, d);
    return null;
  }
  return path;
}

function checkDefine(state: ScanState, d: Directive, previous: Directive | null): void {
  const name = d.tokens[0];
  if (name?.kind !== "ident") return;
  state.names.macros.add(name.text);
  let body = d.tokens.slice(1);
  const params = new Set<string>();
  const open = d.tokens[1];
  // Function-like only when `(` touches the name: `#define F(x)` and not `#define F (x)`.
  if (
    open?.text === "(" &&
    open.line === name.line &&
    open.column === name.column + name.text.length
  ) {
    let j = 2;
    while (j < d.tokens.length && d.tokens[j]!.text !== ")") {
      const t = d.tokens[j]!;
      if (t.kind === "ident") params.add(t.text);
      if (t.text === "...") params.add("__VA_ARGS__");
      j += 1;
    }
    body = d.tokens.slice(j + 1);
  } else if (body.length === 1 && body[0]!.kind === "number") {
    state.integerMacros.set(name.text, integerValue(body[0]!.text));
  }
  checkTunableDefine(state, name, previous);
  learnLicenseMacro(state, name.text, body);
  scanTokens(state, body, { topLevel: false, scope: params });
}
