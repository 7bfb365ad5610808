/**
 * The pointer rules, each judged at a `(`: function pointers (calls through pointers are not
 * allowed), integers turned into pointers (how helpers are called by number), and `typeof`
 * of a function (the first step to a pointer to it).
 */

import { ALLOWED_CALLEES, RESERVED_CALLEE_PREFIXES } from "../bpf-allowlist.js";
import type { Token } from "../c-lexer.js";
import { integerValue, isFunctionPointerAt, matchBracket, matchParen } from "./c-tokens.js";
import { CAST_TYPE_PUNCT, QUALIFIERS, UNARY } from "./c-vocabulary.js";
import type { ScanState } from "./state.js";

/**
 * `( * name ) (` and `( * ) (`: function pointers. The one form allowed is how headers
 * declare a helper by its number, `static T (*bpf_x)(…) = (void *) N;`, when `bpf_x` is
 * allow-listed and N is its number.
 */
export function checkFunctionPointer(
  state: ScanState,
  tokens: readonly Token[],
  open: number,
): void {
  if (!isFunctionPointerAt(tokens, open)) return;
  let j = open + 2;
  while (tokens[j] && QUALIFIERS.has(tokens[j]!.text)) j += 1;
  const nameToken = tokens[j]?.kind === "ident" ? tokens[j]! : null;
  if (nameToken) {
    j += 1;
    while (tokens[j]?.text === "[") j = matchBracket(tokens, j) + 1;
  }
  const paramsEnd = matchParen(tokens, j + 1);
  const where = nameToken ?? tokens[open]!;
  if (!nameToken) {
    state.out.add(
      "function_pointer",
      "a function pointer type: calls through pointers are not allowed",
      where,
    );
    return;
  }
  const name = nameToken.text;
  const init = tokens.slice(paramsEnd + 1, paramsEnd + 7).map((t) => t.text);
  const number = tokens[paramsEnd + 6];
  const isHelperDecl =
    init[0] === "=" &&
    init[1] === "(" &&
    init[2] === "void" &&
    init[3] === "*" &&
    init[4] === ")" &&
    number?.kind === "number";
  if (!isHelperDecl) {
    state.out.add(
      "function_pointer",
      `${name} is a function pointer: calls through pointers are not allowed`,
      nameToken,
    );
    return;
  }
  state.judged.add(number);
  const allowed = ALLOWED_CALLEES[name];
  const id = integerValue(number.text);
  if (allowed?.kind === "helper" && id !== allowed.helperId) {
    state.out.add(
      "helper_id_mismatch",
      `${name} is helper number ${allowed.helperId}, but is declared as number ${number.text}`,
      number,
    );
  } else if (!allowed && !RESERVED_CALLEE_PREFIXES.some((p) => name.startsWith(p))) {
    state.out.add(
      "function_pointer",
      `${name} = (void *) ${number.text} calls helper number ${number.text} under a name the allow-list does not know`,
      nameToken,
    );
  }
}

/** `(T *) N` with N a nonzero integer: how a helper is called by number, out of sight. */
export function checkIntegerToPointer(
  state: ScanState,
  tokens: readonly Token[],
  open: number,
): void {
  // A cast's type: words, stars, and the parenthesised parts of a function pointer type.
  const close = matchParen(tokens, open);
  if (close <= open + 1 || tokens[open + 1]!.kind !== "ident") return;
  let stars = 0;
  for (let j = open + 1; j < close; j++) {
    const t = tokens[j]!;
    if (t.text === "*") stars += 1;
    else if (t.kind !== "ident" && !CAST_TYPE_PUNCT.has(t.text)) return;
  }
  if (stars === 0) return;
  const j = close;
  let k = j + 1;
  while (tokens[k]?.text === "(" || UNARY.has(tokens[k]?.text ?? "")) k += 1;
  const operand = tokens[k];
  if (!operand || state.judged.has(operand)) return;
  const value =
    operand.kind === "number"
      ? integerValue(operand.text)
      : operand.kind === "ident"
        ? (state.integerMacros.get(operand.text) ?? 0)
        : 0;
  if (value === 0) return;
  state.out.add(
    "integer_to_pointer",
    `the integer ${operand.text} is turned into a pointer: that is how helpers are called by number`,
    operand,
  );
}

/** `typeof(fn)`: the type of a function or helper, the first step to a pointer to it. */
export function checkTypeofFunction(state: ScanState, tokens: readonly Token[], at: number): void {
  if (tokens[at + 1]?.text !== "(") return;
  const close = matchParen(tokens, at + 1);
  for (let j = at + 2; j < close; j++) {
    const t = tokens[j]!;
    if (t.kind !== "ident") continue;
    if (
      Object.hasOwn(ALLOWED_CALLEES, t.text) ||
      state.names.functions.has(t.text) ||
      state.names.declared.has(t.text)
    ) {
      state.out.add(
        "function_pointer",
        `${tokens[at]!.text}(${t.text}) takes the type of a function: calls through pointers are not allowed`,
        t,
      );
      return;
    }
  }
}
