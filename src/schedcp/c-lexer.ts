/**
 * A C tokenizer for the static checks: enough of translation phases 1-3 (line splices,
 * comments, string and character literals, preprocessing directives, digraphs) that a scan
 * over its tokens sees what the compiler will see. Comments and literals never produce
 * identifier tokens, a name split by a backslash-newline comes out whole, and every token
 * carries the line and column where it starts in the original text.
 *
 * It does not expand macros: the checks look at macro bodies as written (and refuse `##`,
 * the one operator that can build a name the scan would not see).
 */

export type TokenKind = "ident" | "number" | "string" | "char" | "punct";

export interface Token {
  kind: TokenKind;
  /** Digraphs come out as what they spell: `<:` as `[`, `%:%:` as `##`. */
  text: string;
  line: number;
  column: number;
}

/** A preprocessing directive: `#name tokens…` on one logical line. */
export interface Directive {
  /** `include`, `define`, …; empty for the null directive (`#` alone). */
  name: string;
  /** The tokens after the name. */
  tokens: Token[];
  /** The text after the name, comments removed, trimmed (for `#include <a/b.h>`). */
  rest: string;
  line: number;
  column: number;
}

export type LexIssueCode =
  | "trigraph"
  | "universal_character_name"
  | "non_ascii"
  | "unterminated_comment"
  | "unterminated_literal"
  | "stray_backslash";

export interface LexIssue {
  code: LexIssueCode;
  message: string;
  line: number;
  column: number;
}

export interface Lexed {
  /** Tokens outside directives, in order. */
  tokens: Token[];
  directives: Directive[];
  issues: LexIssue[];
}

// Longest first, so `%:%:` wins over `%:` and `<<=` over `<<`.
const PUNCTUATORS = [
  "%:%:",
  "...",
  "<<=",
  ">>=",
  "->",
  "++",
  "--",
  "<<",
  ">>",
  "<=",
  ">=",
  "==",
  "!=",
  "&&",
  "||",
  "*=",
  "/=",
  "%=",
  "+=",
  "-=",
  "&=",
  "^=",
  "|=",
  "##",
  "<:",
  ":>",
  "<%",
  "%>",
  "%:",
];
const DIGRAPHS: Record<string, string> = {
  "<:": "[",
  ":>": "]",
  "<%": "{",
  "%>": "}",
  "%:": "#",
  "%:%:": "##",
};
const STRING_PREFIXES = new Set(["L", "u", "U", "u8"]);
const TRIGRAPH = /\?\?[=/'()!<>-]/g;

function isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" || c === "$";
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= "0" && c <= "9");
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/**
 * Phase 2: removes every backslash-newline (clang also accepts spaces between the two, with a
 * warning, so this does too), keeping for each remaining character its original line and column.
 */
function splice(source: string): { text: string; lines: Int32Array; columns: Int32Array } {
  const lines = new Int32Array(source.length + 1);
  const columns = new Int32Array(source.length + 1);
  let line = 1;
  let column = 1;
  let i = 0;
  let out = 0;
  const parts: string[] = [];
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\\") {
      let j = i + 1;
      while (source[j] === " " || source[j] === "\t") j++;
      if (source[j] === "\r" && source[j + 1] === "\n") j++;
      if (source[j] === "\n") {
        i = j + 1;
        line += 1;
        column = 1;
        continue;
      }
    }
    parts.push(c);
    lines[out] = line;
    columns[out] = column;
    out += 1;
    i += 1;
    if (c === "\n") {
      line += 1;
      column = 1;
    } else {
      column += 1;
    }
  }
  lines[out] = line;
  columns[out] = column;
  return { text: parts.join(""), lines, columns };
}

/**
 * Tokens, directives and lexical problems of a C source.
 *
 * @example lexC('#include "vmlinux.h"\nint x = f(1); // g(2)').tokens.map((t) => t.text) // ["int", "x", "=", "f", "(", "1", ")", ";"]
 */
