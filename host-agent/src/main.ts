import { parseArgs } from "node:util";
import { runAgent } from "./agent/runtime.js";
import {
  CONFIG_DEFAULTS,
  CONFIG_FILE_ENV,
  CONFIG_LIMITS,
  CONFIG_SOURCES,
  ConfigError,
  type HostAgentConfig,
  loadConfig,
} from "./config.js";
import { EnrollError, enroll, enrollRequest } from "./enroll.js";
import { readNodeFacts } from "./facts.js";
import { readNodeState, StateFileError, stateFileMode } from "./state.js";
import { collectTelemetry, type TelemetryTiming } from "./telemetry.js";
import { AGENT_VERSION } from "./version.js";

/** Process exit codes of `edgekernel-host`. */
export const EXIT = {
  ok: 0,
  /** Something failed: enrollment refused, the credential revoked, an unexpected fault. */
  failure: 1,
  /** Bad command line or configuration (including `run` before `enroll`). */
  usage: 2,
} as const;

/** Environment variable that may carry the enrollment token instead of `--token`. */
export const TOKEN_ENV = "EDGEKERNEL_ENROLLMENT_TOKEN";

/** The process environment `runCli` works in; tests pass their own. */
export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  timing?: TelemetryTiming;
  /** Aborting it stops `run` (the bin wires SIGINT and SIGTERM to it). */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

const COMMANDS = ["facts", "telemetry", "enroll", "run"] as const;
type Command = (typeof COMMANDS)[number];

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  config: { type: "string" },
  "control-plane-url": { type: "string" },
  "node-id": { type: "string" },
  label: { type: "string", multiple: true },
  role: { type: "string" },
  "proc-root": { type: "string" },
  "sys-root": { type: "string" },
  "interval-ms": { type: "string" },
  top: { type: "string" },
  "dry-run": { type: "boolean" },
  "state-file": { type: "string" },
  "artifact-dir": { type: "string" },
  token: { type: "string" },
  force: { type: "boolean" },
  "bpffs-dir": { type: "string" },
  "scx-allow-list": { type: "string" },
  "poll-interval-ms": { type: "string" },
  "cache-dir": { type: "string" },
  "work-dir": { type: "string" },
  "boot-timeout-ms": { type: "string" },
  "compile-timeout-ms": { type: "string" },
  "register-timeout-ms": { type: "string" },
} as const;

