/**
 * The scheduler's ops struct: the one `struct sched_ext_ops` a policy registers, its section
 * and its `.name`.
 */

import type { Token } from "../c-lexer.js";
import { designatedString, matchBrace, matchParen, sectionOf } from "./c-tokens.js";
import type { ScanState } from "./state.js";

const OPS_SECTION = ".struct_ops.link";

/**
 * Exactly one `struct sched_ext_ops NAME = { … }` in SEC(".struct_ops.link") whose `.name`
 * is the policy's ops name (also written as scx's `SCX_OPS_DEFINE(NAME, …)`).
 */
export function checkOps(state: ScanState, tokens: readonly Token[], opsName: string): void {
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
    while (end < tokens.length && tokens[end]!.text !== "=" && tokens[end]!.text !== ";") end += 1;
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
    state.out.add(
      "ops_missing",
      `no struct sched_ext_ops: define one in SEC("${OPS_SECTION}") with .name = "${opsName}"`,
      null,
    );
    return;
  }
  for (const extra of found.slice(1)) {
    state.out.add(
      "ops_multiple",
      "a second struct sched_ext_ops: a policy registers exactly one scheduler",
      extra.at,
    );
  }
  const ops = found[0]!;
  if (ops.section !== OPS_SECTION) {
    state.out.add(
      "ops_section",
      `struct sched_ext_ops ${ops.at.text} is in ${ops.section === null ? "no section" : `SEC("${ops.section}")`}; it must be in SEC("${OPS_SECTION}")`,
      ops.at,
    );
  }
  if (ops.name === null) {
    state.out.add(
      "ops_name_missing",
      `struct sched_ext_ops ${ops.at.text} has no .name = "${opsName}"`,
      ops.at,
    );
  } else if (ops.name !== opsName) {
    state.out.add(
      "ops_name_mismatch",
      `.name is "${ops.name}" but the policy's ops name is "${opsName}"`,
      ops.nameAt ?? ops.at,
    );
  }
}
