/**
 * The source half of the static checks: directives, includes, the token rules (references to
 * helpers and kfuncs, calls, inline assembly, function pointers, integers turned into
 * pointers), the scheduler's ops struct, the license, and the tunables' use. See
 * static-checks.ts for what is checked and why.
 */

import { COMMON_HEADER } from "./bpf/catalog.js";
import { tunableMacro } from "./bpf/defines.js";
import {
  ALLOWED_CALLEES,
  ALLOWED_INCLUDES,
  FORBIDDEN_CALLEES,
  GPL_COMPATIBLE_LICENSES,
  HEADER_MACROS,
  isAllowedBuiltin,
  RESERVED_CALLEE_PREFIXES,
} from "./bpf-allowlist.js";
import { type Directive, type LexIssueCode, lexC, type Token } from "./c-lexer.js";
import type { Findings } from "./diagnostics.js";
import type { Tunable } from "./metadata.js";
import type { StaticCheckInput } from "./static-checks.js";

/**
 * The local headers every policy compiles with: the verifier puts the project's common.h on
 * the include path, so what it defines is callable from any submitted source.
 */
const PROJECT_HEADERS: Readonly<Record<string, string>> = { "common.h": COMMON_HEADER };

/** Directives that open and close a conditional block. */
const OPENS_CONDITIONAL = new Set(["if", "ifdef", "ifndef"]);

