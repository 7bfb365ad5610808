import { describe, expect, it } from "vitest";
import {
  createCedarEngine,
  DEFAULT_POLICIES,
  MAX_PREPARSED_SLICES,
  PolicySetError,
} from "../../src/policy/index.js";
import { request } from "./requests.js";

const defaults = createCedarEngine([]);

describe("the default policies", () => {
  it("allow an entitled low-risk call, citing default-permit-entitled", () => {
    expect(defaults.decide(request())).toEqual({
      effect: "allow",
      policyIds: ["default-permit-entitled"],
      errors: [],
    });
  });

  it("deny a call no entitlement covers, citing no policy (nothing permits it)", () => {
    expect(defaults.decide(request({ context: { entitled: false } }))).toEqual({
      effect: "deny",
      policyIds: [],
      errors: [],
    });
  });

  it("ask for approval on a high-risk call", () => {
    expect(defaults.decide(request({ context: { risk: "high" } }))).toEqual({
      effect: "require_approval",
      policyIds: ["high-risk-needs-approval"],
      errors: [],
    });
  });

  it("allow a high-risk call once approved", () => {
    const d = defaults.decide(request({ context: { risk: "high", approved: true } }));
    expect(d.effect).toBe("allow");
    expect(d.policyIds).toEqual(["default-permit-entitled"]);
  });

  it("deny (not ask approval for) a high-risk call nothing permits: approving would not help", () => {
    const d = defaults.decide(request({ context: { risk: "high", entitled: false } }));
    expect(d).toEqual({ effect: "deny", policyIds: [], errors: [] });
  });

  it("deny a critical call unless it is explicitly granted", () => {
    expect(defaults.decide(request({ context: { risk: "critical" } }))).toEqual({
      effect: "deny",
      policyIds: ["critical-denied-unless-granted"],
      errors: [],
    });
    const granted = defaults.decide(
      request({ context: { risk: "critical", explicitGrant: true } }),
    );
    expect(granted.effect).toBe("allow");
  });

  it("deny any call once the token budget is spent, citing budget-guard", () => {
    for (const left of [0, -5]) {
      expect(defaults.decide(request({ context: { budgetTokensLeft: left } }))).toEqual({
        effect: "deny",
        policyIds: ["budget-guard"],
        errors: [],
      });
    }
    expect(defaults.decide(request({ context: { budgetTokensLeft: 1 } })).effect).toBe("allow");
  });

  it("deny rather than ask when an unannotated forbid also decides", () => {
    const d = defaults.decide(request({ context: { risk: "high", budgetTokensLeft: 0 } }));
    expect(d.effect).toBe("deny");
    expect(d.policyIds).toEqual(["budget-guard", "high-risk-needs-approval"]); // sorted
  });

  it("treat an unbounded budget (Infinity, a huge number) as tokens left, and NaN as none", () => {
    expect(defaults.decide(request({ context: { budgetTokensLeft: Infinity } })).effect).toBe(
      "allow",
    );
    expect(defaults.decide(request({ context: { budgetTokensLeft: 2 ** 60 } })).effect).toBe(
      "allow",
    );
    expect(
      defaults.decide(request({ context: { budgetTokensLeft: Number.NaN } })).policyIds,
    ).toEqual(["budget-guard"]);
  });

  it("apply to keys as well as processes", () => {
    const key = request({
      principal: { type: "Key", id: "key_1", agentType: null, role: "operator" },
    });
    expect(defaults.decide(key).effect).toBe("allow");
  });

  it("ship with stable ids", () => {
    expect(DEFAULT_POLICIES.map((p) => p.id)).toEqual([
      "default-permit-entitled",
      "high-risk-needs-approval",
      "critical-denied-unless-granted",
      "budget-guard",
    ]);
    expect(defaults.policyIds).toEqual(DEFAULT_POLICIES.map((p) => p.id));
  });
});