/** The `--help` text. */
export const USAGE = `edgekernel-host: edgekernel's Linux node agent

Usage:
  edgekernel-host facts [options]      print this node's facts as JSON
  edgekernel-host telemetry [options]  sample for the interval, print telemetry as JSON
  edgekernel-host enroll --token T --control-plane-url URL [options]
                                       enroll this node; keeps the credential in the state file
  edgekernel-host run [options]        connect to the control plane and stay connected
  edgekernel-host --help

Options (a flag overrides its environment variable, which overrides the config file):
  --config FILE             JSON config file                      ${CONFIG_FILE_ENV}
  --control-plane-url URL   control plane base URL (http/https)   ${CONFIG_SOURCES.controlPlaneUrl.env}
  --node-id ID              the node id to ask for at enrollment  ${CONFIG_SOURCES.nodeId.env}
  --label KEY=VALUE         a node label, repeatable              ${CONFIG_SOURCES.labels.env} (k=v,k=v)
  --role node|verifier      default ${CONFIG_DEFAULTS.role}                          ${CONFIG_SOURCES.role.env}
  --proc-root DIR           default ${CONFIG_DEFAULTS.procRoot}                         ${CONFIG_SOURCES.procRoot.env}
  --sys-root DIR            default ${CONFIG_DEFAULTS.sysRoot}                          ${CONFIG_SOURCES.sysRoot.env}
  --state-file FILE         default ${CONFIG_DEFAULTS.stateFile}
                                                                  ${CONFIG_SOURCES.stateFile.env}
  --artifact-dir DIR        default ${CONFIG_DEFAULTS.artifactDir}
                                                                  ${CONFIG_SOURCES.artifactDir.env}
  --interval-ms N           telemetry interval, ${CONFIG_LIMITS.telemetryIntervalMinMs}-${CONFIG_LIMITS.telemetryIntervalMaxMs}, default ${CONFIG_DEFAULTS.telemetryIntervalMs}
                            (run: until the control plane's welcome sets it)
                                                                  ${CONFIG_SOURCES.telemetryIntervalMs.env}
  --top N                   processes listed, 1-${CONFIG_LIMITS.topProcessesMax}, default ${CONFIG_DEFAULTS.topProcesses}    ${CONFIG_SOURCES.topProcesses.env}
  --dry-run                 print actions instead of taking them  ${CONFIG_SOURCES.dryRun.env}
  --bpffs-dir DIR           where scheduler links are pinned, default ${CONFIG_DEFAULTS.bpffsDir}
                                                                  ${CONFIG_SOURCES.bpffsDir.env}
  --scx-allow-list FILE     JSON: scx binaries this node may run  ${CONFIG_SOURCES.scxAllowListFile.env}
  --poll-interval-ms N      sched_ext watch, ${CONFIG_LIMITS.deployPollIntervalMinMs}-${CONFIG_LIMITS.deployPollIntervalMaxMs}, default ${CONFIG_DEFAULTS.deployPollIntervalMs}
                                                                  ${CONFIG_SOURCES.deployPollIntervalMs.env}
  --cache-dir DIR           verifier: kernels, apt state (~/.cache/edgekernel)
                                                                  ${CONFIG_SOURCES.verifierCacheDir.env}
  --work-dir DIR            verifier: scratch directories (OS temp dir)
                                                                  ${CONFIG_SOURCES.verifierWorkDir.env}
  --boot-timeout-ms N       verifier: VM boot, default ${CONFIG_DEFAULTS.verifyBootTimeoutMs}
                                                                  ${CONFIG_SOURCES.verifyBootTimeoutMs.env}
  --compile-timeout-ms N    verifier: clang, default ${CONFIG_DEFAULTS.verifyCompileTimeoutMs}
                                                                  ${CONFIG_SOURCES.verifyCompileTimeoutMs.env}
  --register-timeout-ms N   verifier: bpftool register, default ${CONFIG_DEFAULTS.verifyRegisterTimeoutMs}
                                                                  ${CONFIG_SOURCES.verifyRegisterTimeoutMs.env}
  --token TOKEN             enroll: the one-time enrollment token ${TOKEN_ENV}
  --force                   enroll: replace an existing enrollment
  -h, --help                show this text

Exit status: 0 success, 1 failure (enrollment refused, credential revoked), 2 bad usage or
configuration (run before enroll, too).
`;

