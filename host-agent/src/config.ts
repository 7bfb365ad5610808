import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";

/** What a host-agent does: run workloads under policies, or verify policies in VMs. */
export const ROLES = ["node", "verifier"] as const;

/** Bounds on configuration values, each tested at its edges. */
export const CONFIG_LIMITS = {
  /** Below this, `/proc/stat` deltas are a handful of 10 ms ticks and mostly noise. */
  telemetryIntervalMinMs: 100,
  telemetryIntervalMaxMs: 3_600_000,
  labelsMax: 32,
  labelKeyMaxChars: 63,
  labelValueMaxChars: 63,
  topProcessesMax: 100,
  deployPollIntervalMinMs: 100,
  deployPollIntervalMaxMs: 60_000,
  /** Bounds on each verifier stage timeout (boot, compile, register). */
  verifyTimeoutMinMs: 1_000,
  verifyTimeoutMaxMs: 1_800_000,
} as const;

/** Values used for fields no source sets. */
export const CONFIG_DEFAULTS = {
  labels: {},
  role: "node",
  procRoot: "/proc",
  sysRoot: "/sys",
  stateFile: "/var/lib/edgekernel-host/state.json",
  artifactDir: "/var/lib/edgekernel-host/artifacts",
  telemetryIntervalMs: 5_000,
  topProcesses: 10,
  dryRun: false,
  bpffsDir: "/sys/fs/bpf/edgekernel",
  deployPollIntervalMs: 1_000,
  verifyBootTimeoutMs: 240_000,
  verifyCompileTimeoutMs: 120_000,
  verifyRegisterTimeoutMs: 120_000,
} as const;

const labelKey = z
  .string()
  .max(CONFIG_LIMITS.labelKeyMaxChars)
  .regex(
    /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/,
    "expected letters and digits, with . _ / - only inside",
  );
const labelValue = z
  .string()
  .max(CONFIG_LIMITS.labelValueMaxChars)
  .regex(/^[A-Za-z0-9._/-]*$/, "expected letters, digits, . _ / -");

const verifyTimeout = z
  .int()
  .min(CONFIG_LIMITS.verifyTimeoutMinMs)
  .max(CONFIG_LIMITS.verifyTimeoutMaxMs);

/** The host-agent configuration after merging every source. */
export const HostAgentConfigSchema = z.strictObject({
  /** The control plane's base URL; the WebSocket and enrollment paths hang off it. */
  controlPlaneUrl: z
    .url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" })
    .optional(),
  /** Set after enrollment; until then the control plane assigns one. */
  nodeId: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
      "expected 1-63 letters, digits, . _ - starting with a letter or digit",
    )
    .optional(),
  labels: z
    .record(labelKey, labelValue)
    .refine((labels) => Object.keys(labels).length <= CONFIG_LIMITS.labelsMax, {
      message: `at most ${CONFIG_LIMITS.labelsMax} labels`,
    }),
  role: z.enum(ROLES),
  procRoot: z.string().min(1),
  sysRoot: z.string().min(1),
  /** Where `enroll` keeps the node credential and the pinned public key (mode 0600). */
  stateFile: z.string().min(1),
  /** Where downloaded policy artifacts are written before they are loaded. */
  artifactDir: z.string().min(1),
  telemetryIntervalMs: z
    .int()
    .min(CONFIG_LIMITS.telemetryIntervalMinMs)
    .max(CONFIG_LIMITS.telemetryIntervalMaxMs),
  topProcesses: z.int().min(1).max(CONFIG_LIMITS.topProcessesMax),
  dryRun: z.boolean(),
  /** bpffs directory where BPF schedulers' struct_ops links are pinned. */
  bpffsDir: z.string().min(1),
  /**
   * JSON file listing the operator-installed scx binaries this node may run, with their
   * parameters' bounds (`ScxAllowListSchema`); none when absent.
   */
  scxAllowListFile: z.string().min(1).optional(),
  /** How often the deploy module reads `/sys/kernel/sched_ext/state` while a policy runs. */
  deployPollIntervalMs: z
    .int()
    .min(CONFIG_LIMITS.deployPollIntervalMinMs)
    .max(CONFIG_LIMITS.deployPollIntervalMaxMs),
  /** Verifier: kernels and apt state (default `~/.cache/edgekernel`). */
  verifierCacheDir: z.string().min(1).optional(),
  /** Verifier: parent of each job's scratch directory (default the OS temp dir). */
  verifierWorkDir: z.string().min(1).optional(),
  verifyBootTimeoutMs: verifyTimeout,
  verifyCompileTimeoutMs: verifyTimeout,
  verifyRegisterTimeoutMs: verifyTimeout,
});
export type HostAgentConfig = z.infer<typeof HostAgentConfigSchema>;
type Field = keyof HostAgentConfig;