export function lexC(source: string): Lexed {
  const issues: LexIssue[] = [];
  // Phase 1: trigraphs are off in clang's default GNU modes, but a `-std=c11` build would
  // turn `??/` into a backslash and splice lines the scan saw apart: refuse them outright.
  for (const m of source.matchAll(TRIGRAPH)) {
    const before = source.slice(0, m.index);
    const line = before.split("\n").length;
    const column = m.index - before.lastIndexOf("\n");
    issues.push({
      code: "trigraph",
      message: `trigraph ${m[0]}: some compiler modes replace it before anything else`,
      line,
      column,
    });
  }

  const { text, lines, columns } = splice(source);
  const tokens: Token[] = [];
  const directives: Directive[] = [];
  type OpenDirective = Directive & { restStart: number; named: boolean };
  let directive: OpenDirective | null = null;
  let atLineStart = true;
  let i = 0;

  const at = (offset: number) => ({ line: lines[offset]!, column: columns[offset]! });
  const issue = (code: LexIssueCode, message: string, offset: number) =>
    issues.push({ code, message, ...at(offset) });
  const endDirective = (open: OpenDirective, endOffset: number) => {
    const rest = text
      .slice(open.restStart, endOffset)
      .replace(/\/\*[\s\S]*?\*\//g, " ")
      .replace(/\/\/.*$/, "")
      .trim();
    directives.push({
      name: open.name,
      tokens: open.tokens,
      rest,
      line: open.line,
      column: open.column,
    });
    directive = null;
  };
  const emit = (kind: TokenKind, tokenText: string, offset: number, length: number) => {
    const token: Token = { kind, text: tokenText, ...at(offset) };
    const startsLine = atLineStart;
    atLineStart = false;
    if (directive) {
      if (!directive.named) {
        directive.named = true;
        if (kind === "ident") {
          directive.name = tokenText;
          directive.restStart = offset + length;
          return;
        }
      }
      directive.tokens.push(token);
      return;
    }
    if (startsLine && kind === "punct" && tokenText === "#") {
      directive = {
        name: "",
        tokens: [],
        rest: "",
        ...at(offset),
        restStart: offset + length,
        named: false,
      };
      return;
    }
    tokens.push(token);
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      if (directive) endDirective(directive, i);
      atLineStart = true;
      i += 1;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i += 1;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i += 1;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end === -1) {
        issue("unterminated_comment", "a /* comment is never closed", i);
        i = text.length;
        break;
      }
      i = end + 2;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < text.length && isIdentPart(text[j]!)) j += 1;
      const word = text.slice(i, j);
      const next = text[j];
      if (STRING_PREFIXES.has(word) && (next === '"' || next === "'")) {
        i = literal(j, next, i);
        continue;
      }
      if (next === "\\" && (text[j + 1] === "u" || text[j + 1] === "U")) {
        issue(
          "universal_character_name",
          "a \\u or \\U escape in an identifier can spell any name: write identifiers in plain ASCII",
          j,
        );
      }
      emit("ident", word, i, word.length);
      i = j;
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(text[i + 1]))) {
      let j = i + 1;
      while (j < text.length) {
        const d = text[j]!;
        if ((d === "+" || d === "-") && /[eEpP]/.test(text[j - 1]!)) {
          j += 1;
          continue;
        }
        if (isIdentPart(d) || d === ".") {
          j += 1;
          continue;
        }
        break;
      }
      emit("number", text.slice(i, j), i, j - i);
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      i = literal(i, c, i);
      continue;
    }
    if (c === "\\") {
      if (text[i + 1] === "u" || text[i + 1] === "U") {
        issue(
          "universal_character_name",
          "a \\u or \\U escape outside a literal can spell any name: write identifiers in plain ASCII",
          i,
        );
      } else {
        issue("stray_backslash", "a backslash outside a literal", i);
      }
      i += 1;
      continue;
    }
    if (c.charCodeAt(0) > 127) {
      issue(
        "non_ascii",
        "a non-ASCII character outside a comment or literal: identifiers must be plain ASCII",
        i,
      );
      // Skip the whole code point (a surrogate pair is one character to the reader).
      i += c.charCodeAt(0) >= 0xd800 && c.charCodeAt(0) <= 0xdbff ? 2 : 1;
      continue;
    }
    const punct = PUNCTUATORS.find((p) => text.startsWith(p, i)) ?? c;
    emit("punct", DIGRAPHS[punct] ?? punct, i, punct.length);
    i += punct.length;
  }
  if (directive) endDirective(directive, text.length);
  return { tokens, directives, issues };

  /** A string or character literal from `quoteAt`; returns the offset after it. */
  function literal(quoteAt: number, quote: string, startAt: number): number {
    let j = quoteAt + 1;
    while (j < text.length && text[j] !== quote && text[j] !== "\n") {
      j += text[j] === "\\" ? 2 : 1;
    }
    if (text[j] !== quote) {
      issue(
        "unterminated_literal",
        `a ${quote === '"' ? "string" : "character"} literal is never closed`,
        startAt,
      );
      emit(quote === '"' ? "string" : "char", text.slice(startAt, j), startAt, j - startAt);
      return j;
    }
    emit(quote === '"' ? "string" : "char", text.slice(startAt, j + 1), startAt, j + 1 - startAt);
    return j + 1;
  }
}
