/**
 * From Cedar text to statements with our ids, and the checks a policy passes before it is
 * stored: it parses, it holds one to MAX_STATEMENTS_PER_POLICY static policies (no templates),
 * its annotations mean what we read them as, and it validates against the schema in strict
 * mode. Failures come back as Cedar's own diagnostics, with line and column.
 *
 * Ids: a stored policy named `n` holding one statement has id `n`; holding several, each is
 * `n#<its @id annotation>` or, without one, `n#<its 0-based position>`.
 */

import type { Cedar, DetailedError, PolicyJson } from "./cedar.js";
import {
  MAX_POLICY_TEXT_BYTES,
  MAX_STATEMENTS_PER_POLICY,
  STATEMENT_ID_PATTERN,
} from "./limits.js";
import { CEDAR_SCHEMA } from "./schema.js";

export type DiagnosticCode =
  | "parse_error"
  | "validation_error"
  | "validation_warning"
  | "too_large"
  | "too_many_statements"
  | "empty"
  | "template"
  | "annotation"
  | "duplicate_id";

export interface PolicyDiagnostic {
  code: DiagnosticCode;
  message: string;
  help: string | null;
  /** The statement's 0-based position in the text, when known. */
  statement: number | null;
  /** The statement's id (see above), when known. */
  policyId: string | null;
  /** 1-based, of the first place Cedar points at; null when it points nowhere. */
  line: number | null;
  column: number | null;
}

export interface PolicyStatement {
  id: string;
  /** 0-based position in the stored text. */
  position: number;
  text: string;
  effect: "permit" | "forbid";
  /** A forbid annotated `@approval("required")`: when only such forbids deny, ask a person. */
  approval: boolean;
  /** Cedar's JSON form of the statement, which the engine's relevance check is compiled from. */
  json: PolicyJson;
}

export type SplitResult =
  | { ok: true; statements: PolicyStatement[] }
  | { ok: false; diagnostics: PolicyDiagnostic[] };

export type PolicyValidation =
  | { ok: true; statements: PolicyStatement[]; warnings: PolicyDiagnostic[] }
  | { ok: false; diagnostics: PolicyDiagnostic[] };

/** The annotation that turns a forbid into "needs a person's approval", and its only value. */
export const APPROVAL_ANNOTATION = "approval";
export const APPROVAL_REQUIRED = "required";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function diagnostic(
  code: DiagnosticCode,
  message: string,
  extra: Partial<PolicyDiagnostic> = {},
): PolicyDiagnostic {
  return {
    code,
    message,
    help: null,
    statement: null,
    policyId: null,
    line: null,
    column: null,
    ...extra,
  };
}

/** Line and column (1-based, in characters) of a UTF-8 byte offset, as Cedar reports them. */
function position(bytes: Uint8Array, offset: number): { line: number; column: number } {
  const before = decoder.decode(bytes.subarray(0, Math.min(offset, bytes.length)));
  const lastNewline = before.lastIndexOf("\n");
  let line = 1;
  for (const ch of before) if (ch === "\n") line++;
  return { line, column: [...before.slice(lastNewline + 1)].length + 1 };
}

/** Cedar names statements of a text `policy0`, `policy1`, … by position. */
function cedarPosition(cedarId: string): number | null {
  const m = /^policy(\d+)$/.exec(cedarId);
  return m ? Number(m[1]) : null;
}

function fromCedar(
  code: DiagnosticCode,
  error: DetailedError,
  bytes: Uint8Array,
  ids: readonly string[],
  cedarId: string | null,
): PolicyDiagnostic {
  const at = cedarId === null ? null : cedarPosition(cedarId);
  const policyId = at === null ? null : (ids[at] ?? null);
  // Cedar says "for policy `policy3`"; name the statement as the tenant knows it.
  let message = error.message.replace(/`policy(\d+)`/g, (m, n: string) => {
    const id = ids[Number(n)];
    return id ? `\`${id}\`` : m;
  });
  const where = error.sourceLocations?.[0];
  if (where?.label) message += ` (${where.label})`;
  const pos = where ? position(bytes, where.start) : null;
  return diagnostic(code, message, {
    help: error.help,
    statement: at,
    policyId,
    line: pos?.line ?? null,
    column: pos?.column ?? null,
  });
}

function statementIds(name: string, annotated: ReadonlyArray<string | undefined>): string[] {
  if (annotated.length === 1) return [name];
  return annotated.map((id, i) => `${name}#${id ?? i}`);
}

/**
 * Splits Cedar text into its statements, with ids and the approval marker. Parses but does not
 * validate against the schema (stored policies were validated on write).
 *
 * @example splitStatements(cedar, 'permit (principal, action, resource);', "allow-all")
 *   // { ok: true, statements: [{ id: "allow-all", effect: "permit", approval: false, … }] }
 */
