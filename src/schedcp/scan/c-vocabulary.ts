/**
 * The C words and punctuation the source scan gives a meaning to: which directives are
 * allowed, which words before `(` are not calls, and the keywords, qualifiers and attributes
 * that change how the tokens after them read.
 */

/** Directives that open and close a conditional block. */
export const OPENS_CONDITIONAL = new Set(["if", "ifdef", "ifndef"]);

export const ALLOWED_DIRECTIVES = new Set([
  "",
  "include",
  "define",
  "undef",
  "if",
  "ifdef",
  "ifndef",
  "elif",
  "elifdef",
  "elifndef",
  "else",
  "endif",
  "pragma",
  "error",
  "warning",
]);

/** Words followed by `(` that are not calls. */
export const NOT_CALLS = new Set([
  "if",
  "for",
  "while",
  "switch",
  "return",
  "sizeof",
  "_Alignof",
  "alignof",
  "__alignof__",
  "_Alignas",
  "typeof",
  "__typeof__",
  "__typeof",
  "_Generic",
  "_Static_assert",
  "static_assert",
  "__builtin_types_compatible_p",
  "defined",
  "__has_include",
  "__has_builtin",
  "__has_attribute",
  "__has_feature",
]);
export const TAG_KEYWORDS = new Set(["struct", "union", "enum"]);
export const QUALIFIERS = new Set(["const", "volatile", "restrict", "__restrict", "__restrict__"]);
export const ASM_WORDS = new Set(["asm", "__asm__", "__asm"]);
export const TYPEOF_WORDS = new Set([
  "typeof",
  "__typeof__",
  "__typeof",
  "typeof_unqual",
  "__typeof_unqual__",
]);
export const UNARY = new Set(["-", "+", "~"]);
export const CAST_TYPE_PUNCT = new Set(["(", ")", ",", "..."]);
export const ATTRIBUTE_WORDS = new Set(["__attribute__", "__attribute"]);
export const ALIASING_ATTRIBUTES = new Set([
  "alias",
  "ifunc",
  "weakref",
  "__alias__",
  "__ifunc__",
  "__weakref__",
]);
