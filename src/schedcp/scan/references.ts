/**
 * The token rules: one walk over a run of tokens (the file, a macro body, an `#if` condition)
 * that reports references to refused or unknown helpers and kfuncs, inline assembly, aliasing
 * attributes, token pasting and calls through members, hands each `(` to the pointer rules
 * (pointers.ts), learns the file's functions, and collects the calls to judge at the end
 * (calls.ts).
 */

import { ALLOWED_CALLEES, FORBIDDEN_CALLEES, RESERVED_CALLEE_PREFIXES } from "../bpf-allowlist.js";
import type { Token } from "../c-lexer.js";
import { isFunctionPointerAt, matchParen } from "./c-tokens.js";
import {
  ALIASING_ATTRIBUTES,
  ASM_WORDS,
  ATTRIBUTE_WORDS,
  TAG_KEYWORDS,
  TYPEOF_WORDS,
} from "./c-vocabulary.js";
import { checkFunctionPointer, checkIntegerToPointer, checkTypeofFunction } from "./pointers.js";
import type { ScanState } from "./state.js";

/**
 * The token rules: references to helpers and kfuncs, calls, inline assembly, attributes,
 * function pointers and integer-to-pointer casts. `topLevel` tracks brace depth so that
 * `name(` at file scope is a declaration, not a call.
 */
export function scanTokens(
  state: ScanState,
  tokens: readonly Token[],
  ctx: { topLevel: boolean; scope: ReadonlySet<string>; conditional?: boolean },
): void {
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (t.kind === "punct") {
      if (t.text === "{") depth += 1;
      else if (t.text === "}") depth = Math.max(0, depth - 1);
      else if (t.text === "##") {
        state.out.add(
          "token_pasting",
          "## builds identifiers from pieces the checks cannot see: write names out in full",
          t,
        );
      } else if (t.text === "(") {
        checkFunctionPointer(state, tokens, i);
        checkIntegerToPointer(state, tokens, i);
      }
      continue;
    }
    if (t.kind !== "ident") continue;
    if (ASM_WORDS.has(t.text)) {
      state.out.add(
        "inline_asm",
        "inline assembly can emit any instruction, helper calls included",
        t,
      );
      let j = i + 1;
      while (tokens[j]?.kind === "ident") j += 1; // volatile, goto, inline
      if (tokens[j]?.text === "(") i = matchParen(tokens, j);
      continue;
    }
    if (t.text === "_Pragma") {
      state.out.add("directive_not_allowed", "_Pragma is not allowed: use #pragma", t);
      continue;
    }
    if (ATTRIBUTE_WORDS.has(t.text) && next?.text === "(") {
      const end = matchParen(tokens, i + 1);
      for (let j = i + 1; j < end; j++) {
        const a = tokens[j]!;
        if (a.kind === "ident" && ALIASING_ATTRIBUTES.has(a.text)) {
          state.out.add(
            "attribute_not_allowed",
            `__attribute__((${a.text})) binds a name to another symbol the checks cannot follow`,
            a,
          );
        }
      }
      i = end;
      continue;
    }
    const member = prev?.text === "." || prev?.text === "->";
    const tag = prev !== undefined && TAG_KEYWORDS.has(prev.text);
    if (member && next?.text === "(") {
      state.out.add(
        "indirect_call",
        `a call through ${prev!.text}${t.text}: calls through pointers are not allowed`,
        t,
      );
      continue;
    }
    if (member || tag) continue;
    if (ctx.conditional) {
      checkReference(state, t, ctx.scope);
      continue;
    }
    checkReference(state, t, ctx.scope);
    if (next?.text !== "(") continue;
    // `long (*f)(void)`: a declarator (judged at its parenthesis), not a call of `long`.
    if (isFunctionPointerAt(tokens, i + 1)) continue;
    if (TYPEOF_WORDS.has(t.text)) {
      checkTypeofFunction(state, tokens, i);
      continue;
    }
    if (ctx.topLevel && depth === 0) {
      declareAt(state, tokens, i);
      continue;
    }
    state.calls.push({ name: t.text, token: t, scope: ctx.scope });
  }
}

/** `name(…)` at file scope: a function defined or declared, or a macro invoked. */
function declareAt(state: ScanState, tokens: readonly Token[], i: number): void {
  const name = tokens[i]!.text;
  const close = matchParen(tokens, i + 1);
  const after = tokens[close + 1];
  if (isMacro(state, name)) {
    // BPF_STRUCT_OPS(my_enqueue, …) { … } defines my_enqueue.
    const first = tokens[i + 2];
    if (after?.text === "{" && first?.kind === "ident") state.names.functions.add(first.text);
    // Calls inside the arguments of a file-scope macro are still calls.
    for (let j = i + 2; j < close; j++) {
      const t = tokens[j]!;
      if (t.kind === "ident" && tokens[j + 1]?.text === "(" && !isMacro(state, t.text)) {
        state.calls.push({ name: t.text, token: t, scope: new Set() });
      }
    }
    return;
  }
  if (after?.text === "{") state.names.functions.add(name);
  else state.names.declared.add(name);
}

function isMacro(state: ScanState, name: string): boolean {
  return (
    state.names.macros.has(name) ||
    state.trusted.has(name) ||
    state.tunableMacros.has(name) ||
    ALLOWED_CALLEES[name]?.kind === "macro"
  );
}

/** Any mention of a helper or kfunc name, called or not (a macro body, `&name`, a cast). */
function checkReference(state: ScanState, t: Token, scope: ReadonlySet<string>): void {
  const name = t.text;
  if (scope.has(name)) return;
  const allowed = ALLOWED_CALLEES[name];
  if (allowed) {
    if (allowed.kind === "helper") state.used.helpers.add(name);
    else if (allowed.kind === "kfunc") state.used.kfuncs.add(name);
    return;
  }
  const why = FORBIDDEN_CALLEES[name];
  if (why !== undefined) {
    state.out.add("callee_forbidden", `${name} is refused: it ${why}`, t);
    return;
  }
  if (state.trusted.has(name)) return;
  if (RESERVED_CALLEE_PREFIXES.some((p) => name.startsWith(p))) {
    state.out.add(
      "callee_not_allowed",
      `${name} is not on the allow-list of helpers and kfuncs (names starting bpf_ or scx_bpf_ are reserved for them)`,
      t,
    );
  }
}