/** Configuration given as command-line flags, still as the strings the user typed. */
export interface ConfigFlags {
  config?: string | undefined;
  controlPlaneUrl?: string | undefined;
  nodeId?: string | undefined;
  /** Repeated `--label key=value`. */
  labels?: string[] | undefined;
  role?: string | undefined;
  procRoot?: string | undefined;
  sysRoot?: string | undefined;
  stateFile?: string | undefined;
  artifactDir?: string | undefined;
  intervalMs?: string | undefined;
  topProcesses?: string | undefined;
  dryRun?: boolean | undefined;
  bpffsDir?: string | undefined;
  scxAllowListFile?: string | undefined;
  deployPollIntervalMs?: string | undefined;
  verifierCacheDir?: string | undefined;
  verifierWorkDir?: string | undefined;
  verifyBootTimeoutMs?: string | undefined;
  verifyCompileTimeoutMs?: string | undefined;
  verifyRegisterTimeoutMs?: string | undefined;
}

/** Flag and environment variable for each field, in the order `--help` lists them. */
export const CONFIG_SOURCES = {
  controlPlaneUrl: { flag: "--control-plane-url", env: "EDGEKERNEL_CONTROL_PLANE_URL" },
  nodeId: { flag: "--node-id", env: "EDGEKERNEL_NODE_ID" },
  labels: { flag: "--label", env: "EDGEKERNEL_LABELS" },
  role: { flag: "--role", env: "EDGEKERNEL_ROLE" },
  procRoot: { flag: "--proc-root", env: "EDGEKERNEL_PROC_ROOT" },
  sysRoot: { flag: "--sys-root", env: "EDGEKERNEL_SYS_ROOT" },
  stateFile: { flag: "--state-file", env: "EDGEKERNEL_STATE_FILE" },
  artifactDir: { flag: "--artifact-dir", env: "EDGEKERNEL_ARTIFACT_DIR" },
  telemetryIntervalMs: { flag: "--interval-ms", env: "EDGEKERNEL_TELEMETRY_INTERVAL_MS" },
  topProcesses: { flag: "--top", env: "EDGEKERNEL_TOP_PROCESSES" },
  dryRun: { flag: "--dry-run", env: "EDGEKERNEL_DRY_RUN" },
  bpffsDir: { flag: "--bpffs-dir", env: "EDGEKERNEL_BPFFS_DIR" },
  scxAllowListFile: { flag: "--scx-allow-list", env: "EDGEKERNEL_SCX_ALLOW_LIST" },
  deployPollIntervalMs: { flag: "--poll-interval-ms", env: "EDGEKERNEL_POLL_INTERVAL_MS" },
  verifierCacheDir: { flag: "--cache-dir", env: "EDGEKERNEL_CACHE_DIR" },
  verifierWorkDir: { flag: "--work-dir", env: "EDGEKERNEL_WORK_DIR" },
  verifyBootTimeoutMs: { flag: "--boot-timeout-ms", env: "EDGEKERNEL_BOOT_TIMEOUT_MS" },
  verifyCompileTimeoutMs: {
    flag: "--compile-timeout-ms",
    env: "EDGEKERNEL_COMPILE_TIMEOUT_MS",
  },
  verifyRegisterTimeoutMs: {
    flag: "--register-timeout-ms",
    env: "EDGEKERNEL_REGISTER_TIMEOUT_MS",
  },
} as const satisfies Record<Field, { flag: string; env: string }>;

/** Environment variable naming the config file when `--config` is not given. */
export const CONFIG_FILE_ENV = "EDGEKERNEL_CONFIG";

