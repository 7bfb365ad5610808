import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { ParseError } from "../src/parsers/errors.js";
import { MAX_KERNEL_FILE_BYTES, readKernelFile, readParsed } from "../src/read.js";
import { Warnings } from "../src/warnings.js";

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "edgekernel-read-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("readKernelFile", () => {
  it("reads a file longer than its first buffer in full", async () => {
    const dir = await tempDir();
    const text = "x".repeat(10_000);
    await writeFile(join(dir, "big"), text);
    expect(await readKernelFile(join(dir, "big"))).toEqual({ kind: "text", text });
  });

  it("calls a missing path, or one under a regular file, absent", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "file"), "x");
    expect(await readKernelFile(join(dir, "missing"))).toEqual({ kind: "absent" });
    expect(await readKernelFile(join(dir, "file", "child"))).toEqual({ kind: "absent" });
  });

  it("calls a directory unreadable, with the reason", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "sub"));
    const result = await readKernelFile(join(dir, "sub"));
    expect(result.kind).toBe("unreadable");
    expect(result.kind === "unreadable" && result.reason).toMatch(/EISDIR/);
  });

  it("refuses a file larger than MAX_KERNEL_FILE_BYTES", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "huge"), Buffer.alloc(MAX_KERNEL_FILE_BYTES + 1, 0x41));
    expect(await readKernelFile(join(dir, "huge"))).toEqual({
      kind: "unreadable",
      reason: `larger than ${MAX_KERNEL_FILE_BYTES} bytes`,
    });
  });
});

describe("readParsed", () => {
  const parseNumber = (text: string): number => {
    if (!/^\d+\n?$/.test(text)) throw new ParseError("number", `not a number: ${text.trim()}`);
    return Number(text);
  };

  it("returns null silently for an absent optional file and warns for an expected one", async () => {
    const dir = await tempDir();
    const warnings = new Warnings();
    expect(await readParsed(join(dir, "a"), parseNumber, warnings, { expected: false })).toBeNull();
    expect(warnings.list()).toEqual([]);
    expect(await readParsed(join(dir, "b"), parseNumber, warnings, { expected: true })).toBeNull();
    expect(warnings.list()).toEqual([{ source: join(dir, "b"), message: "missing" }]);
  });

  it("returns null with a warning for a malformed file", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "n"), "seven\n");
    const warnings = new Warnings();
    expect(await readParsed(join(dir, "n"), parseNumber, warnings, { expected: false })).toBeNull();
    expect(warnings.list()).toEqual([
      { source: join(dir, "n"), message: "malformed: not a number: seven" },
    ]);
  });

  it("lets an exception other than ParseError escape, since it is a bug", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "n"), "1\n");
    const buggy = (): number => {
      throw new TypeError("bug");
    };
    await expect(
      readParsed(join(dir, "n"), buggy, new Warnings(), { expected: true }),
    ).rejects.toThrow(TypeError);
  });
});
