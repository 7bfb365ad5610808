/**
 * What the source scan learns as it goes and where it reports: one record shared by its
 * passes (directives, token rules, calls, license), which run in a fixed order over it.
 */

import { tunableMacro } from "../bpf/defines.js";
import { HEADER_MACROS } from "../bpf-allowlist.js";
import type { Directive, Token } from "../c-lexer.js";
import type { Findings } from "../diagnostics.js";
import type { Tunable } from "../metadata.js";
import type { LicenseDefinition } from "./license.js";

export interface Call {
  name: string;
  token: Token;
}

/** Names a file defines or declares, learned while scanning. */
export interface Names {
  functions: Set<string>;
  declared: Set<string>;
  macros: Set<string>;
}

export interface ScanState {
  readonly out: Findings;
  readonly used: { helpers: Set<string>; kfuncs: Set<string> };
  readonly tunables: readonly Tunable[];
  readonly names: Names;
  /** Object-like macros whose body is one integer: `#define N 36`. */
  readonly integerMacros: Map<string, number>;
  readonly trusted: Set<string>;
  /** Each tunable's macro (`slice_us` → `EK_SLICE_US`, see defines.ts) and its index. */
  readonly tunableMacros: ReadonlyMap<string, number>;
  /** The licenses trusted headers define, by header name. */
  readonly headerLicenses: Map<string, LicenseDefinition[]>;
  /** Macros whose body defines a license (`#define EK_LICENSE char _license[] SEC(…) = …`). */
  readonly licenseMacros: Map<string, LicenseDefinition[]>;
  /** Headers included outside any conditional block, with the directive. */
  readonly includedAlways: Map<string, Directive>;
  readonly calls: Array<Call & { scope: ReadonlySet<string> }>;
  /** Offsets (by token object) of integers already judged as a helper's number. */
  readonly judged: Set<Token>;
}

/** A fresh state: nothing learned yet but the headers' standard macros and the tunables. */
export function newScanState(
  tunables: readonly Tunable[],
  out: Findings,
  used: { helpers: Set<string>; kfuncs: Set<string> },
): ScanState {
  return {
    out,
    used,
    tunables,
    names: { functions: new Set(), declared: new Set(), macros: new Set() },
    integerMacros: new Map(),
    trusted: new Set<string>(HEADER_MACROS),
    tunableMacros: new Map(tunables.map((t, index) => [tunableMacro(t.name), index])),
    headerLicenses: new Map(),
    licenseMacros: new Map(),
    includedAlways: new Map(),
    calls: [],
    judged: new Set(),
  };
}