/** One thing wrong with the configuration, naming the field and where its value came from. */
export interface ConfigIssue {
  field: string;
  origin: string;
  message: string;
}

/** The configuration is invalid; `issues` lists every problem, the message says them all. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(readonly issues: ConfigIssue[]) {
    super(
      `invalid configuration:\n${issues
        .map((issue) => `  ${issue.field} (from ${issue.origin}): ${issue.message}`)
        .join("\n")}`,
    );
  }
}

/** Where to read configuration from. */
export interface ConfigSources {
  flags: ConfigFlags;
  env: Readonly<Record<string, string | undefined>>;
  /** Relative roots given as flags or env resolve against this. */
  cwd: string;
}

/**
 * Raw values from one source, each with a description of where it came from. Keyed by string,
 * not by field: a config file may hold unknown keys, which the schema then reports.
 */
type Layer = Record<string, { value: unknown; origin: string }>;

const FIELDS = Object.keys(CONFIG_SOURCES) as Field[];

/**
 * Loads the configuration: defaults, then the JSON file (`--config` or `EDGEKERNEL_CONFIG`),
 * then environment variables, then flags, each overriding the one before. Labels merge key by
 * key in the same order. Relative paths (roots, state file, artifact directory) resolve against
 * the config file's directory when they come from the file, else against `cwd`.
 *
 * @throws {ConfigError} naming each invalid field and its source.
 * @example
 * const config = await loadConfig({ flags: { procRoot: "fixtures/proc" }, env: process.env, cwd: process.cwd() });
 */
export async function loadConfig(sources: ConfigSources): Promise<HostAgentConfig> {
  const fileFromEnv = sources.env[CONFIG_FILE_ENV];
  const filePath = sources.flags.config ?? (fileFromEnv === "" ? undefined : fileFromEnv);
  const layers: Layer[] = [];
  const issues: ConfigIssue[] = [];
  if (filePath !== undefined) {
    layers.push(await fileLayer(resolve(sources.cwd, filePath), issues));
  }
  layers.push(envLayer(sources.env, sources.cwd, issues));
  layers.push(flagLayer(sources.flags, sources.cwd, issues));
  if (issues.length > 0) throw new ConfigError(issues);

  const merged: Record<string, unknown> = { ...CONFIG_DEFAULTS };
  // Origins by field, and by `labels.<key>` since labels from several sources merge.
  const origins = new Map<string, string>();
  for (const layer of layers) {
    for (const [field, { value, origin }] of Object.entries(layer)) {
      if (field === "labels" && isRecord(value) && isRecord(merged.labels)) {
        merged.labels = { ...merged.labels, ...value };
        for (const key of Object.keys(value)) origins.set(`labels.${key}`, origin);
      } else {
        merged[field] = value;
      }
      origins.set(field, origin);
    }
  }

  const result = HostAgentConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.flatMap((issue) => {
      const field = issue.path[0];
      if (issue.code === "unrecognized_keys") {
        return issue.keys.map((key) => ({
          field: key,
          origin: origins.get(key) ?? "config file",
          message: "unknown field",
        }));
      }
      const name = typeof field === "string" ? field : "(root)";
      const path = issue.path.slice(1).map(String);
      // A bad record key (a label name) carries the key's own complaint one level down.
      const message =
        issue.code === "invalid_key" ? (issue.issues[0]?.message ?? issue.message) : issue.message;
      const fieldPath = [name, ...path].join(".");
      return [
        {
          field: fieldPath,
          origin: origins.get(fieldPath) ?? origins.get(name) ?? "defaults",
          message,
        },
      ];
    }),
  );
}

