/**
 * The engine evaluates each request against only the statements that can matter to it, with
 * only the parts of the request they read, and checks the request's types in TypeScript
 * (src/policy/relevance.ts, footprint.ts, conform.ts). These tests hold it to Cedar itself:
 * on generated requests, its decision must equal what Cedar says over the WHOLE set, with the
 * schema named on the call and `validateRequest` on, as the engine did before.
 */

import * as cedarWeb from "@cedar-policy/cedar-wasm/web";
import { describe, expect, it } from "vitest";
import type { PolicyDecision, PolicyRequest } from "../../src/kernel/syscall/policy.js";
import { RISK_LEVELS } from "../../src/kernel/syscall/policy.js";
import { workerdCedar } from "../../src/policy/cedar-wasm.js";
import { DEFAULT_POLICIES } from "../../src/policy/defaults.js";
import { buildCedarEngine, type PolicySource } from "../../src/policy/engine.js";
import { footprintOf } from "../../src/policy/footprint.js";
import { capabilityIndex, guardOf } from "../../src/policy/guard.js";
import { compileApplies, compileStatement, requestEnv } from "../../src/policy/relevance.js";
import { toCedarRequest } from "../../src/policy/request.js";
import { CEDAR_SCHEMA } from "../../src/policy/schema.js";
import { request } from "./requests.js";

const cedar = workerdCedar();

/** Statements covering what the relevance check models, what it does not, and what errors. */
const CORPUS: readonly string[] = [
  'forbid (principal, action, resource) when { context.capability == "proc.kill" };',
  'forbid (principal, action, resource) when { context.capability like "ext.*" } unless { context.hourOfDayUtc >= 8 && context.hourOfDayUtc < 18 };',
  'forbid (principal, action, resource) when { context.dataLabels.contains("pii") && context.risk != "low" };',
  'forbid (principal is Process, action, resource) when { principal.agentType == "scraper" && context.capability like "ext.*" };',
  'permit (principal, action, resource) when { context.capability == "proc.sleep" && context.risk == "low" };',
  'forbid (principal is Key, action, resource) when { principal.role == "reader" && !(context.capability like "*.get") };',
  'forbid (principal, action, resource is Capability) when { resource.namespace == "ext" && resource.risk == "medium" };',
  'permit (principal in Tenant::"ten_home", action, resource) when { context.risk == "low" };',
  // Reading a resource the request has no data for: an error, for every other process.
  'forbid (principal, action, resource is Process) when { resource.agentType == "x" };',
  // Not schema-valid (a key has no agentType): an error for keys, a value for processes.
  'forbid (principal, action, resource) when { principal.agentType == "a1" };',
  'forbid (principal, action, resource) when { context.capability == "fs.read" && principal.agentType == "a1" };',
  'permit (principal, action, resource) when { resource has risk && resource.risk == "low" };',
  // Arithmetic is not modelled; the second overflows (an error) for an unbounded budget.
  "forbid (principal, action, resource) when { context.budgetTokensLeft + 1 < 100 };",
  'forbid (principal, action, resource) when { context.budgetTokensLeft * 1000000000000 > 5 && context.risk == "critical" };',
  'permit (principal == Process::"proc_1", action, resource) when { context.risk == "medium" };',
  'forbid (principal, action in [Action::"call"], resource in Tenant::"ten_home") when { context.hourOfDayUtc == 3 };',
  'forbid (principal, action, resource) when { if context.entitled then context.risk == "critical" else false };',
  'permit (principal, action, resource) when { context.dataLabels.containsAny(["eu", "us"]) && !context.dataLabels.isEmpty() };',
  'forbid (principal, action, resource) when { context.dataLabels.containsAll(["pii", "eu"]) };',
  'forbid (principal, action, resource) when { principal.tenant == Tenant::"ten_away" && context.risk == "high" };',
  "permit (principal, action, resource) when { principal in resource && context.explicitGrant };",
  'forbid (principal, action, resource) when { ["x", context.risk].contains("high") && context has approved && !context.approved };',
  'forbid (principal, action, resource) when { {a: context.risk}.a == "critical" && !context.explicitGrant };',
  'forbid (principal, action, resource) unless { context.capability like "*" };',
  '@approval("required") forbid (principal, action, resource) when { context.capability like "fs.*" } unless { context.approved };',
  'forbid (principal, action, resource) when { context.capability like "a*b*c" };',
  'permit (principal, action, resource) when { decimal("1.5").lessThan(decimal("2.0")) && context.capability == "abc" };',
  // The tenant has no entity data: reading its attributes is an error.
  'forbid (principal, action, resource) when { context.risk == "medium" && principal.tenant.name == "x" };',
  'forbid (principal is Process in Tenant::"ten_home", action, resource) when { context.risk == "medium" };',
  "forbid (principal, action, resource) when { context == {} };",
  // Not schema-valid (an action has no attributes): an error, reported as with the schema.
  'forbid (principal, action, resource) when { context.risk == "high" && action.foo == 1 };',
  'forbid (principal, action, resource) when { context.risk == "low" && action has foo };',
];

