import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { type CliContext, EXIT, runCli, USAGE } from "../src/main.js";
import { NodeFactsSchema, TelemetryReportSchema } from "../src/protocol.js";
import { copyFixture, FIXTURES_DIR, fakeTiming } from "./helpers.js";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

function context(env: Record<string, string> = {}, timing = fakeTiming()) {
  const out = { stdout: "", stderr: "" };
  const ctx: CliContext = {
    env,
    cwd: FIXTURES_DIR,
    stdout: (text) => {
      out.stdout += text;
    },
    stderr: (text) => {
      out.stderr += text;
    },
    timing,
  };
  return { ctx, out };
}

describe("edgekernel-host facts", () => {
  it("prints the facts of the tree under --proc-root and --sys-root as JSON", async () => {
    const { ctx, out } = context();
    const code = await runCli(
      ["facts", "--proc-root", "scx-node/proc", "--sys-root", "scx-node/sys"],
      ctx,
    );
    expect(code).toBe(EXIT.ok);
    const facts = NodeFactsSchema.parse(JSON.parse(out.stdout));
    expect(facts.schedExt).toEqual({
      supported: true,
      state: "enabled",
      ops: "fifo",
      enableSeq: 3,
    });
    expect(out.stderr).toBe("");
  });

  it("takes the roots from the environment when no flag is given", async () => {
    const { ctx, out } = context({
      EDGEKERNEL_PROC_ROOT: `${FIXTURES_DIR}/plain-node/proc`,
      EDGEKERNEL_SYS_ROOT: `${FIXTURES_DIR}/plain-node/sys`,
    });
    expect(await runCli(["facts"], ctx)).toBe(EXIT.ok);
    expect(JSON.parse(out.stdout).kernelRelease).toBe("6.1.0-18-amd64");
  });
});

describe("edgekernel-host telemetry", () => {
  it("samples over --interval-ms and prints the report as JSON", async () => {
    const tree = await copyFixture("scx-node");
    const timing = fakeTiming(() => tree.overlay("scx-node.after"));
    const { ctx, out } = context({}, timing);
    const code = await runCli(
      [
        "telemetry",
        "--proc-root",
        tree.procRoot,
        "--sys-root",
        tree.sysRoot,
        "--interval-ms",
        "1000",
        "--top",
        "2",
      ],
      ctx,
    );
    expect(code).toBe(EXIT.ok);
    expect(timing.sleptMs).toEqual([1_000]);
    const report = TelemetryReportSchema.parse(JSON.parse(out.stdout));
    expect(report.cpu?.total.busyPct).toBe(45);
    expect(report.topProcesses?.map((process) => process.pid)).toEqual([300, 200]);
  });
});

describe("edgekernel-host usage", () => {
  it("prints help with --help and exits 0", async () => {
    const { ctx, out } = context();
    expect(await runCli(["--help"], ctx)).toBe(EXIT.ok);
    expect(out.stdout).toBe(USAGE);
  });

  it.each([
    ["no command", []],
    ["an unknown command", ["deploy"]],
    ["an unknown flag", ["facts", "--verbose"]],
    ["an extra argument", ["facts", "now"]],
  ])("exits 2 with a hint for %s", async (_case, argv) => {
    const { ctx, out } = context();
    expect(await runCli(argv, ctx)).toBe(EXIT.usage);
    expect(out.stdout).toBe("");
    expect(out.stderr).toContain("--help");
  });

  it("exits 2 naming the field on a bad configuration", async () => {
    const { ctx, out } = context();
    expect(await runCli(["telemetry", "--interval-ms", "10"], ctx)).toBe(EXIT.usage);
    expect(out.stderr).toContain("telemetryIntervalMs (from --interval-ms)");
    expect(out.stdout).toBe("");
  });

  it("refuses run before enroll, naming the state file, and exits 2", async () => {
    const { ctx, out } = context();
    expect(await runCli(["run", "--state-file", "/nonexistent/state.json"], ctx)).toBe(EXIT.usage);
    expect(out.stderr).toMatch(/not enrolled: no state file at \/nonexistent\/state.json/);
    expect(out.stdout).toBe("");
  });

  it("wants a token and a control plane URL to enroll", async () => {
    const { ctx, out } = context();
    expect(await runCli(["enroll", "--control-plane-url", "http://127.0.0.1:1"], ctx)).toBe(
      EXIT.usage,
    );
    expect(out.stderr).toMatch(/enroll needs --token \(or EDGEKERNEL_ENROLLMENT_TOKEN\)/);
    const second = context();
    expect(await runCli(["enroll", "--token", "et_x"], second.ctx)).toBe(EXIT.usage);
    expect(second.out.stderr).toMatch(/enroll needs --control-plane-url/);
  });
});

describe("the edgekernel-host executable", () => {
  it("runs as a process, prints facts and sets exit code 0", async () => {
    // Runs src/cli.ts through tsx so the entry point's wiring is tested without a build.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli.ts",
        "facts",
        "--proc-root",
        `${FIXTURES_DIR}/plain-node/proc`,
        "--sys-root",
        `${FIXTURES_DIR}/plain-node/sys`,
      ],
      { cwd: PACKAGE_DIR },
    );
    expect(JSON.parse(stdout).hostname).toBe("plain");
  });

  it("exits with status 2 for run before enroll", async () => {
    const run = promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "src/cli.ts", "run", "--state-file", "/nonexistent/state.json"],
      { cwd: PACKAGE_DIR },
    );
    await expect(run).rejects.toMatchObject({ code: 2 });
  });
});