async function fileLayer(path: string, issues: ConfigIssue[]): Promise<Layer> {
  const origin = `config file ${path}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    issues.push({ field: "config", origin, message: errorMessage(error) });
    return {};
  }
  if (!isRecord(parsed)) {
    issues.push({ field: "config", origin, message: "expected a JSON object" });
    return {};
  }
  const layer: Layer = {};
  for (const [field, value] of Object.entries(parsed)) {
    // Paths in a file are relative to the file, so a config and its fixture tree can move together.
    const resolved =
      isPathField(field) && typeof value === "string" && value !== ""
        ? resolve(dirname(path), value)
        : value;
    layer[field] = { value: resolved, origin };
  }
  return layer;
}

function envLayer(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  issues: ConfigIssue[],
): Layer {
  const layer: Layer = {};
  for (const field of FIELDS) {
    const name = CONFIG_SOURCES[field].env;
    const raw = env[name];
    // An empty variable is treated as unset, as shells make `VAR=` easy to leave behind.
    if (raw === undefined || raw === "") continue;
    const origin = `env ${name}`;
    const value = convert(field, raw, cwd, (message) => issues.push({ field, origin, message }));
    layer[field] = { value, origin };
  }
  return layer;
}

function flagLayer(flags: ConfigFlags, cwd: string, issues: ConfigIssue[]): Layer {
  const layer: Layer = {};
  const raw: Partial<Record<Field, string | string[] | boolean | undefined>> = {
    controlPlaneUrl: flags.controlPlaneUrl,
    nodeId: flags.nodeId,
    labels: flags.labels,
    role: flags.role,
    procRoot: flags.procRoot,
    sysRoot: flags.sysRoot,
    stateFile: flags.stateFile,
    artifactDir: flags.artifactDir,
    telemetryIntervalMs: flags.intervalMs,
    topProcesses: flags.topProcesses,
    dryRun: flags.dryRun,
    bpffsDir: flags.bpffsDir,
    scxAllowListFile: flags.scxAllowListFile,
    deployPollIntervalMs: flags.deployPollIntervalMs,
    verifierCacheDir: flags.verifierCacheDir,
    verifierWorkDir: flags.verifierWorkDir,
    verifyBootTimeoutMs: flags.verifyBootTimeoutMs,
    verifyCompileTimeoutMs: flags.verifyCompileTimeoutMs,
    verifyRegisterTimeoutMs: flags.verifyRegisterTimeoutMs,
  };
  for (const field of FIELDS) {
    const value = raw[field];
    if (value === undefined) continue;
    const origin = CONFIG_SOURCES[field].flag;
    const report = (message: string) => issues.push({ field, origin, message });
    layer[field] = {
      value:
        typeof value === "boolean"
          ? value
          : Array.isArray(value)
            ? parseLabels(value, report)
            : convert(field, value, cwd, report),
      origin,
    };
  }
  return layer;
}

/**
 * Turns a string from a flag or the environment into the type its field needs. A string that
 * does not convert is passed through unchanged, so the schema reports it with the field name.
 */
function convert(
  field: Field,
  raw: string,
  cwd: string,
  report: (message: string) => void,
): unknown {
  switch (field) {
    case "telemetryIntervalMs":
    case "topProcesses":
    case "deployPollIntervalMs":
    case "verifyBootTimeoutMs":
    case "verifyCompileTimeoutMs":
    case "verifyRegisterTimeoutMs":
      // Decimals convert too, so "1.5" is reported as "expected an integer", not as a string.
      return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    case "dryRun":
      return parseBoolean(raw);
    case "labels":
      return parseLabels(raw.split(","), report);
    case "procRoot":
    case "sysRoot":
    case "stateFile":
    case "artifactDir":
    case "bpffsDir":
    case "scxAllowListFile":
    case "verifierCacheDir":
    case "verifierWorkDir":
      return resolve(cwd, raw);
    default:
      return raw;
  }
}

/** Fields holding paths, which resolve against where they were given. */
function isPathField(field: string): boolean {
  return PATH_FIELDS.has(field);
}

const PATH_FIELDS: ReadonlySet<string> = new Set([
  "procRoot",
  "sysRoot",
  "stateFile",
  "artifactDir",
  "bpffsDir",
  "scxAllowListFile",
  "verifierCacheDir",
  "verifierWorkDir",
]);

function parseBoolean(raw: string): boolean | string {
  const value = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  return raw;
}

function parseLabels(pairs: string[], report: (message: string) => void): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const trimmed = pair.trim();
    if (trimmed === "") continue;
    const separator = trimmed.indexOf("=");
    if (separator <= 0) {
      report(`expected key=value, got ${JSON.stringify(trimmed)}`);
      continue;
    }
    labels[trimmed.slice(0, separator)] = trimmed.slice(separator + 1);
  }
  return labels;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