const sources: PolicySource[] = CORPUS.map((text, i) => ({ id: `c${i}`, text }));

/** A seeded generator (mulberry32): the same seed gives the same requests. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, pick };
}

function generate(seed: number, count: number): PolicyRequest[] {
  const { next, pick } = random(seed);
  return Array.from({ length: count }, () => {
    const tenantId = pick(["ten_home", "ten_away"]);
    const principal =
      next() < 0.6
        ? {
            type: "Process" as const,
            id: pick(["proc_1", "proc_2"]),
            agentType: pick(["a1", "scraper", "assistant", null]),
            role: null,
          }
        : { type: "Key" as const, id: "key_1", agentType: null, role: pick(["reader", null]) };
    const capability = pick([
      "proc.kill",
      "proc.sleep",
      "proc.get",
      "ext.search",
      "fs.read",
      "abc",
      "axbxc",
    ]);
    const resource = pick([
      { type: "Tenant", id: tenantId },
      { type: "Tenant", id: "ten_other" },
      { type: principal.type, id: principal.id },
      { type: "Process", id: "proc_other" },
      { type: "Capability", id: capability },
      { type: "Capability", id: "ext.other" },
    ]);
    return {
      tenantId,
      principal,
      capability,
      resource,
      context: {
        risk: pick(RISK_LEVELS),
        entitled: next() < 0.7,
        explicitGrant: next() < 0.3,
        approved: next() < 0.2,
        budgetTokensLeft: pick([0, -5, 1, 50_000, Number.POSITIVE_INFINITY, 2 ** 60, Number.NaN]),
        hourOfDayUtc: Math.floor(next() * 24),
        dataLabels: ["pii", "eu", "us"].filter(() => next() < 0.4),
      },
    };
  });
}

/**
 * The engine as it was: Cedar over the whole set, the schema named and every request
 * validated, with the same require-approval rule (src/policy/engine.ts).
 */
function referenceEngine(all: readonly PolicySource[]) {
  const setId = "test-reference-set";
  const schemaName = "test-reference-schema";
  const statements = [...DEFAULT_POLICIES, ...all];
  expect(cedarWeb.preparseSchema(schemaName, CEDAR_SCHEMA).type).toBe("success");
  const staticPolicies = Object.fromEntries(statements.map((s) => [s.id, s.text]));
  expect(cedarWeb.preparsePolicySet(setId, { staticPolicies }).type).toBe("success");
  const approvalIds = new Set(
    statements.filter((s) => s.text.includes('@approval("required")')).map((s) => s.id),
  );
  const evaluate = (req: PolicyRequest) => {
    const built = toCedarRequest(req);
    if (!built.ok) throw new Error(built.error);
    const answer = cedarWeb.statefulIsAuthorized({
      ...built.request,
      preparsedSchemaName: schemaName,
      validateRequest: true,
      preparsedPolicySetId: setId,
    });
    if (answer.type === "failure") throw new Error(answer.errors[0]?.message);
    const { decision, diagnostics } = answer.response;
    return {
      decision,
      reason: [...diagnostics.reason].sort(),
      errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).sort(),
    };
  };
  return (req: PolicyRequest): PolicyDecision => {
    const built = toCedarRequest(req);
    if (!built.ok) return { effect: "deny", policyIds: [], errors: [built.error] };
    const first = evaluate(req);
    if (first.decision === "allow") {
      return { effect: "allow", policyIds: first.reason, errors: first.errors };
    }
    const onlyApproval = first.reason.length > 0 && first.reason.every((id) => approvalIds.has(id));
    if (!onlyApproval || req.context.approved) {
      return { effect: "deny", policyIds: first.reason, errors: first.errors };
    }
    const approved = evaluate({ ...req, context: { ...req.context, approved: true } });
    const errors = [...new Set([...first.errors, ...approved.errors])];
    return approved.decision === "allow"
      ? { effect: "require_approval", policyIds: first.reason, errors }
      : { effect: "deny", policyIds: approved.reason, errors };
  };
}

