import { describe, expect, it } from "vitest";
import type { ProcessRecord } from "../../src/kernel/process/record";
import { callsInLastMinute, matchEntitlement } from "../../src/kernel/syscall/entitlement";
import { type GateInput, gate } from "../../src/kernel/syscall/gate";
import type { PolicyEngine, PolicyRequest } from "../../src/kernel/syscall/policy";

const record = {
  id: "proc_1",
  tenantId: "ten_1",
  type: { name: "assistant", version: "1.0.0" },
  capabilities: ["proc.sleep", "proc.finish", "ext.deploy"],
  usage: { tokensIn: 100, tokensOut: 50, toolCalls: 2, costMicroUsd: 0 },
  budget: {
    maxTokens: 1000,
    maxToolCalls: 3,
    wallClockMs: 60_000,
    maxCostMicroUsd: 0,
    deadlineAt: "2099-01-01T00:00:00Z",
  },
} as unknown as ProcessRecord;

/** A policy engine that records what it was asked and answers a fixed effect. */
function engine(
  effect: "allow" | "deny" | "require_approval",
): PolicyEngine & { seen: PolicyRequest[] } {
  const seen: PolicyRequest[] = [];
  return {
    seen,
    decide(request) {
      seen.push(request);
      return { effect, policyIds: [`p-${effect}`], errors: [] };
    },
  };
}

function input(overrides: Partial<GateInput> = {}): GateInput {
  return {
    record,
    name: "proc.sleep",
    capability: { risk: "low" },
    counted: true,
    callsThisStep: 0,
    entitlement: matchEntitlement("proc.sleep", "low", true, []),
    callsLastMinute: 0,
    policy: engine("allow"),
    approved: false,
    resource: { type: "Tenant", id: "ten_1" },
    dataLabels: [],
    nowMs: Date.UTC(2026, 0, 1, 9),
    ...overrides,
  };
}

describe("the system-call gate", () => {
  it("checks in order: existence, capability, budget, rate limit, then policy", () => {
    expect(gate(input({ capability: undefined }))).toMatchObject({
      allow: false,
      code: "unknown_call",
    });
    expect(gate(input({ name: "proc.spawn" }))).toMatchObject({
      allow: false,
      code: "capability_denied",
    });
    expect(gate(input({ callsThisStep: 1 }))).toMatchObject({
      allow: false,
      code: "budget_exhausted",
    });
    const limited = matchEntitlement("proc.sleep", "low", true, [
      { id: "e", capability: "proc.sleep", callsPerMin: 2, budgetTokens: null },
    ]);
    expect(gate(input({ entitlement: limited, callsLastMinute: 2 }))).toMatchObject({
      allow: false,
      code: "rate_limited",
    });
    expect(gate(input({ entitlement: limited, callsLastMinute: 1 }))).toMatchObject({
      allow: true,
      policyIds: ["p-allow"],
    });
  });

  it("does not count finish() against the tool-call budget", () => {
    expect(gate(input({ name: "proc.finish", counted: false, callsThisStep: 1 }))).toMatchObject({
      allow: true,
    });
  });

  it("maps policy effects: deny names the policies, require_approval parks the call", () => {
    expect(gate(input({ policy: engine("deny") }))).toMatchObject({
      allow: false,
      code: "policy_denied",
      policyIds: ["p-deny"],
    });
    expect(gate(input({ policy: engine("require_approval") }))).toMatchObject({
      allow: false,
      approval: true,
      policyIds: ["p-require_approval"],
    });
  });

  it("gives the policy the principal, capability, risk, grant, budget left and time of day", () => {
    const e = engine("allow");
    const ent = matchEntitlement("ext.deploy", "high", false, [
      { id: "e", capability: "ext.deploy", callsPerMin: null, budgetTokens: 500 },
    ]);
    gate(
      input({
        name: "ext.deploy",
        capability: { risk: "high" },
        entitlement: ent,
        policy: e,
        approved: true,
      }),
    );
    expect(e.seen[0]).toMatchObject({
      tenantId: "ten_1",
      principal: { type: "Process", id: "proc_1", agentType: "assistant" },
      capability: "ext.deploy",
      context: {
        risk: "high",
        entitled: true,
        explicitGrant: true,
        approved: true,
        budgetTokensLeft: 350,
        hourOfDayUtc: 9,
      },
    });
  });
});

describe("entitlements", () => {
  it("entitles low and medium built-ins by default, nothing else", () => {
    expect(matchEntitlement("proc.spawn", "medium", true, []).entitled).toBe(true);
    expect(matchEntitlement("proc.admin", "high", true, []).entitled).toBe(false);
    expect(matchEntitlement("ext.echo", "low", false, []).entitled).toBe(false);
  });

  it("matches namespace wildcards, marks exact grants, and keeps the tightest limits", () => {
    const m = matchEntitlement("ext.echo", "medium", false, [
      { id: "a", capability: "ext.*", callsPerMin: 10, budgetTokens: null },
      { id: "b", capability: "ext.echo", callsPerMin: 5, budgetTokens: 100 },
      { id: "c", capability: "other.*", callsPerMin: 1, budgetTokens: 1 },
    ]);
    expect(m).toEqual({
      entitled: true,
      explicitGrant: true,
      callsPerMin: 5,
      budgetTokens: 100,
      grantIds: ["a", "b"],
    });
    expect(
      matchEntitlement("ext.echo", "medium", false, [
        { id: "a", capability: "ext.*", callsPerMin: null, budgetTokens: null },
      ]).explicitGrant,
    ).toBe(false);
  });

  it("counts calls in the sliding minute", () => {
    expect(callsInLastMinute([1_000, 30_000, 59_999, 61_000], 61_000)).toBe(3);
  });
});
