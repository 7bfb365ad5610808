import { describe, expect, it } from "vitest";
import type { Cedar } from "../../src/policy/cedar.js";
import { DEFAULT_POLICIES } from "../../src/policy/defaults.js";
import {
  MAX_POLICIES_PER_TENANT,
  MAX_PREPARSED_SLICES,
  MAX_PREPARSED_STATEMENTS,
  MAX_STATEMENTS_PER_POLICY,
} from "../../src/policy/limits.js";
import { holds, parseIntoSlot, releaseSlot } from "../../src/policy/slots.js";

/** A stand-in for the Cedar module's store: what each slot name holds, by statement count. */
function fakeCedar() {
  const store = new Map<string, number>();
  const cedar = {
    preparsePolicySet(name: string, set: { staticPolicies?: unknown }) {
      const policies = set.staticPolicies as Record<string, string>;
      if (Object.values(policies).some((t) => t === "bad")) {
        return { type: "failure", errors: [{ message: "bad policy" }] };
      }
      store.set(name, Object.keys(policies).length);
      return { type: "success" };
    },
  } as unknown as Cedar;
  const held = () => [...store.values()].reduce((a, b) => a + b, 0);
  return { cedar, store, held };
}

const policies = (n: number) =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`p${i}`, "permit (principal, action, resource);"]),
  );

function parse(cedar: Cedar, holder: symbol, n: number): string {
  const r = parseIntoSlot(cedar, holder, policies(n), n);
  if (!r.ok) throw new Error("parse failed");
  return r.slot;
}

describe("the pool of parsed slices", () => {
  it("has room for a tenant's largest set, defaults included, under its statement budget", () => {
    const largest = MAX_POLICIES_PER_TENANT * MAX_STATEMENTS_PER_POLICY + DEFAULT_POLICIES.length;
    expect(MAX_PREPARSED_STATEMENTS).toBeGreaterThanOrEqual(largest);
  });

  it("reuses the least recently used slot when full; its holder sees it taken", () => {
    const { cedar, store } = fakeCedar();
    const holders = Array.from({ length: MAX_PREPARSED_SLICES }, () => Symbol("h"));
    const slots = holders.map((h) => parse(cedar, h, 1));
    expect(new Set(slots).size).toBe(MAX_PREPARSED_SLICES);
    expect(holds(cedar, slots[0]!, holders[0]!)).toBe(true); // used: now the most recent
    const late = Symbol("late");
    const taken = parse(cedar, late, 1);
    expect(taken).toBe(slots[1]); // the least recently used, not slot 0
    expect(holds(cedar, slots[1]!, holders[1]!)).toBe(false);
    expect(holds(cedar, taken, late)).toBe(true);
    expect(store.size).toBe(MAX_PREPARSED_SLICES);
  });

  it("keeps the statements held under the budget, emptying the oldest slots", () => {
    const { cedar, held } = fakeCedar();
    const half = Math.floor(MAX_PREPARSED_STATEMENTS / 2);
    const a = Symbol("a");
    const b = Symbol("b");
    const c = Symbol("c");
    const slotA = parse(cedar, a, half);
    parse(cedar, b, half);
    parse(cedar, c, half);
    expect(held()).toBeLessThanOrEqual(MAX_PREPARSED_STATEMENTS);
    expect(holds(cedar, slotA, a)).toBe(false);
  });

  it("empties a released slot and hands it out again", () => {
    const { cedar, store, held } = fakeCedar();
    const a = Symbol("a");
    const slot = parse(cedar, a, 3);
    releaseSlot(cedar, slot, a);
    expect(store.get(slot)).toBe(0);
    expect(held()).toBe(0);
    expect(holds(cedar, slot, a)).toBe(false);
    expect(parse(cedar, Symbol("b"), 2)).toBe(slot);
  });

  it("reports a set Cedar refuses, and holds nothing for it", () => {
    const { cedar } = fakeCedar();
    const h = Symbol("h");
    const r = parseIntoSlot(cedar, h, { p: "bad" }, 1);
    expect(r).toMatchObject({ ok: false, errors: [{ message: "bad policy" }] });
  });
});
