/**
 * Finding things in a token array (c-lexer.ts): the close of a bracket pair, a function
 * pointer declarator, an integer literal's value, a string, a `SEC("…")` section and a
 * designated initializer's string. Pure functions of the tokens; they report nothing.
 */

import type { Token } from "../c-lexer.js";
import { ATTRIBUTE_WORDS, QUALIFIERS } from "./c-vocabulary.js";

/** `( * [qualifiers] [name [dims]] ) (` at `open`: a function pointer declarator or type. */
export function isFunctionPointerAt(tokens: readonly Token[], open: number): boolean {
  if (tokens[open]?.text !== "(" || tokens[open + 1]?.text !== "*") return false;
  let j = open + 2;
  while (tokens[j] && QUALIFIERS.has(tokens[j]!.text)) j += 1;
  if (tokens[j]?.kind === "ident") {
    j += 1;
    while (tokens[j]?.text === "[") j = matchBracket(tokens, j) + 1;
  }
  return tokens[j]?.text === ")" && tokens[j + 1]?.text === "(";
}

/** The index of the `)` matching the `(` at `open` (or the last index when unbalanced). */
export function matchParen(tokens: readonly Token[], open: number): number {
  return matchPair(tokens, open, "(", ")");
}
export function matchBrace(tokens: readonly Token[], open: number): number {
  return matchPair(tokens, open, "{", "}");
}
export function matchBracket(tokens: readonly Token[], open: number): number {
  return matchPair(tokens, open, "[", "]");
}
function matchPair(tokens: readonly Token[], open: number, left: string, right: string): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const text = tokens[i]!.text;
    if (text === left) depth += 1;
    else if (text === right) {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return tokens.length - 1;
}

/** The value of a C integer literal (`36`, `0x24`, `044`, `36UL`), NaN when it is not one. */
export function integerValue(text: string): number {
  const bare = text.replace(/[uUlL]+$/, "");
  if (/^0[xX][0-9a-fA-F]+$/.test(bare)) return Number.parseInt(bare.slice(2), 16);
  if (/^0[bB][01]+$/.test(bare)) return Number.parseInt(bare.slice(2), 2);
  if (/^0[0-7]*$/.test(bare)) return Number.parseInt(bare, 8);
  if (/^[1-9][0-9]*$/.test(bare)) return Number.parseInt(bare, 10);
  return Number.NaN;
}

/** Adjacent string literals from `i`, concatenated as the compiler does, unquoted. */
export function stringAt(tokens: readonly Token[], i: number): { value: string; at: Token } | null {
  const first = tokens[i];
  if (first?.kind !== "string" || !first.text.startsWith('"')) return null;
  let value = "";
  let j = i;
  while (tokens[j]?.kind === "string" && tokens[j]!.text.startsWith('"')) {
    value += tokens[j]!.text.slice(1, -1);
    j += 1;
  }
  return { value, at: first };
}

/** The section named by a `SEC("…")` among tokens [from, to). */
export function sectionOf(tokens: readonly Token[], from: number, to: number): string | null {
  for (let i = from; i < to; i++) {
    if (tokens[i]!.text === "SEC" && tokens[i + 1]?.text === "(")
      return stringAt(tokens, i + 2)?.value ?? null;
    if (ATTRIBUTE_WORDS.has(tokens[i]!.text)) {
      for (let j = i; j < to; j++) {
        if (tokens[j]!.text === "section" && tokens[j + 1]?.text === "(")
          return stringAt(tokens, j + 2)?.value ?? null;
      }
    }
  }
  return null;
}

/** `.field = "…"` at the top level of an initializer spanning tokens [from, to). */
export function designatedString(
  tokens: readonly Token[],
  from: number,
  to: number,
  field: string,
): { value: string; at: Token } | null {
  let depth = 0;
  for (let i = from; i < to; i++) {
    const text = tokens[i]!.text;
    if (text === "{" || text === "(") depth += 1;
    else if (text === "}" || text === ")") depth -= 1;
    else if (
      depth === 0 &&
      text === "." &&
      tokens[i + 1]?.text === field &&
      tokens[i + 2]?.text === "="
    ) {
      return stringAt(tokens, i + 3);
    }
  }
  return null;
}
