/**
 * The source half of the static checks: directives, includes, the token rules (references to
 * helpers and kfuncs, calls, inline assembly, function pointers, integers turned into
 * pointers), the scheduler's ops struct, the license, and the tunables' use. See
 * static-checks.ts for what is checked and why.
 *
 * This module learns the trusted headers and runs the passes in order over one ScanState
 * (state.ts); each pass lives in its own module: directives.ts, references.ts (with
 * pointers.ts), calls.ts, ops.ts, license.ts and tunables.ts.
 */

import { COMMON_HEADER } from "../bpf/catalog.js";
import { RESERVED_CALLEE_PREFIXES } from "../bpf-allowlist.js";
import { type LexIssueCode, lexC } from "../c-lexer.js";
import type { Findings } from "../diagnostics.js";
import type { Tunable } from "../metadata.js";
import type { StaticCheckInput } from "../static-checks.js";
import { checkCalls } from "./calls.js";
import { checkDirectives } from "./directives.js";
import { checkLicense, learnLicenseMacro, licenseDefinitions } from "./license.js";
import { checkOps } from "./ops.js";
import { scanTokens } from "./references.js";
import { newScanState, type ScanState } from "./state.js";
import { checkTunableUse } from "./tunables.js";

/**
 * The local headers every policy compiles with: the verifier puts the project's common.h on
 * the include path, so what it defines is callable from any submitted source.
 */
const PROJECT_HEADERS: Readonly<Record<string, string>> = { "common.h": COMMON_HEADER };

export class SourceScan {
  private readonly state: ScanState;

  constructor(
    private readonly input: StaticCheckInput,
    tunables: readonly Tunable[],
    out: Findings,
    used: { helpers: Set<string>; kfuncs: Set<string> },
  ) {
    this.state = newScanState(tunables, out, used);
  }

  run(): void {
    const headers = this.input.trustedHeaders ?? PROJECT_HEADERS;
    for (const [name, text] of Object.entries(headers)) this.learnHeader(name, text);
    const lexed = lexC(this.input.source);
    for (const issue of lexed.issues)
      this.state.out.add(issue.code satisfies LexIssueCode, issue.message, issue);
    checkDirectives(this.state, lexed.directives);
    scanTokens(this.state, lexed.tokens, { topLevel: true, scope: new Set() });
    checkCalls(this.state);
    checkOps(this.state, lexed.tokens, this.input.opsName);
    checkLicense(this.state, lexed.tokens);
    checkTunableUse(this.state, lexed);
  }

  /** Macros and functions a trusted header defines become callable names; its license counts. */
  private learnHeader(header: string, text: string): void {
    const lexed = lexC(text);
    this.state.headerLicenses.set(header, licenseDefinitions(lexed.tokens));
    // Reserved names stay reserved: a header's declaration does not put a helper on the list.
    const learn = (name: string) => {
      if (!RESERVED_CALLEE_PREFIXES.some((p) => name.startsWith(p))) this.state.trusted.add(name);
    };
    for (const d of lexed.directives) {
      if (d.name === "define" && d.tokens[0]?.kind === "ident") {
        learn(d.tokens[0].text);
        learnLicenseMacro(this.state, d.tokens[0].text, d.tokens.slice(1));
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
}