/**
 * Decides `count` generated requests with the engine (settling what it can), with the engine
 * asking Cedar for every evaluation, and with the reference; all three must agree exactly.
 */
function holdToCedar(set: readonly PolicySource[], seed: number, count: number) {
  const engine = buildCedarEngine(cedar, set);
  const unsettled = buildCedarEngine(cedar, set, { settle: false });
  const reference = referenceEngine(set);
  const effects = new Set<string>();
  const settledEffects = new Set<string>();
  let withErrors = 0;
  for (const req of generate(seed, count)) {
    const want = reference(req);
    const before = { ...engine.counts };
    expect(engine.decide(req), JSON.stringify(req)).toEqual(want);
    expect(unsettled.decide(req), JSON.stringify(req)).toEqual(want);
    // Every evaluation of this call was settled without Cedar: note what it decided.
    if (engine.counts.settled - before.settled === engine.counts.evaluations - before.evaluations)
      settledEffects.add(want.effect);
    effects.add(want.effect);
    if (want.errors.length > 0) withErrors++;
  }
  const counts = { ...engine.counts };
  engine.release();
  unsettled.release();
  return {
    effects: [...effects].sort(),
    settledEffects: [...settledEffects].sort(),
    withErrors,
    counts,
  };
}

/**
 * Statements of CORPUS the relevance check models (no arithmetic, no extension functions), some
 * of which still fail for some requests, and no unannotated forbid of every unapproved
 * high-risk call, so a person's approval can decide.
 */
const MODELLED = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 14, 15, 17, 18, 23, 24, 25].map(
  (i) => sources[i]!,
);

describe("the engine against Cedar over the whole set", () => {
  it("decides every generated request exactly as before: effect, policy ids and errors", () => {
    const run = holdToCedar(sources, 20_251_121, 600);
    // The generated mix must exercise every outcome, errors included, or the test proves little.
    expect(run.effects).toEqual(["allow", "deny", "require_approval"]);
    expect(run.withErrors).toBeGreaterThan(20);
  });

  it("settles calls without Cedar only where Cedar would answer the same", () => {
    const run = holdToCedar(MODELLED, 20_261_207, 600);
    // Both ways of reaching each outcome must be exercised: settled by the relevance check
    // alone, and handed to Cedar (a statement that may fail, or one it cannot evaluate).
    expect(run.settledEffects).toEqual(["allow", "deny", "require_approval"]);
    const { evaluations, settled } = run.counts;
    expect(settled).toBeGreaterThan(evaluations / 10);
    expect(evaluations - settled).toBeGreaterThan(evaluations / 10);
    expect(run.withErrors).toBeGreaterThan(10);
  });
});

describe("the relevance check", () => {
  const check = (text: string, req: PolicyRequest): boolean => {
    const json = cedar.policyToJson(text);
    if (json.type !== "success") throw new Error(`does not parse: ${text}`);
    const built = toCedarRequest(req);
    if (!built.ok) throw new Error(built.error);
    return compileStatement(json.json)(requestEnv(built.request));
  };
  const key = { type: "Key" as const, id: "key_1", agentType: null, role: "operator" };

  it("knows a statement true only through definite, error-free steps", () => {
    const applies = (text: string, req: PolicyRequest) => {
      const json = cedar.policyToJson(text);
      if (json.type !== "success") throw new Error(`does not parse: ${text}`);
      const built = toCedarRequest(req);
      if (!built.ok) throw new Error(built.error);
      return compileApplies(json.json)(requestEnv(built.request));
    };
    const both =
      'forbid (principal, action, resource) when { context.capability == "proc.kill" && context.risk == "low" };';
    expect(applies(both, request({ capability: "proc.kill", context: { risk: "low" } }))).toBe(
      "yes",
    );
    expect(applies(both, request({ capability: "proc.kill", context: { risk: "high" } }))).toBe(
      "no",
    );
    // True so far, then a step that would fail for a key (it has no agentType): not `yes`.
    const thenErr =
      'forbid (principal, action, resource) when { context.capability == "proc.kill" && principal.agentType == "x" };';
    expect(applies(thenErr, request({ capability: "proc.kill", principal: key }))).toBe("maybe");
    expect(
      applies(
        "forbid (principal, action, resource) when { context.budgetTokensLeft + 1 > 0 };",
        request({}),
      ),
    ).toBe("maybe");
  });

  it("drops a statement Cedar would find false, and keeps it when it may hold", () => {
    const text = 'forbid (principal, action, resource) when { context.capability == "proc.kill" };';
    expect(check(text, request({ capability: "proc.spawn" }))).toBe(false);
    expect(check(text, request({ capability: "proc.kill" }))).toBe(true);
  });

  it("keeps a statement that would fail to evaluate (its error is part of the answer)", () => {
    const other = request({ resource: { type: "Process", id: "proc_other" } });
    expect(
      check('forbid (principal, action, resource) when { resource.agentType == "x" };', other),
    ).toBe(true);
    // A key has no agentType: the left side fails before the right side could make it false.
    const errsFirst =
      'forbid (principal, action, resource) when { principal.agentType == "x" && context.capability == "nope" };';
    expect(check(errsFirst, request({ principal: key }))).toBe(true);
  });

  it("drops a statement whose false part comes first: Cedar never reaches what would fail", () => {
    const falseFirst =
      'forbid (principal, action, resource) when { context.capability == "nope" && principal.agentType == "x" };';
    expect(check(falseFirst, request({ principal: key }))).toBe(false);
  });

  it("keeps what it does not model: arithmetic, extension functions", () => {
    const req = request({ context: { budgetTokensLeft: 5 } });
    expect(
      check(
        "forbid (principal, action, resource) when { context.budgetTokensLeft + 1 > 100 };",
        req,
      ),
    ).toBe(true);
    expect(
      check(
        'forbid (principal, action, resource) when { decimal("1.0").lessThan(decimal("0.5")) };',
        req,
      ),
    ).toBe(true);
  });
});