export function splitStatements(cedar: Cedar, text: string, name: string): SplitResult {
  const bytes = encoder.encode(text);
  if (bytes.length > MAX_POLICY_TEXT_BYTES) {
    return {
      ok: false,
      diagnostics: [
        diagnostic(
          "too_large",
          `the policy text is ${bytes.length} bytes; the limit is ${MAX_POLICY_TEXT_BYTES}`,
        ),
      ],
    };
  }
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === "failure") {
    return {
      ok: false,
      diagnostics: parts.errors.map((e) => fromCedar("parse_error", e, bytes, [], null)),
    };
  }
  const diagnostics: PolicyDiagnostic[] = [];
  if (parts.policy_templates.length > 0) {
    diagnostics.push(
      diagnostic(
        "template",
        "templates (policies with ?principal or ?resource slots) are not supported",
      ),
    );
  }
  const count = parts.policies.length;
  if (count === 0 && parts.policy_templates.length === 0) {
    diagnostics.push(diagnostic("empty", "the text holds no policy"));
  }
  if (count > MAX_STATEMENTS_PER_POLICY) {
    diagnostics.push(
      diagnostic(
        "too_many_statements",
        `the text holds ${count} policies; the limit is ${MAX_STATEMENTS_PER_POLICY} (store more under other names)`,
      ),
    );
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics };

  // Parts come sorted by Cedar's id as a string (policy0, policy1, policy10, policy2, …).
  const cedarIds = Array.from({ length: count }, (_, i) => `policy${i}`).sort();
  const texts: string[] = new Array(count);
  parts.policies.forEach((part, k) => {
    texts[cedarPosition(cedarIds[k]!)!] = part;
  });

  const parsed = texts.map((part, i) => {
    const json = cedar.policyToJson(part);
    if (json.type === "failure") throw new Error(`Cedar re-parse of statement ${i} failed`);
    return json.json;
  });
  const annotatedIds = parsed.map((p) => p.annotations?.id);
  const ids = statementIds(name, annotatedIds);
  const seen = new Set<string>();
  parsed.forEach((policy, i) => {
    const id = ids[i]!;
    const annotatedId = annotatedIds[i];
    if (count > 1 && annotatedId !== undefined && !STATEMENT_ID_PATTERN.test(annotatedId)) {
      diagnostics.push(
        diagnostic("annotation", `@id("${annotatedId}") must match ${STATEMENT_ID_PATTERN}`, {
          statement: i,
          policyId: id,
        }),
      );
    }
    if (seen.has(id)) {
      diagnostics.push(
        diagnostic("duplicate_id", `two policies in the text have the id ${id}`, {
          statement: i,
          policyId: id,
        }),
      );
    }
    seen.add(id);
    const approval = policy.annotations?.[APPROVAL_ANNOTATION];
    if (approval !== undefined && (approval !== APPROVAL_REQUIRED || policy.effect !== "forbid")) {
      diagnostics.push(
        diagnostic(
          "annotation",
          `@${APPROVAL_ANNOTATION}("${APPROVAL_REQUIRED}") is meaningful only on a forbid, with exactly that value`,
          { statement: i, policyId: id },
        ),
      );
    }
  });
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  return {
    ok: true,
    statements: parsed.map((policy, i) => ({
      id: ids[i]!,
      position: i,
      text: texts[i]!,
      effect: policy.effect,
      approval:
        policy.effect === "forbid" &&
        policy.annotations?.[APPROVAL_ANNOTATION] === APPROVAL_REQUIRED,
      json: policy,
    })),
  };
}

/**
 * Checks Cedar text as a tenant policy named `name` would be stored: it parses, is within the
 * limits, and validates against the schema (strict mode). The whole text passes or fails.
 *
 * @example validatePolicies(cedar, 'forbid (principal, action, resource) when { context.nope };', "p")
 *   // { ok: false, diagnostics: [{ code: "validation_error", line: 1, column: 46, … }] }
 */
export function validatePolicies(cedar: Cedar, text: string, name: string): PolicyValidation {
  const split = splitStatements(cedar, text, name);
  if (!split.ok) return split;
  const ids = split.statements.map((s) => s.id);
  const bytes = encoder.encode(text);
  const answer = cedar.validate({
    schema: CEDAR_SCHEMA,
    policies: { staticPolicies: text },
    validationSettings: { mode: "strict" },
  });
  if (answer.type === "failure") {
    return {
      ok: false,
      diagnostics: answer.errors.map((e) => fromCedar("parse_error", e, bytes, ids, null)),
    };
  }
  const diagnostics = answer.validationErrors.map((e) =>
    fromCedar("validation_error", e.error, bytes, ids, e.policyId),
  );
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  const warnings = answer.validationWarnings.map((e) =>
    fromCedar("validation_warning", e.error, bytes, ids, e.policyId),
  );
  return { ok: true, statements: split.statements, warnings };
}
