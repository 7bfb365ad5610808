import { describe, expect, it } from "vitest";
import { breachOf, deltaOf } from "../../src/kernel/workspace/limits";
import { checkPath, checkSharePath, shareCovers } from "../../src/kernel/workspace/paths";
import { parseRange } from "../../src/kernel/workspace/range";

describe("workspace path rules", () => {
  it("accepts ordinary UTF-8 paths and refuses the malformed ones", () => {
    for (const p of [
      "a",
      "notes/plan.md",
      "ü/日本/x y.txt",
      "a".repeat(255),
      `${"a/".repeat(511)}a`,
    ]) {
      expect(checkPath(p).ok, p).toBe(true);
    }
    for (const p of [
      "",
      "/a",
      "a/",
      "a//b",
      "a/../b",
      "..",
      "./a",
      "a\u0000b",
      "a\\b",
      "\ud800",
      "a".repeat(256),
      `${"ab/".repeat(342)}a`,
    ]) {
      expect(checkPath(p).ok, JSON.stringify(p)).toBe(false);
    }
  });

  it("shares a path exactly or a prefix ending in /", () => {
    expect(checkSharePath("reports/").ok).toBe(true);
    expect(checkSharePath("/").ok).toBe(false);
    expect(shareCovers("reports/", "reports/a/b")).toBe(true);
    expect(shareCovers("reports/", "reportsX")).toBe(false);
    expect(shareCovers("a.md", "a.md")).toBe(true);
    expect(shareCovers("a.md", "a.md.bak")).toBe(false);
  });
});

describe("quota rule", () => {
  it("admits reaching a limit exactly and refuses one more; shrinking always passes", () => {
    expect(
      breachOf("process", { bytes: 90, objects: 1 }, { bytes: 10, objects: 1 }, 100, 2),
    ).toBeNull();
    expect(
      breachOf("process", { bytes: 90, objects: 1 }, { bytes: 11, objects: 0 }, 100, 2),
    ).toMatchObject({
      limit: "process_bytes",
      used: 90,
      requested: 11,
    });
    expect(
      breachOf("tenant", { bytes: 0, objects: 2 }, { bytes: 0, objects: 1 }, 100, 2)?.limit,
    ).toBe("tenant_objects");
    expect(
      breachOf("process", { bytes: 500, objects: 9 }, { bytes: -1, objects: 0 }, 100, 2),
    ).toBeNull();
    expect(deltaOf(null, 5)).toEqual({ bytes: 5, objects: 1 });
    expect(deltaOf(7, 5)).toEqual({ bytes: -2, objects: 0 });
  });
});

describe("Range header", () => {
  it("resolves single ranges and ignores what it does not understand", () => {
    expect(parseRange(undefined, 10)).toEqual({ kind: "whole" });
    expect(parseRange("bytes=0-0", 10)).toEqual({ kind: "range", offset: 0, length: 1 });
    expect(parseRange("bytes=5-", 10)).toEqual({ kind: "range", offset: 5, length: 5 });
    expect(parseRange("bytes=5-100", 10)).toEqual({ kind: "range", offset: 5, length: 5 });
    expect(parseRange("bytes=-3", 10)).toEqual({ kind: "range", offset: 7, length: 3 });
    expect(parseRange("bytes=-30", 10)).toEqual({ kind: "range", offset: 0, length: 10 });
    expect(parseRange("bytes=10-", 10)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", 10)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=0-1,3-4", 10)).toEqual({ kind: "whole" });
    expect(parseRange("items=0-1", 10)).toEqual({ kind: "whole" });
    expect(parseRange("bytes=5-2", 10)).toEqual({ kind: "whole" });
  });
});