describe("the capability index", () => {
  const guard = (text: string) => {
    const json = cedar.policyToJson(text);
    if (json.type !== "success") throw new Error(`does not parse: ${text}`);
    return guardOf(json.json);
  };

  it("reads a capability test that comes first after the scope", () => {
    const eq = guard(
      'forbid (principal is Key, action, resource) when { context.capability == "proc.kill" && context.risk == "low" };',
    );
    expect([eq?.("proc.kill"), eq?.("proc.spawn")]).toEqual([true, false]);
    const like = guard(
      'forbid (principal, action, resource) when { context.capability like "ext.*" || "fs.read" == context.capability };',
    );
    expect([like?.("ext.search"), like?.("fs.read"), like?.("fs.write")]).toEqual([
      true,
      true,
      false,
    ]);
    const unless = guard(
      'forbid (principal, action, resource) unless { context.capability like "*.get" };',
    );
    expect([unless?.("proc.get"), unless?.("proc.put")]).toEqual([false, true]);
  });

  it("reads none when something that could fail is evaluated first", () => {
    expect(
      guard(
        'forbid (principal, action, resource) when { principal.agentType == "x" && context.capability == "a" };',
      ),
    ).toBeNull();
    expect(guard("permit (principal, action, resource);")).toBeNull();
  });

  it("offers every unguarded statement, and the guarded ones that admit the capability", () => {
    const candidates = capabilityIndex([null, (c) => c === "a", null, (c) => c.startsWith("b")]);
    expect(candidates("a")).toEqual([0, 1, 2]);
    expect(candidates("bx")).toEqual([0, 2, 3]);
    expect(candidates("z")).toEqual([0, 2]);
  });
});

describe("a statement's footprint", () => {
  const of = (text: string) => {
    const json = cedar.policyToJson(text);
    if (json.type !== "success") throw new Error(`does not parse: ${text}`);
    const f = footprintOf(json.json);
    return { keys: f.contextKeys ? [...f.contextKeys].sort() : null, entities: f.entities };
  };

  it("names the context attributes it reads, and no entity data when it reads none", () => {
    expect(
      of(
        'forbid (principal is Process, action, resource) when { context.risk == "high" && context has approved };',
      ),
    ).toEqual({ keys: ["approved", "risk"], entities: false });
  });

  it("takes the whole context when it uses it whole or names an attribute the schema lacks", () => {
    expect(of("forbid (principal, action, resource) when { context == {} };").keys).toBeNull();
    expect(
      of("forbid (principal, action, resource) when { context.weather == 1 };").keys,
    ).toBeNull();
  });

  it("needs entity data for an entity attribute, `has` on an entity, and `in`", () => {
    expect(
      of('forbid (principal, action, resource) when { principal.role == "x" };').entities,
    ).toBe(true);
    expect(of("forbid (principal, action, resource) when { resource has risk };").entities).toBe(
      true,
    );
    expect(of('permit (principal in Tenant::"t", action, resource);').entities).toBe(true);
  });
});