const ALLOWED_DIRECTIVES = new Set([
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
const NOT_CALLS = new Set([
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
const TAG_KEYWORDS = new Set(["struct", "union", "enum"]);
const QUALIFIERS = new Set(["const", "volatile", "restrict", "__restrict", "__restrict__"]);
const ASM_WORDS = new Set(["asm", "__asm__", "__asm"]);
const TYPEOF_WORDS = new Set([
  "typeof",
  "__typeof__",
  "__typeof",
  "typeof_unqual",
  "__typeof_unqual__",
]);
const UNARY = new Set(["-", "+", "~"]);
const CAST_TYPE_PUNCT = new Set(["(", ")", ",", "..."]);
const ATTRIBUTE_WORDS = new Set(["__attribute__", "__attribute"]);
const ALIASING_ATTRIBUTES = new Set([
  "alias",
  "ifunc",
  "weakref",
  "__alias__",
  "__ifunc__",
  "__weakref__",
]);
const OPS_SECTION = ".struct_ops.link";

interface Call {
  name: string;
  token: Token;
}

/** A `SEC("license")` definition: its variable (when one is named) and its string. */
interface LicenseDefinition {
  symbol: string | null;
  value: { value: string; at: Token } | null;
  at: Token;
}

/** Names a file defines or declares, learned while scanning. */
interface Names {
  functions: Set<string>;
  declared: Set<string>;
  macros: Set<string>;
}

export class SourceScan {
  private readonly names: Names = { functions: new Set(), declared: new Set(), macros: new Set() };
  /** Object-like macros whose body is one integer: `#define N 36`. */
  private readonly integerMacros = new Map<string, number>();
  private readonly trusted = new Set<string>(HEADER_MACROS);
  /** Each tunable's macro (`slice_us` → `EK_SLICE_US`, see defines.ts) and its index. */
  private readonly tunableMacros: ReadonlyMap<string, number>;
  /** The licenses trusted headers define, by header name. */
  private readonly headerLicenses = new Map<string, LicenseDefinition[]>();
  /** Macros whose body defines a license (`#define EK_LICENSE char _license[] SEC(…) = …`). */
  private readonly licenseMacros = new Map<string, LicenseDefinition[]>();
  /** Headers included outside any conditional block, with the directive. */
  private readonly includedAlways = new Map<string, Directive>();
  private readonly calls: Array<Call & { scope: ReadonlySet<string> }> = [];
  /** Offsets (by token object) of integers already judged as a helper's number. */
  private readonly judged = new Set<Token>();

  constructor(
    private readonly input: StaticCheckInput,
    private readonly tunables: readonly Tunable[],
    private readonly out: Findings,
    private readonly used: { helpers: Set<string>; kfuncs: Set<string> },
  ) {
    this.tunableMacros = new Map(tunables.map((t, index) => [tunableMacro(t.name), index]));
  }

  run(): void {
    const headers = this.input.trustedHeaders ?? PROJECT_HEADERS;
    for (const [name, text] of Object.entries(headers)) this.learnHeader(name, text);
    const lexed = lexC(this.input.source);
    for (const issue of lexed.issues)
      this.out.add(issue.code satisfies LexIssueCode, issue.message, issue);
    this.checkDirectives(lexed.directives);
    this.scanTokens(lexed.tokens, { topLevel: true, scope: new Set() });
    this.checkCalls();
    this.checkOps(lexed.tokens);
    this.checkLicense(lexed.tokens);
    this.checkTunableUse(lexed);
  }

  /** Macros and functions a trusted header defines become callable names; its license counts. */
  private learnHeader(header: string, text: string): void {
    const lexed = lexC(text);
    this.headerLicenses.set(header, licenseDefinitions(lexed.tokens));
    // Reserved names stay reserved: a header's declaration does not put a helper on the list.
    const learn = (name: string) => {
      if (!RESERVED_CALLEE_PREFIXES.some((p) => name.startsWith(p))) this.trusted.add(name);
    };
    for (const d of lexed.directives) {
      if (d.name === "define" && d.tokens[0]?.kind === "ident") {
        learn(d.tokens[0].text);
        this.learnLicenseMacro(d.tokens[0].text, d.tokens.slice(1));
      }
    }
    let depth = 0;
    lexed.tokens.forEach((t, i) => {
      if (t.text === "{") depth += 1;
      else if (t.text === "}") depth = Math.max(0, depth - 1);
      else if (depth === 0 && t.kind === "ident" && lexed.tokens[i + 1]?.text === "(")
        learn(t.text);
    });
  }

  private checkDirectives(directives: readonly Directive[]): void {
    let previous: Directive | null = null;
    let conditionalDepth = 0;
    for (const d of directives) {
      if (OPENS_CONDITIONAL.has(d.name)) conditionalDepth += 1;
      else if (d.name === "endif") conditionalDepth = Math.max(0, conditionalDepth - 1);
      if (!ALLOWED_DIRECTIVES.has(d.name)) {
        this.out.add("directive_not_allowed", `#${d.name} is not allowed`, d);
      } else if (d.name === "include") {
        const path = this.checkInclude(d);
        if (path !== null && conditionalDepth === 0) this.includedAlways.set(path, d);
      } else if (d.name === "define") {
        this.checkDefine(d, previous);
      } else if (d.name === "undef") {
        this.checkUndef(d);
      } else if (d.name !== "error" && d.name !== "warning" && d.name !== "pragma") {
        // #if and friends: their names are references too.
        this.scanTokens(d.tokens, { topLevel: false, scope: new Set(), conditional: true });
      }
      previous = d;
    }
  }

  /** The included path, or null when the include is malformed or not allowed. */
  private checkInclude(d: Directive): string | null {
    const m = /^"([^"]*)"$/.exec(d.rest) ?? /^<([^>]*)>$/.exec(d.rest);
    if (!m) {
      this.out.add(
        "include_malformed",
        `#include ${d.rest}: only a plain "name" or <name> (no macros) is allowed`,
        d,
      );
      return null;
    }
    const path = m[1]!;
    if (!Object.hasOwn(ALLOWED_INCLUDES, path)) {
      const allowed = Object.keys(ALLOWED_INCLUDES).join(", ");
      this.out.add("include_not_allowed", `#include ${d.rest}: only ${allowed} may be included`, d);
      return null;
    }
    return path;
  }

  private checkDefine(d: Directive, previous: Directive | null): void {
    const name = d.tokens[0];
    if (name?.kind !== "ident") return;
    this.names.macros.add(name.text);
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
      this.integerMacros.set(name.text, integerValue(body[0]!.text));
    }
    const tunable = this.tunableAt(name.text);
    if (tunable) {
      const guarded = previous?.name === "ifndef" && previous.tokens[0]?.text === name.text;
      if (!guarded) {
        this.out.add(
          "tunable_redefined",
          `${name.text} (tunable ${tunable.name}) is #defined without #ifndef ${name.text}: the submitted value, -D${name.text}=…, would be ignored`,
          name,
        );
      }
    }
    this.learnLicenseMacro(name.text, body);
    this.scanTokens(body, { topLevel: false, scope: params });
  }

  private learnLicenseMacro(name: string, body: readonly Token[]): void {
    const defs = licenseDefinitions(body);
    if (defs.length > 0) this.licenseMacros.set(name, defs);
  }

  /** `#undef` of a tunable's macro drops the submitted value as surely as a plain #define. */
  private checkUndef(d: Directive): void {
    const name = d.tokens[0];
    const tunable = name?.kind === "ident" ? this.tunableAt(name.text) : undefined;
    if (name && tunable) {
      this.out.add(
        "tunable_redefined",
        `#undef ${name.text} (tunable ${tunable.name}) drops the submitted value, -D${name.text}=…`,
        name,
      );
    }
  }

  /** The tunable whose macro is `name`, if any. */
  private tunableAt(name: string): Tunable | undefined {
    const index = this.tunableMacros.get(name);
    return index === undefined ? undefined : this.tunables[index];
  }

  /**
   * The token rules: references to helpers and kfuncs, calls, inline assembly, attributes,
   * function pointers and integer-to-pointer casts. `topLevel` tracks brace depth so that
   * `name(` at file scope is a declaration, not a call.
   */
  private scanTokens(
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
          this.out.add(
            "token_pasting",
            "## builds identifiers from pieces the checks cannot see: write names out in full",
            t,
          );
        } else if (t.text === "(") {
          this.checkFunctionPointer(tokens, i);
          this.checkIntegerToPointer(tokens, i);
        }
        continue;
      }
      if (t.kind !== "ident") continue;
      if (ASM_WORDS.has(t.text)) {
        this.out.add(
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
        this.out.add("directive_not_allowed", "_Pragma is not allowed: use #pragma", t);
        continue;
      }
      if (ATTRIBUTE_WORDS.has(t.text) && next?.text === "(") {
        const end = matchParen(tokens, i + 1);
        for (let j = i + 1; j < end; j++) {
          const a = tokens[j]!;
          if (a.kind === "ident" && ALIASING_ATTRIBUTES.has(a.text)) {
            this.out.add(
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
        this.out.add(
          "indirect_call",
          `a call through ${prev!.text}${t.text}: calls through pointers are not allowed`,
          t,
        );
        continue;
      }
      if (member || tag) continue;
      if (ctx.conditional) {
        this.checkReference(t, ctx.scope);
        continue;
      }
      this.checkReference(t, ctx.scope);
      if (next?.text !== "(") continue;
      // `long (*f)(void)`: a declarator (judged at its parenthesis), not a call of `long`.
      if (isFunctionPointerAt(tokens, i + 1)) continue;
      if (TYPEOF_WORDS.has(t.text)) {
        this.checkTypeofFunction(tokens, i);
        continue;
      }
      if (ctx.topLevel && depth === 0) {
        this.declareAt(tokens, i);
        continue;
      }
      this.calls.push({ name: t.text, token: t, scope: ctx.scope });
    }
  }

  /** `name(…)` at file scope: a function defined or declared, or a macro invoked. */
  private declareAt(tokens: readonly Token[], i: number): void {
    const name = tokens[i]!.text;
    const close = matchParen(tokens, i + 1);
    const after = tokens[close + 1];
    if (this.isMacro(name)) {
      // BPF_STRUCT_OPS(my_enqueue, …) { … } defines my_enqueue.
      const first = tokens[i + 2];
      if (after?.text === "{" && first?.kind === "ident") this.names.functions.add(first.text);
      // Calls inside the arguments of a file-scope macro are still calls.
      for (let j = i + 2; j < close; j++) {
        const t = tokens[j]!;
        if (t.kind === "ident" && tokens[j + 1]?.text === "(" && !this.isMacro(t.text)) {
          this.calls.push({ name: t.text, token: t, scope: new Set() });
        }
      }
      return;
    }
    if (after?.text === "{") this.names.functions.add(name);
    else this.names.declared.add(name);
  }

  private isMacro(name: string): boolean {
    return (
      this.names.macros.has(name) ||
      this.trusted.has(name) ||
      this.tunableMacros.has(name) ||
      ALLOWED_CALLEES[name]?.kind === "macro"
    );
  }

  /** Any mention of a helper or kfunc name, called or not (a macro body, `&name`, a cast). */
  private checkReference(t: Token, scope: ReadonlySet<string>): void {
    const name = t.text;
    if (scope.has(name)) return;
    const allowed = ALLOWED_CALLEES[name];
    if (allowed) {
      if (allowed.kind === "helper") this.used.helpers.add(name);
      else if (allowed.kind === "kfunc") this.used.kfuncs.add(name);
      return;
    }
    const why = FORBIDDEN_CALLEES[name];
    if (why !== undefined) {
      this.out.add("callee_forbidden", `${name} is refused: it ${why}`, t);
      return;
    }
    if (this.trusted.has(name)) return;
    if (RESERVED_CALLEE_PREFIXES.some((p) => name.startsWith(p))) {
      this.out.add(
        "callee_not_allowed",
        `${name} is not on the allow-list of helpers and kfuncs (names starting bpf_ or scx_bpf_ are reserved for them)`,
        t,
      );
    }
  }

  /** Calls are judged at the end, when every function of the file is known. */
  private checkCalls(): void {
    for (const { name, token, scope } of this.calls) {
      if (
        NOT_CALLS.has(name) ||
        scope.has(name) ||
        this.names.functions.has(name) ||
        this.names.macros.has(name) ||
        this.trusted.has(name) ||
        this.tunableMacros.has(name) ||
        Object.hasOwn(ALLOWED_CALLEES, name) ||
        isAllowedBuiltin(name)
      ) {
        continue;
      }
      // Reported once already, where it is mentioned.
      if (Object.hasOwn(FORBIDDEN_CALLEES, name)) continue;
      if (RESERVED_CALLEE_PREFIXES.some((p) => name.startsWith(p))) continue;
      const declaredOnly = this.names.declared.has(name);
      this.out.add(
        "unknown_call",
        declaredOnly
          ? `${name} is declared but not defined here, and is not an allowed helper or kfunc`
          : `${name} is not defined in this file, not a macro, and not an allowed helper, kfunc or builtin`,
        token,
      );
    }
  }

  /**
   * `( * name ) (` and `( * ) (`: function pointers. The one form allowed is how headers
   * declare a helper by its number, `static T (*bpf_x)(…) = (void *) N;`, when `bpf_x` is
   * allow-listed and N is its number.
   */
  private checkFunctionPointer(tokens: readonly Token[], open: number): void {
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
      this.out.add(
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
      this.out.add(
        "function_pointer",
        `${name} is a function pointer: calls through pointers are not allowed`,
        nameToken,
      );
      return;
    }
    this.judged.add(number);
    const allowed = ALLOWED_CALLEES[name];
    const id = integerValue(number.text);
    if (allowed?.kind === "helper" && id !== allowed.helperId) {
      this.out.add(
        "helper_id_mismatch",
        `${name} is helper number ${allowed.helperId}, but is declared as number ${number.text}`,
        number,
      );
    } else if (!allowed && !RESERVED_CALLEE_PREFIXES.some((p) => name.startsWith(p))) {
      this.out.add(
        "function_pointer",
        `${name} = (void *) ${number.text} calls helper number ${number.text} under a name the allow-list does not know`,
        nameToken,
      );
    }
  }

  /** `(T *) N` with N a nonzero integer: how a helper is called by number, out of sight. */
  private checkIntegerToPointer(tokens: readonly Token[], open: number): void {
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
    if (!operand || this.judged.has(operand)) return;
    const value =
      operand.kind === "number"
        ? integerValue(operand.text)
        : operand.kind === "ident"
          ? (this.integerMacros.get(operand.text) ?? 0)
          : 0;
    if (value === 0) return;
    this.out.add(
      "integer_to_pointer",
      `the integer ${operand.text} is turned into a pointer: that is how helpers are called by number`,
      operand,
    );
  }

  /** `typeof(fn)`: the type of a function or helper, the first step to a pointer to it. */
  private checkTypeofFunction(tokens: readonly Token[], at: number): void {
    if (tokens[at + 1]?.text !== "(") return;
    const close = matchParen(tokens, at + 1);
    for (let j = at + 2; j < close; j++) {
      const t = tokens[j]!;
      if (t.kind !== "ident") continue;
      if (
        Object.hasOwn(ALLOWED_CALLEES, t.text) ||
        this.names.functions.has(t.text) ||
        this.names.declared.has(t.text)
      ) {
        this.out.add(
          "function_pointer",
          `${tokens[at]!.text}(${t.text}) takes the type of a function: calls through pointers are not allowed`,
          t,
        );
        return;
      }
    }
  }

  /**
   * Exactly one `struct sched_ext_ops NAME = { … }` in SEC(".struct_ops.link") whose `.name`
   * is the policy's ops name (also written as scx's `SCX_OPS_DEFINE(NAME, …)`).
   */
  private checkOps(tokens: readonly Token[]): void {
    const found: Array<{
      at: Token;
      section: string | null;
      name: string | null;
      nameAt: Token | null;
    }> = [];
    let depth = 0;
    let statementStart = 0;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.text === "{") depth += 1;
      if (t.text === "}") {
        depth = Math.max(0, depth - 1);
        if (depth === 0) statementStart = i + 1;
        continue;
      }
      if (depth !== 0) continue;
      if (t.text === ";") {
        statementStart = i + 1;
        continue;
      }
      if (t.text === "SCX_OPS_DEFINE" && tokens[i + 1]?.text === "(") {
        const close = matchParen(tokens, i + 1);
        const name = designatedString(tokens, i + 2, close, "name");
        found.push({
          at: tokens[i + 2] ?? t,
          section: OPS_SECTION,
          name: name?.value ?? null,
          nameAt: name?.at ?? null,
        });
        continue;
      }
      if (
        t.text !== "struct" ||
        tokens[i + 1]?.text !== "sched_ext_ops" ||
        tokens[i + 2]?.kind !== "ident"
      )
        continue;
      let end = i + 3;
      while (end < tokens.length && tokens[end]!.text !== "=" && tokens[end]!.text !== ";")
        end += 1;
      const section = sectionOf(tokens, statementStart, end);
      let name: { value: string; at: Token } | null = null;
      if (tokens[end]?.text === "=" && tokens[end + 1]?.text === "{") {
        const close = matchBrace(tokens, end + 1);
        name = designatedString(tokens, end + 2, close, "name");
      }
      found.push({
        at: tokens[i + 2]!,
        section,
        name: name?.value ?? null,
        nameAt: name?.at ?? null,
      });
    }
    if (found.length === 0) {
      this.out.add(
        "ops_missing",
        `no struct sched_ext_ops: define one in SEC("${OPS_SECTION}") with .name = "${this.input.opsName}"`,
        null,
      );
      return;
    }
    for (const extra of found.slice(1)) {
      this.out.add(
        "ops_multiple",
        "a second struct sched_ext_ops: a policy registers exactly one scheduler",
        extra.at,
      );
    }
    const ops = found[0]!;
    if (ops.section !== OPS_SECTION) {
      this.out.add(
        "ops_section",
        `struct sched_ext_ops ${ops.at.text} is in ${ops.section === null ? "no section" : `SEC("${ops.section}")`}; it must be in SEC("${OPS_SECTION}")`,
        ops.at,
      );
    }
    if (ops.name === null) {
      this.out.add(
        "ops_name_missing",
        `struct sched_ext_ops ${ops.at.text} has no .name = "${this.input.opsName}"`,
        ops.at,
      );
    } else if (ops.name !== this.input.opsName) {
      this.out.add(
        "ops_name_mismatch",
        `.name is "${ops.name}" but the policy's ops name is "${this.input.opsName}"`,
        ops.nameAt ?? ops.at,
      );
    }
  }

  /**
   * sched_ext's kfuncs are GPL-only: the object needs a GPL-compatible license, written in the
   * source or defined by a trusted header it always includes (the project's common.h does).
   */
  private checkLicense(tokens: readonly Token[]): void {
    const fromHeaders: Array<{ header: string; include: Directive; def: LicenseDefinition }> = [];
    for (const [header, include] of this.includedAlways) {
      for (const def of this.headerLicenses.get(header) ?? []) {
        fromHeaders.push({ header, include, def });
      }
    }
    const own = licenseDefinitions(tokens, this.licenseMacros);
    for (const def of own) {
      const clash = fromHeaders.find((h) => def.symbol !== null && h.def.symbol === def.symbol);
      if (clash) {
        this.out.add(
          "license_duplicate",
          `${def.symbol} is already defined by ${clash.header} (license "${clash.def.value?.value}"): the compiler refuses a second definition, remove this one`,
          def.at,
        );
      } else if (def.value === null || !GPL_COMPATIBLE_LICENSES.has(def.value.value)) {
        this.out.add("license_not_gpl", licenseNotGpl(def), def.value?.at ?? def.at);
      }
    }
    for (const { header, include, def } of fromHeaders) {
      if (def.value === null || !GPL_COMPATIBLE_LICENSES.has(def.value.value)) {
        this.out.add("license_not_gpl", `${header}: ${licenseNotGpl(def)}`, include);
      }
    }
    if (own.length === 0 && fromHeaders.length === 0) {
      this.out.add(
        "license_missing",
        'no license: #include "common.h" (outside any #if), which defines it, or add char _license[] SEC("license") = "GPL";',
        null,
      );
    }
  }

  private checkTunableUse(lexed: { tokens: Token[]; directives: Directive[] }): void {
    const mentioned = new Set<string>();
    for (const t of lexed.tokens) if (t.kind === "ident") mentioned.add(t.text);
    for (const d of lexed.directives)
      for (const t of d.tokens) if (t.kind === "ident") mentioned.add(t.text);
    this.tunables.forEach((t, index) => {
      const macro = tunableMacro(t.name);
      if (mentioned.has(macro)) return;
      // A source written for the parameter's own name would read an undefined identifier.
      const hint = mentioned.has(t.name)
        ? `; the source mentions ${t.name}, but the parameter arrives as the macro ${macro}`
        : "";
      this.out.add(
        "tunable_unused",
        `tunable ${t.name} is never used: the source does not mention ${macro}, so -D${macro}=… would change nothing${hint}`,
        null,
        { path: `tunables[${index}].name`, severity: "warning" },
      );
    });
  }
}

