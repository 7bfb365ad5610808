import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CONFIG_DEFAULTS,
  CONFIG_LIMITS,
  ConfigError,
  type ConfigSources,
  loadConfig,
} from "../src/config.js";
import { copyFixture } from "./helpers.js";

const CWD = "/work/here";

function sources(partial: Partial<ConfigSources> = {}): ConfigSources {
  return { flags: {}, env: {}, cwd: CWD, ...partial };
}

async function configFile(content: unknown): Promise<string> {
  const tree = await copyFixture("plain-node");
  const path = join(tree.dir, "host-agent.json");
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

async function configError(input: ConfigSources): Promise<ConfigError> {
  try {
    await loadConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig precedence", () => {
  it("uses the defaults when no source sets anything", async () => {
    expect(await loadConfig(sources())).toEqual({ ...CONFIG_DEFAULTS, labels: {} });
  });

  it("lets the file override defaults, env override the file and flags override env", async () => {
    const file = await configFile({
      role: "verifier",
      telemetryIntervalMs: 2_000,
      topProcesses: 3,
      nodeId: "file-node",
    });
    const config = await loadConfig(
      sources({
        env: {
          EDGEKERNEL_CONFIG: file,
          EDGEKERNEL_TELEMETRY_INTERVAL_MS: "3000",
          EDGEKERNEL_TOP_PROCESSES: "4",
        },
        flags: { topProcesses: "5" },
      }),
    );
    expect(config).toMatchObject({
      role: "verifier",
      nodeId: "file-node",
      telemetryIntervalMs: 3_000,
      topProcesses: 5,
    });
  });

  it("prefers --config over EDGEKERNEL_CONFIG", async () => {
    const fromFlag = await configFile({ nodeId: "from-flag" });
    const fromEnv = await configFile({ nodeId: "from-env" });
    const config = await loadConfig(
      sources({ flags: { config: fromFlag }, env: { EDGEKERNEL_CONFIG: fromEnv } }),
    );
    expect(config.nodeId).toBe("from-flag");
  });

  it("merges labels key by key, the higher source winning per key", async () => {
    const file = await configFile({ labels: { zone: "a", tier: "web" } });
    const config = await loadConfig(
      sources({
        flags: { config: file, labels: ["zone=c"] },
        env: { EDGEKERNEL_LABELS: "zone=b, rack=r1" },
      }),
    );
    expect(config.labels).toEqual({ zone: "c", tier: "web", rack: "r1" });
  });

  it("resolves relative roots against the config file's directory, or the cwd for flags and env", async () => {
    const file = await configFile({ procRoot: "fake/proc", sysRoot: "fake/sys" });
    const fromFile = await loadConfig(sources({ flags: { config: file } }));
    expect(fromFile.procRoot).toBe(join(file, "..", "fake/proc"));
    const fromFlags = await loadConfig(
      sources({ flags: { config: file, procRoot: "p" }, env: { EDGEKERNEL_SYS_ROOT: "s" } }),
    );
    expect(fromFlags).toMatchObject({ procRoot: `${CWD}/p`, sysRoot: `${CWD}/s` });
  });

  it("resolves the state file and artifact directory like the roots", async () => {
    const file = await configFile({ stateFile: "state/node.json", artifactDir: "art" });
    const fromFile = await loadConfig(sources({ flags: { config: file } }));
    expect(fromFile.stateFile).toBe(join(file, "..", "state/node.json"));
    expect(fromFile.artifactDir).toBe(join(file, "..", "art"));
    const fromFlags = await loadConfig(
      sources({
        flags: { stateFile: "s.json" },
        env: { EDGEKERNEL_ARTIFACT_DIR: "a", EDGEKERNEL_STATE_FILE: "ignored.json" },
      }),
    );
    expect(fromFlags).toMatchObject({ stateFile: `${CWD}/s.json`, artifactDir: `${CWD}/a` });
  });

  it("reads booleans from env in the usual spellings and treats an empty variable as unset", async () => {
    expect((await loadConfig(sources({ env: { EDGEKERNEL_DRY_RUN: "yes" } }))).dryRun).toBe(true);
    expect((await loadConfig(sources({ env: { EDGEKERNEL_DRY_RUN: "0" } }))).dryRun).toBe(false);
    expect((await loadConfig(sources({ env: { EDGEKERNEL_ROLE: "" } }))).role).toBe("node");
  });
});

describe("loadConfig validation", () => {
  it("names the field and the flag for a value out of bounds", async () => {
    const error = await configError(sources({ flags: { intervalMs: "99" } }));
    expect(error.issues).toEqual([
      {
        field: "telemetryIntervalMs",
        origin: "--interval-ms",
        message: expect.stringMatching(/>=100/),
      },
    ]);
    expect(error.message).toContain("telemetryIntervalMs (from --interval-ms)");
  });

  it("accepts the interval bounds themselves", async () => {
    const { telemetryIntervalMinMs: min, telemetryIntervalMaxMs: max } = CONFIG_LIMITS;
    expect(
      (await loadConfig(sources({ flags: { intervalMs: String(min) } }))).telemetryIntervalMs,
    ).toBe(min);
    expect(
      (await loadConfig(sources({ flags: { intervalMs: String(max) } }))).telemetryIntervalMs,
    ).toBe(max);
    await expect(loadConfig(sources({ flags: { intervalMs: String(max + 1) } }))).rejects.toThrow(
      ConfigError,
    );
  });

  it("names the environment variable for a value that is not a number", async () => {
    const error = await configError(sources({ env: { EDGEKERNEL_TOP_PROCESSES: "ten" } }));
    expect(error.issues).toMatchObject([
      { field: "topProcesses", origin: "env EDGEKERNEL_TOP_PROCESSES" },
    ]);
  });

  it("rejects a fractional interval as not an integer", async () => {
    const error = await configError(sources({ flags: { intervalMs: "1500.5" } }));
    expect(error.issues).toMatchObject([
      { field: "telemetryIntervalMs", message: expect.stringMatching(/int/) },
    ]);
  });

  it("rejects an unknown role and a non-http control plane URL, reporting both", async () => {
    const error = await configError(
      sources({
        flags: { role: "master" },
        env: { EDGEKERNEL_CONTROL_PLANE_URL: "ftp://cp.example" },
      }),
    );
    expect(error.issues.map((issue) => [issue.field, issue.origin])).toEqual([
      ["controlPlaneUrl", "env EDGEKERNEL_CONTROL_PLANE_URL"],
      ["role", "--role"],
    ]);
  });

  it("accepts an https control plane URL", async () => {
    const config = await loadConfig(
      sources({ flags: { controlPlaneUrl: "https://cp.example.com" } }),
    );
    expect(config.controlPlaneUrl).toBe("https://cp.example.com");
  });

  it("names an unknown field in the config file, catching typos", async () => {
    const file = await configFile({ telemetryIntervalMS: 1_000 });
    const error = await configError(sources({ flags: { config: file } }));
    expect(error.issues).toEqual([
      { field: "telemetryIntervalMS", origin: `config file ${file}`, message: "unknown field" },
    ]);
  });

  it("names the label for an invalid label key", async () => {
    const error = await configError(sources({ flags: { labels: ["bad key=x"] } }));
    expect(error.issues).toEqual([
      {
        field: "labels.bad key",
        origin: "--label",
        message: "expected letters and digits, with . _ / - only inside",
      },
    ]);
  });

  it("attributes a bad label to the source that set it when labels merge", async () => {
    const file = await configFile({ labels: { zone: "a b" } });
    const error = await configError(sources({ flags: { config: file, labels: ["rack=r1"] } }));
    expect(error.issues).toMatchObject([{ field: "labels.zone", origin: `config file ${file}` }]);
  });

  it("rejects labels in a config file that are not an object", async () => {
    const file = await configFile({ labels: "zone=a" });
    const error = await configError(sources({ flags: { config: file } }));
    expect(error.issues).toMatchObject([{ field: "labels", origin: `config file ${file}` }]);
  });

  it("rejects a label without =", async () => {
    const error = await configError(sources({ env: { EDGEKERNEL_LABELS: "zone" } }));
    expect(error.issues).toEqual([
      {
        field: "labels",
        origin: "env EDGEKERNEL_LABELS",
        message: 'expected key=value, got "zone"',
      },
    ]);
  });

  it("accepts the maximum number of labels and rejects one more", async () => {
    const labels = (count: number) => Array.from({ length: count }, (_, index) => `k${index}=v`);
    const max = CONFIG_LIMITS.labelsMax;
    expect(
      Object.keys((await loadConfig(sources({ flags: { labels: labels(max) } }))).labels),
    ).toHaveLength(max);
    const error = await configError(sources({ flags: { labels: labels(max + 1) } }));
    expect(error.issues).toMatchObject([{ field: "labels", message: `at most ${max} labels` }]);
  });

  it("reports a config file that is not JSON, or not an object, under the config field", async () => {
    const notJson = await configFile("{ nope");
    expect((await configError(sources({ flags: { config: notJson } }))).issues).toMatchObject([
      { field: "config", origin: `config file ${notJson}` },
    ]);
    const array = await configFile([1, 2]);
    expect((await configError(sources({ flags: { config: array } }))).issues).toMatchObject([
      { field: "config", message: "expected a JSON object" },
    ]);
  });

  it("reports a missing config file", async () => {
    const error = await configError(sources({ flags: { config: "/nonexistent/host-agent.json" } }));
    expect(error.issues).toMatchObject([
      { field: "config", message: expect.stringMatching(/ENOENT/) },
    ]);
  });
});

describe("deploy and verifier settings", () => {
  it("takes them from flags over env over the file, paths resolved where they were given", async () => {
    const file = await configFile({
      bpffsDir: "bpffs",
      scxAllowListFile: "allow.json",
      deployPollIntervalMs: 500,
      verifierCacheDir: "cache",
      verifyBootTimeoutMs: 60_000,
    });
    const dir = file.slice(0, file.lastIndexOf("/"));
    const config = await loadConfig(
      sources({
        flags: { config: file, deployPollIntervalMs: "250", verifierWorkDir: "scratch" },
        env: { EDGEKERNEL_POLL_INTERVAL_MS: "400", EDGEKERNEL_COMPILE_TIMEOUT_MS: "30000" },
      }),
    );
    expect(config).toMatchObject({
      bpffsDir: join(dir, "bpffs"),
      scxAllowListFile: join(dir, "allow.json"),
      deployPollIntervalMs: 250,
      verifierCacheDir: join(dir, "cache"),
      verifierWorkDir: join(CWD, "scratch"),
      verifyBootTimeoutMs: 60_000,
      verifyCompileTimeoutMs: 30_000,
      verifyRegisterTimeoutMs: CONFIG_DEFAULTS.verifyRegisterTimeoutMs,
    });
  });

  it("accepts the bounds of the poll interval and the verifier timeouts, and names what is past them", async () => {
    const ok = await loadConfig(
      sources({
        flags: {
          deployPollIntervalMs: String(CONFIG_LIMITS.deployPollIntervalMinMs),
          verifyBootTimeoutMs: String(CONFIG_LIMITS.verifyTimeoutMaxMs),
          verifyRegisterTimeoutMs: String(CONFIG_LIMITS.verifyTimeoutMinMs),
        },
      }),
    );
    expect(ok.deployPollIntervalMs).toBe(CONFIG_LIMITS.deployPollIntervalMinMs);
    const error = await configError(
      sources({
        flags: {
          deployPollIntervalMs: String(CONFIG_LIMITS.deployPollIntervalMaxMs + 1),
          verifyBootTimeoutMs: String(CONFIG_LIMITS.verifyTimeoutMinMs - 1),
        },
        env: { EDGEKERNEL_COMPILE_TIMEOUT_MS: "soon" },
      }),
    );
    expect(error.issues.map((i) => [i.field, i.origin])).toEqual(
      expect.arrayContaining([
        ["deployPollIntervalMs", "--poll-interval-ms"],
        ["verifyBootTimeoutMs", "--boot-timeout-ms"],
        ["verifyCompileTimeoutMs", "env EDGEKERNEL_COMPILE_TIMEOUT_MS"],
      ]),
    );
  });
});
