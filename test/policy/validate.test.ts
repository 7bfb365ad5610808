import { describe, expect, it } from "vitest";
import {
  MAX_POLICY_TEXT_BYTES,
  MAX_STATEMENTS_PER_POLICY,
  type PolicyDiagnostic,
  policyIdsOf,
  validatePolicies,
} from "../../src/policy/index.js";

const FORBID_PII =
  'forbid (principal, action, resource) when { context.dataLabels.contains("pii") };';

function failure(text: string, name = "p"): PolicyDiagnostic[] {
  const result = validatePolicies(text, name);
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
  return result.diagnostics;
}

describe("validatePolicies", () => {
  it("accepts a policy that uses the schema, naming its statement after the policy", () => {
    const result = validatePolicies(FORBID_PII, "no-pii");
    expect(result).toMatchObject({
      ok: true,
      statements: [{ id: "no-pii", effect: "forbid", approval: false }],
      warnings: [],
    });
  });

  it("reports a syntax error with Cedar's message, line and column", () => {
    const [d, ...rest] = failure("permit (principal, action, resource)\nwhen { context.risk == };");
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: "parse_error", line: 2, column: 24 });
    expect(d!.message).toMatch(/unexpected token/);
  });

  it("counts columns in characters, though Cedar reports UTF-8 byte offsets", () => {
    const [d] = failure('// déjà vu\npermit (principal, action, resource) when { "é" == };');
    // `}` is the 52nd character of line 2 (and its 53rd byte, after the two-byte é).
    expect(d).toMatchObject({ line: 2, column: 52 });
  });

  it("reports an unknown context attribute as a schema error naming the statement", () => {
    const [d] = failure(
      "forbid (principal, action, resource) when { context.weather == 1 };",
      "rain",
    );
    expect(d).toMatchObject({ code: "validation_error", statement: 0, policyId: "rain", line: 1 });
    expect(d!.message).toContain("`rain`");
    expect(d!.message).toContain("weather");
  });

  it("reports an attribute the principal type lacks (a key has no agentType)", () => {
    const [d] = failure(
      'forbid (principal is Key, action, resource) when { principal.agentType == "x" };',
    );
    expect(d!.code).toBe("validation_error");
    expect(d!.message).toMatch(/agentType/);
  });

  it("rejects the whole text when one of several statements is bad, naming that one", () => {
    const diagnostics = failure(
      `${FORBID_PII}\n@id("bad") forbid (principal, action, resource) when { context.nope };`,
      "pack",
    );
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ policyId: "pack#bad", statement: 1, line: 2 });
  });

  it("rejects templates, empty text and @approval where it means nothing", () => {
    expect(failure("permit (principal == ?principal, action, resource);")[0]!.code).toBe(
      "template",
    );
    expect(failure("// nothing but a comment")[0]!.code).toBe("empty");
    expect(failure('@approval("required") permit (principal, action, resource);')[0]!.code).toBe(
      "annotation",
    );
    expect(
      failure(
        '@approval("maybe") forbid (principal, action, resource) unless { context.approved };',
      )[0]!.code,
    ).toBe("annotation");
  });

  it('marks an @approval("required") forbid as an approval statement', () => {
    const result = validatePolicies(
      '@approval("required") forbid (principal, action, resource) unless { context.approved };',
    );
    expect(result.ok && result.statements[0]!.approval).toBe(true);
  });

  it("rejects two statements with the same id", () => {
    const dup = `@id("a") ${FORBID_PII}\n@id("a") ${FORBID_PII}`;
    expect(failure(dup)[0]).toMatchObject({ code: "duplicate_id", policyId: "p#a" });
  });

  it(`accepts ${MAX_STATEMENTS_PER_POLICY} statements and rejects one more`, () => {
    const many = (n: number) => Array.from({ length: n }, () => FORBID_PII).join("\n");
    const ok = validatePolicies(many(MAX_STATEMENTS_PER_POLICY), "many");
    expect(ok.ok && ok.statements.map((s) => s.id)).toEqual(
      Array.from({ length: MAX_STATEMENTS_PER_POLICY }, (_, i) => `many#${i}`),
    );
    expect(failure(many(MAX_STATEMENTS_PER_POLICY + 1))[0]!.code).toBe("too_many_statements");
  });

  it(`accepts exactly ${MAX_POLICY_TEXT_BYTES} UTF-8 bytes and rejects one more`, () => {
    const pad = (bytes: number) => {
      const head = `${FORBID_PII}\n// `;
      return head + "x".repeat(bytes - new TextEncoder().encode(head).length);
    };
    expect(validatePolicies(pad(MAX_POLICY_TEXT_BYTES)).ok).toBe(true);
    expect(failure(pad(MAX_POLICY_TEXT_BYTES + 1))[0]!.code).toBe("too_large");
  });

  it("passes a policy that can never apply, with Cedar's warning", () => {
    const result = validatePolicies(
      'forbid (principal, action, resource) when { context.risk == "high" && context.risk == "low" && 1 == 2 };',
    );
    expect(result.ok).toBe(true);
    expect(result.ok && result.warnings.length).toBeGreaterThan(0);
  });

  it("policyIdsOf lists the ids decisions cite, and nothing for text that does not parse", () => {
    expect(policyIdsOf(`@id("x") ${FORBID_PII} ${FORBID_PII}`, "p")).toEqual(["p#x", "p#1"]);
    expect(policyIdsOf("permit (", "p")).toEqual([]);
  });
});
