import { describe, expect, it } from "vitest";
import { idPattern, isId, newId } from "../../src/kernel/ids";
import { compareSemver } from "../../src/kernel/semver";

describe("ids", () => {
  it("are prefixed UUIDv7s that sort by creation time", () => {
    const a = newId("process", 1_700_000_000_000);
    const b = newId("process", 1_700_000_000_001);
    expect(a).toMatch(idPattern("process"));
    expect(a < b).toBe(true);
    expect(a.slice(5 + 12, 5 + 13)).toBe("7"); // version nibble
  });

  it("stay strictly increasing within one millisecond and when the clock steps back", () => {
    const ids = [newId("process", 5_000), newId("process", 5_000), newId("process", 4_000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
  });

  it("reject other kinds and malformed values", () => {
    expect(isId("process", newId("tenant"))).toBe(false);
    expect(isId("process", "proc_xyz")).toBe(false);
    expect(isId("process", `${newId("process")}0`)).toBe(false);
  });
});

describe("semver", () => {
  it("orders by precedence, pre-releases below releases", () => {
    const sorted = ["1.10.0", "1.2.0", "1.2.0-rc.1", "1.2.0-alpha", "0.9.9", "1.2.0-rc.10"].sort(
      compareSemver,
    );
    expect(sorted).toEqual([
      "0.9.9",
      "1.2.0-alpha",
      "1.2.0-rc.1",
      "1.2.0-rc.10",
      "1.2.0",
      "1.10.0",
    ]);
  });

  it("ignores build metadata and rejects non-versions", () => {
    expect(compareSemver("1.0.0+build.1", "1.0.0")).toBe(0);
    expect(() => compareSemver("1.0", "1.0.0")).toThrow(RangeError);
  });
});
