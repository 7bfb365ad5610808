import { parseArgs } from "node:util";
import {
  CONFIG_DEFAULTS,
  CONFIG_FILE_ENV,
  CONFIG_LIMITS,
  CONFIG_SOURCES,
  ConfigError,
  type HostAgentConfig,
  loadConfig,
} from "./config.js";
import { readNodeFacts } from "./facts.js";
import { collectTelemetry, type TelemetryTiming } from "./telemetry.js";

/** Process exit codes of `edgekernel-host`. */
export const EXIT = {
  ok: 0,
  /** Something failed that is not the caller's fault. */
  failure: 1,
  /** Bad command line or configuration, or a command that does not exist yet. */
  usage: 2,
} as const;

/** The process environment `runCli` works in; tests pass their own. */
export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  timing?: TelemetryTiming;
}

const COMMANDS = ["facts", "telemetry", "run"] as const;
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
} as const;

/** The `--help` text. */
export const USAGE = `edgekernel-host: edgekernel's Linux node agent

Usage:
  edgekernel-host facts [options]      print this node's facts as JSON
  edgekernel-host telemetry [options]  sample for the interval, print telemetry as JSON
  edgekernel-host run [options]        connect to the control plane (not implemented yet)
  edgekernel-host --help

Options (a flag overrides its environment variable, which overrides the config file):
  --config FILE             JSON config file                      ${CONFIG_FILE_ENV}
  --control-plane-url URL   control plane base URL (http/https)   ${CONFIG_SOURCES.controlPlaneUrl.env}
  --node-id ID              this node's id                        ${CONFIG_SOURCES.nodeId.env}
  --label KEY=VALUE         a node label, repeatable              ${CONFIG_SOURCES.labels.env} (k=v,k=v)
  --role node|verifier      default ${CONFIG_DEFAULTS.role}                          ${CONFIG_SOURCES.role.env}
  --proc-root DIR           default ${CONFIG_DEFAULTS.procRoot}                         ${CONFIG_SOURCES.procRoot.env}
  --sys-root DIR            default ${CONFIG_DEFAULTS.sysRoot}                          ${CONFIG_SOURCES.sysRoot.env}
  --interval-ms N           telemetry interval, ${CONFIG_LIMITS.telemetryIntervalMinMs}-${CONFIG_LIMITS.telemetryIntervalMaxMs}, default ${CONFIG_DEFAULTS.telemetryIntervalMs}
                                                                  ${CONFIG_SOURCES.telemetryIntervalMs.env}
  --top N                   processes listed, 1-${CONFIG_LIMITS.topProcessesMax}, default ${CONFIG_DEFAULTS.topProcesses}    ${CONFIG_SOURCES.topProcesses.env}
  --dry-run                 print actions instead of taking them  ${CONFIG_SOURCES.dryRun.env}
  -h, --help                show this text

Exit status: 0 success, 1 failure, 2 bad usage or configuration (and \`run\`, for now).
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
        intervalMs: values["interval-ms"],
        topProcesses: values.top,
        dryRun: values["dry-run"],
      },
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    context.stderr(`edgekernel-host: ${error.message}\n`);
    return EXIT.usage;
  }

  try {
    return await runCommand(command, config, context);
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
    case "run":
      // Deliberately not faked: connecting, enrolling and deploying arrive with the fleet protocol.
      context.stderr(
        "edgekernel-host: run is not implemented yet (fleet connection comes later)\n",
      );
      return EXIT.usage;
  }
}

function usageError(context: CliContext, message: string): number {
  context.stderr(`edgekernel-host: ${message}\nRun edgekernel-host --help for usage.\n`);
  return EXIT.usage;
}
