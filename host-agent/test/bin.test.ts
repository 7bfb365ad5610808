import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildBundle, isStale } from "../bin/build.mjs";
import { USAGE } from "../src/main.js";
import { AGENT_VERSION } from "../src/version.js";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("the edgekernel-host bin", () => {
  it("builds a bundle that runs on its own", async () => {
    const dir = await mkdtemp(join(tmpdir(), "edgekernel-bin-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const outfile = join(dir, "cli.js");
    expect(isStale(outfile)).toBe(true);
    await buildBundle(outfile);
    expect(isStale(outfile)).toBe(false);
    // A source newer than the bundle makes it stale again.
    const old = new Date(Date.now() - 3_600_000);
    await utimes(outfile, old, old);
    expect(isStale(outfile)).toBe(true);
    // The bundle resolves zod and ws from the repository's node_modules, as the real one does.
    const bundled = join(REPO_ROOT, "host-agent", "dist", `test-${process.pid}.js`);
    await buildBundle(bundled);
    onTestFinished(() => rm(bundled, { force: true }));
    const { stdout } = await run(process.execPath, [bundled, "--help"]);
    expect(stdout).toBe(USAGE);
  });

  it("runs as `npx edgekernel-host` from the repository root", async () => {
    expect((await stat(join(REPO_ROOT, "node_modules", ".bin", "edgekernel-host"))).isFile()).toBe(
      true,
    );
    const { stdout } = await run("npx", ["--no-install", "edgekernel-host", "--help"], {
      cwd: REPO_ROOT,
    });
    expect(stdout).toBe(USAGE);
  });
});

describe("the agent's version", () => {
  it("is package.json's", async () => {
    const pkg = JSON.parse(
      await readFile(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8"),
    ) as { version: string };
    expect(AGENT_VERSION).toBe(pkg.version);
  });
});