/**
 * Every `SEC("license")` definition at file scope: `char _license[] SEC("license") = "GPL";`
 * (or with the SEC first), with the variable it names and its string; and each use of a macro
 * that expands to one, as that definition found where the macro is used.
 */
function licenseDefinitions(
  tokens: readonly Token[],
  macros: ReadonlyMap<string, readonly LicenseDefinition[]> = new Map(),
): LicenseDefinition[] {
  const found: LicenseDefinition[] = [];
  let depth = 0;
  let statementStart = 0;
  for (let i = 0; i < tokens.length; i++) {
    const text = tokens[i]!.text;
    if (text === "{") depth += 1;
    else if (text === "}") depth = Math.max(0, depth - 1);
    if (text === ";" || text === "}") statementStart = i + 1;
    const expanded = depth === 0 && tokens[i]!.kind === "ident" ? macros.get(text) : undefined;
    if (expanded) {
      // Found where the macro is used: a header's line numbers mean nothing in the source.
      const at = tokens[i]!;
      for (const def of expanded) {
        found.push({ symbol: def.symbol, value: def.value && { value: def.value.value, at }, at });
      }
      continue;
    }
    if (
      depth !== 0 ||
      text !== "SEC" ||
      tokens[i + 1]?.text !== "(" ||
      tokens[i + 2]?.text !== '"license"'
    )
      continue;
    let end = matchParen(tokens, i + 1) + 1;
    while (end < tokens.length && tokens[end]!.text !== "=" && tokens[end]!.text !== ";") end += 1;
    let symbol: string | null = null;
    for (let j = statementStart; j < end; j++) {
      if (tokens[j]!.kind === "ident" && tokens[j + 1]?.text === "[") symbol = tokens[j]!.text;
    }
    const value = tokens[end]?.text === "=" ? stringAt(tokens, end + 1) : null;
    found.push({ symbol, value, at: tokens[i]! });
  }
  return found;
}

