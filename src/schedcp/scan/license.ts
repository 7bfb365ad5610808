/**
 * The license: where a source defines one (`SEC("license")`, directly or through a macro), and
 * the check that the object ends up with exactly one, GPL-compatible.
 */

import { GPL_COMPATIBLE_LICENSES } from "../bpf-allowlist.js";
import type { Directive, Token } from "../c-lexer.js";
import { matchParen, stringAt } from "./c-tokens.js";
import type { ScanState } from "./state.js";

/** A `SEC("license")` definition: its variable (when one is named) and its string. */
export interface LicenseDefinition {
  symbol: string | null;
  value: { value: string; at: Token } | null;
  at: Token;
}

/**
 * sched_ext's kfuncs are GPL-only: the object needs a GPL-compatible license, written in the
 * source or defined by a trusted header it always includes (the project's common.h does).
 */
export function checkLicense(state: ScanState, tokens: readonly Token[]): void {
  const fromHeaders: Array<{ header: string; include: Directive; def: LicenseDefinition }> = [];
  for (const [header, include] of state.includedAlways) {
    for (const def of state.headerLicenses.get(header) ?? []) {
      fromHeaders.push({ header, include, def });
    }
  }
  const own = licenseDefinitions(tokens, state.licenseMacros);
  for (const def of own) {
    const clash = fromHeaders.find((h) => def.symbol !== null && h.def.symbol === def.symbol);
    if (clash) {
      state.out.add(
        "license_duplicate",
        `${def.symbol} is already defined by ${clash.header} (license "${clash.def.value?.value}"): the compiler refuses a second definition, remove this one`,
        def.at,
      );
    } else if (def.value === null || !GPL_COMPATIBLE_LICENSES.has(def.value.value)) {
      state.out.add("license_not_gpl", licenseNotGpl(def), def.value?.at ?? def.at);
    }
  }
  for (const { header, include, def } of fromHeaders) {
    if (def.value === null || !GPL_COMPATIBLE_LICENSES.has(def.value.value)) {
      state.out.add("license_not_gpl", `${header}: ${licenseNotGpl(def)}`, include);
    }
  }
  if (own.length === 0 && fromHeaders.length === 0) {
    state.out.add(
      "license_missing",
      'no license: #include "common.h" (outside any #if), which defines it, or add char _license[] SEC("license") = "GPL";',
      null,
    );
  }
}

/** Remembers `name` as a macro that defines a license when its body defines one. */
export function learnLicenseMacro(state: ScanState, name: string, body: readonly Token[]): void {
  const defs = licenseDefinitions(body);
  if (defs.length > 0) state.licenseMacros.set(name, defs);
}

/**
 * Every `SEC("license")` definition at file scope: `char _license[] SEC("license") = "GPL";`
 * (or with the SEC first), with the variable it names and its string; and each use of a macro
 * that expands to one, as that definition found where the macro is used.
 */
export function licenseDefinitions(
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
