/**
 * The tunables' macros in the source: each arrives as `-DEK_…=…` (defines.ts), so the source
 * must use it, and must not #define it without `#ifndef` nor #undef it, or the submitted value
 * would be ignored.
 */

import { tunableMacro } from "../bpf/defines.js";
import type { Directive, Token } from "../c-lexer.js";
import type { Tunable } from "../metadata.js";
import type { ScanState } from "./state.js";

/** `#define` of a tunable's macro, unless guarded by the `#ifndef` just before it. */
export function checkTunableDefine(
  state: ScanState,
  name: Token,
  previous: Directive | null,
): void {
  const tunable = tunableAt(state, name.text);
  if (tunable) {
    const guarded = previous?.name === "ifndef" && previous.tokens[0]?.text === name.text;
    if (!guarded) {
      state.out.add(
        "tunable_redefined",
        `${name.text} (tunable ${tunable.name}) is #defined without #ifndef ${name.text}: the submitted value, -D${name.text}=…, would be ignored`,
        name,
      );
    }
  }
}

/** `#undef` of a tunable's macro drops the submitted value as surely as a plain #define. */
export function checkTunableUndef(state: ScanState, d: Directive): void {
  const name = d.tokens[0];
  const tunable = name?.kind === "ident" ? tunableAt(state, name.text) : undefined;
  if (name && tunable) {
    state.out.add(
      "tunable_redefined",
      `#undef ${name.text} (tunable ${tunable.name}) drops the submitted value, -D${name.text}=…`,
      name,
    );
  }
}

export function checkTunableUse(
  state: ScanState,
  lexed: { tokens: Token[]; directives: Directive[] },
): void {
  const mentioned = new Set<string>();
  for (const t of lexed.tokens) if (t.kind === "ident") mentioned.add(t.text);
  for (const d of lexed.directives)
    for (const t of d.tokens) if (t.kind === "ident") mentioned.add(t.text);
  state.tunables.forEach((t, index) => {
    const macro = tunableMacro(t.name);
    if (mentioned.has(macro)) return;
    // A source written for the parameter's own name would read an undefined identifier.
    const hint = mentioned.has(t.name)
      ? `; the source mentions ${t.name}, but the parameter arrives as the macro ${macro}`
      : "";
    state.out.add(
      "tunable_unused",
      `tunable ${t.name} is never used: the source does not mention ${macro}, so -D${macro}=… would change nothing${hint}`,
      null,
      { path: `tunables[${index}].name`, severity: "warning" },
    );
  });
}

/** The tunable whose macro is `name`, if any. */
function tunableAt(state: ScanState, name: string): Tunable | undefined {
  const index = state.tunableMacros.get(name);
  return index === undefined ? undefined : state.tunables[index];
}