function licenseNotGpl(def: LicenseDefinition): string {
  return `the license is ${def.value === null ? "not a string" : `"${def.value.value}"`}: sched_ext's kfuncs are GPL-only, use "GPL"`;
}

/** `( * [qualifiers] [name [dims]] ) (` at `open`: a function pointer declarator or type. */
function isFunctionPointerAt(tokens: readonly Token[], open: number): boolean {
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
function matchParen(tokens: readonly Token[], open: number): number {
  return matchPair(tokens, open, "(", ")");
}
function matchBrace(tokens: readonly Token[], open: number): number {
  return matchPair(tokens, open, "{", "}");
}
function matchBracket(tokens: readonly Token[], open: number): number {
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
function integerValue(text: string): number {
  const bare = text.replace(/[uUlL]+$/, "");
  if (/^0[xX][0-9a-fA-F]+$/.test(bare)) return Number.parseInt(bare.slice(2), 16);
  if (/^0[bB][01]+$/.test(bare)) return Number.parseInt(bare.slice(2), 2);
  if (/^0[0-7]*$/.test(bare)) return Number.parseInt(bare, 8);
  if (/^[1-9][0-9]*$/.test(bare)) return Number.parseInt(bare, 10);
  return Number.NaN;
}

/** Adjacent string literals from `i`, concatenated as the compiler does, unquoted. */
function stringAt(tokens: readonly Token[], i: number): { value: string; at: Token } | null {
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
function sectionOf(tokens: readonly Token[], from: number, to: number): string | null {
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
function designatedString(
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