/**
 * Runs the `edgekernel-host` command line and returns the exit code. Output goes through the
 * context, so tests run it in-process against fixture trees.
 *
 * @example
 * const code = await runCli(["facts", "--proc-root", "/proc"], {
 *   env: process.env, cwd: process.cwd(),
 *   stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text),
 * });
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return usageError(context, error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    context.stdout(USAGE);
    return EXIT.ok;
  }
  const [name, ...extra] = positionals;
  if (name === undefined) return usageError(context, "no command given");
  const command = COMMANDS.find((known) => known === name);
  if (command === undefined) return usageError(context, `unknown command ${JSON.stringify(name)}`);
  if (extra.length > 0)
    return usageError(context, `unexpected argument ${JSON.stringify(extra[0])}`);

  let config: HostAgentConfig;
  try {
    config = await loadConfig({
      env: context.env,
      cwd: context.cwd,
      flags: {
        config: values.config,
        controlPlaneUrl: values["control-plane-url"],
        nodeId: values["node-id"],
        labels: values.label,
        role: values.role,
        procRoot: values["proc-root"],
        sysRoot: values["sys-root"],
        stateFile: values["state-file"],
        artifactDir: values["artifact-dir"],
        intervalMs: values["interval-ms"],
        topProcesses: values.top,
        dryRun: values["dry-run"],
        bpffsDir: values["bpffs-dir"],
        scxAllowListFile: values["scx-allow-list"],
        deployPollIntervalMs: values["poll-interval-ms"],
        verifierCacheDir: values["cache-dir"],
        verifierWorkDir: values["work-dir"],
        verifyBootTimeoutMs: values["boot-timeout-ms"],
        verifyCompileTimeoutMs: values["compile-timeout-ms"],
        verifyRegisterTimeoutMs: values["register-timeout-ms"],
      },
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    context.stderr(`edgekernel-host: ${error.message}\n`);
    return EXIT.usage;
  }

  const extras = {
    token: values.token ?? nonEmpty(context.env[TOKEN_ENV]),
    force: values.force ?? false,
  };
  try {
    return await runCommand(command, config, context, extras);
  } catch (error) {
    context.stderr(
      `edgekernel-host: ${command} failed: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    return EXIT.failure;
  }
}

async function runCommand(
  command: Command,
  config: HostAgentConfig,
  context: CliContext,
  extras: { token: string | undefined; force: boolean },
): Promise<number> {
  switch (command) {
    case "facts": {
      const facts = await readNodeFacts(config);
      context.stdout(`${JSON.stringify(facts, null, 2)}\n`);
      return EXIT.ok;
    }
    case "telemetry": {
      const report = await collectTelemetry({
        procRoot: config.procRoot,
        sysRoot: config.sysRoot,
        intervalMs: config.telemetryIntervalMs,
        topProcessCount: config.topProcesses,
        ...(context.timing ? { timing: context.timing } : {}),
      });
      context.stdout(`${JSON.stringify(report, null, 2)}\n`);
      return EXIT.ok;
    }
    case "enroll":
      return enrollCommand(config, context, extras);
    case "run":
      return runCommandLoop(config, context);
  }
}

async function enrollCommand(
  config: HostAgentConfig,
  context: CliContext,
  extras: { token: string | undefined; force: boolean },
): Promise<number> {
  if (!extras.token) return usageError(context, `enroll needs --token (or ${TOKEN_ENV})`);
  if (!config.controlPlaneUrl) {
    return usageError(
      context,
      `enroll needs --control-plane-url (or ${CONFIG_SOURCES.controlPlaneUrl.env})`,
    );
  }
  const facts = await readNodeFacts(config);
  try {
    const state = await enroll({
      controlPlaneUrl: config.controlPlaneUrl,
      token: extras.token,
      stateFile: config.stateFile,
      force: extras.force,
      request: enrollRequest({
        nodeId: config.nodeId,
        role: config.role,
        labels: config.labels,
        facts,
        agentVersion: AGENT_VERSION,
      }),
      ...(context.fetch ? { fetch: context.fetch } : {}),
    });
    context.stdout(
      `${JSON.stringify({ nodeId: state.nodeId, tenantId: state.tenantId, role: state.role, keyId: state.keyId, stateFile: config.stateFile }, null, 2)}\n`,
    );
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof EnrollError || error instanceof StateFileError)) throw error;
    context.stderr(`edgekernel-host: ${error.message}\n`);
    return EXIT.failure;
  }
}

async function runCommandLoop(config: HostAgentConfig, context: CliContext): Promise<number> {
  let state: Awaited<ReturnType<typeof readNodeState>>;
  try {
    state = await readNodeState(config.stateFile);
  } catch (error) {
    if (!(error instanceof StateFileError)) throw error;
    context.stderr(`edgekernel-host: ${error.message}\n`);
    return EXIT.usage;
  }
  if (!state) {
    return usageError(
      context,
      `not enrolled: no state file at ${config.stateFile}; run edgekernel-host enroll first`,
    );
  }
  if (state.role !== config.role) {
    return usageError(
      context,
      `this node enrolled as ${state.role}, but the configuration says role ${config.role}`,
    );
  }
  const log = (line: string) => context.stderr(`${new Date().toISOString()} ${line}\n`);
  if (((await stateFileMode(config.stateFile)) & 0o077) !== 0) {
    log(`warning: ${config.stateFile} is readable by others; chmod 600 it`);
  }
  const end = await runAgent({
    config,
    state,
    print: (line) => context.stdout(`${line}\n`),
    log,
    signal: context.signal ?? new AbortController().signal,
    ...(context.fetch ? { fetch: context.fetch } : {}),
  });
  if (end === "stopped") return EXIT.ok;
  context.stderr(
    end === "revoked"
      ? "edgekernel-host: the control plane revoked this node's credential; enroll again\n"
      : "edgekernel-host: the control plane refused this node (role)\n",
  );
  return EXIT.failure;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function usageError(context: CliContext, message: string): number {
  context.stderr(`edgekernel-host: ${message}\nRun edgekernel-host --help for usage.\n`);
  return EXIT.usage;
}
