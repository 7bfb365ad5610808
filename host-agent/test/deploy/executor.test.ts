import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { LocalExecutor } from "../../src/deploy/local-executor.js";

describe("LocalExecutor", () => {
  const local = new LocalExecutor();
  const node = process.execPath;

  it("runs argv without a shell and reports the exit code and both streams", async () => {
    const result = await local.run([
      node,
      "-e",
      "process.stdout.write(process.argv[1]); process.stderr.write('e'); process.exit(3)",
      "$(echo no shell) *",
    ]);
    expect(result).toEqual({ code: 3, stdout: "$(echo no shell) *", stderr: "e", timedOut: false });
  });

  it("kills a command at its timeout", async () => {
    const result = await local.run([node, "-e", "setInterval(() => {}, 1000)"], { timeoutMs: 200 });
    expect(result).toMatchObject({ code: null, timedOut: true });
  });

  it("keeps the head of a large output and says how much was dropped", async () => {
    const result = await local.run([node, "-e", "process.stdout.write('x'.repeat(5000))"], {
      maxOutputBytes: 1000,
    });
    expect(result.stdout.startsWith("x".repeat(1000))).toBe(true);
    expect(result.stdout).toContain("[… 4000 more bytes dropped]");
  });

  it("reports a program that cannot start with a null code", async () => {
    const result = await local.run(["/nonexistent/edgekernel-tool"]);
    expect(result.code).toBeNull();
    expect(result.timedOut).toBe(false);
    expect(result.stderr).toContain("ENOENT");
  });

  it("reads text (null when absent) and writes bytes, creating directories", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ek-exec-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "a/b/obj.o");
    await local.writeBytes(path, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    expect(await local.readText(join(dir, "missing"))).toBeNull();
  });

  it("spawns a long-running process and stops it by signal", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ek-spawn-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const ready = join(dir, "ready");
    const child = local.spawn([
      node,
      "-e",
      "process.on('SIGINT', () => { console.log('bye'); process.exit(0) }); setInterval(() => {}, 1000); require('node:fs').writeFileSync(process.argv[1], 'up')",
      ready,
    ]);
    // Signal only once the handler is installed (the child says so through the file).
    await expect
      .poll(() => readFile(ready, "utf8").catch(() => ""), { timeout: 20_000 })
      .toBe("up");
    expect(child.hasExited()).toBe(false);
    expect(child.kill("SIGINT")).toBe(true);
    const result = await child.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("bye");
    expect(child.kill("SIGTERM")).toBe(false);
  });
});