describe("tenant policies", () => {
  it("a tenant forbid overrides the default permit, cited by its id", () => {
    const engine = createCedarEngine([
      {
        id: "no-spawn",
        text: 'forbid (principal, action, resource) when { context.capability == "proc.spawn" };',
      },
    ]);
    expect(engine.decide(request())).toEqual({
      effect: "deny",
      policyIds: ["no-spawn"],
      errors: [],
    });
    expect(engine.decide(request({ capability: "proc.sleep" })).effect).toBe("allow");
  });

  it("working hours: a forbid on hourOfDayUtc", () => {
    const engine = createCedarEngine([
      {
        id: "office-hours",
        text: "forbid (principal, action, resource) unless { context.hourOfDayUtc >= 8 && context.hourOfDayUtc < 18 };",
      },
    ]);
    expect(engine.decide(request({ context: { hourOfDayUtc: 7 } })).policyIds).toEqual([
      "office-hours",
    ]);
    expect(engine.decide(request({ context: { hourOfDayUtc: 8 } })).effect).toBe("allow");
    expect(engine.decide(request({ context: { hourOfDayUtc: 18 } })).effect).toBe("deny");
  });

  it("data labels: PII needs approval (a tenant's own @approval forbid)", () => {
    const engine = createCedarEngine([
      {
        id: "pii-approval",
        text: '@approval("required") forbid (principal, action, resource) when { context.dataLabels.contains("pii") } unless { context.approved };',
      },
    ]);
    expect(engine.decide(request({ context: { dataLabels: ["pii", "eu"] } }))).toEqual({
      effect: "require_approval",
      policyIds: ["pii-approval"],
      errors: [],
    });
    expect(engine.decide(request({ context: { dataLabels: ["eu"] } })).effect).toBe("allow");
    expect(
      engine.decide(request({ context: { dataLabels: ["pii"], approved: true } })).effect,
    ).toBe("allow");
  });

  it("principal attributes: agent type and key role", () => {
    const engine = createCedarEngine([
      {
        id: "readers-read-only",
        text: 'forbid (principal is Key, action, resource) when { principal.role == "reader" && !(context.capability like "*.get") };',
      },
      {
        id: "no-scrapers-on-ext",
        text: 'forbid (principal is Process, action, resource) when { principal.agentType == "scraper" && context.capability like "ext.*" };',
      },
    ]);
    const reader = { type: "Key" as const, id: "key_r", agentType: null, role: "reader" };
    expect(engine.decide(request({ principal: reader })).policyIds).toEqual(["readers-read-only"]);
    expect(engine.decide(request({ principal: reader, capability: "proc.get" })).effect).toBe(
      "allow",
    );
    const scraper = { type: "Process" as const, id: "proc_s", agentType: "scraper", role: null };
    expect(
      engine.decide(request({ principal: scraper, capability: "ext.fetch" })).policyIds,
    ).toEqual(["no-scrapers-on-ext"]);
    expect(engine.decide(request({ principal: scraper })).effect).toBe("allow");
  });

  it("the capability as resource exposes its risk and namespace", () => {
    const engine = createCedarEngine([
      {
        id: "no-ext-medium",
        text: 'forbid (principal, action, resource is Capability) when { resource.namespace == "ext" && resource.risk == "medium" };',
      },
    ]);
    const call = (capability: string, risk: "low" | "medium") =>
      engine.decide(
        request({
          capability,
          resource: { type: "Capability", id: capability },
          context: { risk },
        }),
      );
    expect(call("ext.search", "medium").policyIds).toEqual(["no-ext-medium"]);
    expect(call("ext.search", "low").effect).toBe("allow");
    expect(call("proc.spawn", "medium").effect).toBe("allow");
  });

  it("principals are members of their tenant (no tenant entity needed)", () => {
    const engine = createCedarEngine([
      { id: "home", text: 'permit (principal in Tenant::"ten_home", action, resource);' },
    ]);
    const unentitled = { entitled: false };
    expect(engine.decide(request({ tenantId: "ten_home", context: unentitled })).policyIds).toEqual(
      ["home"],
    );
    expect(engine.decide(request({ tenantId: "ten_away", context: unentitled })).effect).toBe(
      "deny",
    );
  });

  it("a tenant permit can allow what no entitlement covers", () => {
    const engine = createCedarEngine([
      {
        id: "let-sleep",
        text: 'permit (principal, action, resource) when { context.capability == "proc.sleep" };',
      },
    ]);
    const d = engine.decide(request({ capability: "proc.sleep", context: { entitled: false } }));
    expect(d).toEqual({ effect: "allow", policyIds: ["let-sleep"], errors: [] });
  });

  it("statements of one stored policy get ids from their @id or their position", () => {
    const engine = createCedarEngine([
      {
        id: "pack",
        text: `@id("night") forbid (principal, action, resource) when { context.hourOfDayUtc < 6 };
               forbid (principal, action, resource) when { context.capability == "proc.kill" };`,
      },
    ]);
    expect(engine.policyIds).toContain("pack#night");
    expect(engine.policyIds).toContain("pack#1");
    expect(engine.decide(request({ context: { hourOfDayUtc: 3 } })).policyIds).toEqual([
      "pack#night",
    ]);
    expect(engine.decide(request({ capability: "proc.kill" })).policyIds).toEqual(["pack#1"]);
  });

  it("a policy that errors at evaluation is skipped and its error reported", () => {
    // Reading attributes of a resource the request has no data for is an evaluation error.
    const engine = createCedarEngine([
      {
        id: "reads-target",
        text: 'forbid (principal, action, resource is Process) when { resource.agentType == "x" };',
      },
    ]);
    const d = engine.decide(request({ resource: { type: "Process", id: "proc_other" } }));
    expect(d.effect).toBe("allow");
    expect(d.errors).toHaveLength(1);
    expect(d.errors[0]).toMatch(/^reads-target: .*proc_other/);
  });

  it("a request outside the schema is denied with the reason (fails closed)", () => {
    const d = defaults.decide(request({ resource: { type: "Approval", id: "apr_1" } }));
    expect(d.effect).toBe("deny");
    expect(d.errors[0]).toMatch(/Approval/);
  });

  it("a request whose values do not fit the schema is denied, saying which (fails closed)", () => {
    // Types are checked in TypeScript, not by Cedar on each call: a caller's cast or a JSON body
    // can still carry a wrong value, and the call must not be decided on it.
    const yes = "yes" as unknown as boolean;
    const entitledYes = defaults.decide(request({ context: { entitled: yes } }));
    expect(entitledYes.effect).toBe("deny");
    expect(entitledYes.errors).toEqual(["request: context.entitled must be a Boolean"]);
    const labels = defaults.decide(
      request({ context: { dataLabels: [1] as unknown as string[] } }),
    );
    expect(labels).toMatchObject({
      effect: "deny",
      errors: ["request: context.dataLabels[] must be a String"],
    });
    // A string JSON cannot carry (an unpaired surrogate) is not sent to Cedar either.
    expect(defaults.decide(request({ capability: "proc.\uD800" })).effect).toBe("deny");
    // Even where no statement reads the value: the request as a whole is checked.
    const engine = createCedarEngine([]);
    expect(
      engine.decide(request({ context: { hourOfDayUtc: "noon" as unknown as number } })).effect,
    ).toBe("deny");
  });

  it("a source that does not parse, or reuses a built-in id, fails to build", () => {
    expect(() => createCedarEngine([{ id: "bad", text: "permit (principal" }])).toThrow(
      PolicySetError,
    );
    expect(() =>
      createCedarEngine([{ id: "budget-guard", text: "permit (principal, action, resource);" }]),
    ).toThrow(/budget-guard/);
  });

  it("many engines share the bounded store of parsed sets without mixing them up", () => {
    // Each engine parses two slices here (its forbid with the default permit, and the permit
    // alone): more than MAX_PREPARSED_SLICES in all, so later ones take earlier slots, and an
    // engine whose slot was taken re-parses its own slice before deciding.
    const engines = Array.from({ length: Math.ceil(MAX_PREPARSED_SLICES / 2) + 10 }, (_, i) =>
      createCedarEngine([
        {
          id: `only-${i}`,
          text: `forbid (principal, action, resource) unless { context.hourOfDayUtc == ${i % 24} };`,
        },
      ]),
    );
    for (let round = 0; round < 2; round++) {
      engines.forEach((engine, i) => {
        const d = engine.decide(request({ context: { hourOfDayUtc: (i + 1) % 24 } }));
        expect(d.policyIds).toEqual([`only-${i}`]);
        expect(engine.decide(request({ context: { hourOfDayUtc: i % 24 } })).effect).toBe("allow");
      });
    }
    for (const engine of engines) engine.release();
  });
});
