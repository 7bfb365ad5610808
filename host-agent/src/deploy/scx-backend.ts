import { z } from "zod";
import type { Parameters } from "../protocol.js";
import type { Backend, CheckOutcome, LoadedHandle, LoadOutcome, UnloadOutcome } from "./backend.js";
import { readSchedExtStatus, type SettleOptions, waitForSchedExt } from "./sched-ext.js";
import type { Deployable, Executor } from "./types.js";

/*
 * An scx scheduler binary the node's operator installed (scx_rusty, scx_lavd, …), run as a
 * child process: it loads its BPF part itself and unloads it when it exits. The operator's
 * allow-list names which binaries may run, where they are, and which parameters become which
 * flags within which bounds; nothing outside it is ever started.
 */

const FlagSchema = z
  .string()
  .regex(/^--?[A-Za-z0-9][A-Za-z0-9-]{0,62}$/, "expected a flag like --slice-us");

/** One parameter an scx binary accepts, and the flag that carries it. */
export const ScxParameterSpecSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("int"),
    flag: FlagSchema,
    min: z.int(),
    max: z.int(),
  }),
  /** A switch: `true` passes the flag, `false` leaves it out. */
  z.strictObject({ type: z.literal("bool"), flag: FlagSchema }),
]);
export type ScxParameterSpec = z.infer<typeof ScxParameterSpecSchema>;

/** One allowed binary. */
export const ScxBinarySpecSchema = z.strictObject({
  /** Absolute path of the installed binary. */
  path: z.string().regex(/^\/[^\0]*$/, "expected an absolute path"),
  /** The prefix of `root/ops` while it runs (scx binaries name their ops), if known. */
  opsPrefix: z
    .string()
    .regex(/^[a-z0-9_]{1,31}$/)
    .optional(),
  parameters: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/), ScxParameterSpecSchema),
  /** Fixed arguments passed before the parameters' flags. */
  args: z.array(z.string().max(256)).max(16).optional(),
});
export type ScxBinarySpec = z.infer<typeof ScxBinarySpecSchema>;

/** The node's allow-list: binary name (`scx_…`) → spec. */
export const ScxAllowListSchema = z.record(
  z.string().regex(/^scx_[a-z0-9_]{1,60}$/),
  ScxBinarySpecSchema,
);
export type ScxAllowList = z.infer<typeof ScxAllowListSchema>;

/** How long an scx binary may take to enable its scheduler. */
export const DEFAULT_SCX_START_TIMEOUT_MS = 30_000;
/** How long each of SIGINT and SIGTERM is given before the next signal. */
export const DEFAULT_SCX_STOP_GRACE_MS = 5_000;

/**
 * The argv that runs `binary` with `parameters`, or why it may not run.
 *
 * @example
 * scxArgv({ scx_rusty: { path: "/usr/bin/scx_rusty", parameters: { slice_us: { type: "int", flag: "--slice-us", min: 1000, max: 100000 } } } }, "scx_rusty", { slice_us: 20000 })
 * // { ok: true, argv: ["/usr/bin/scx_rusty", "--slice-us", "20000"] }
 */
export function scxArgv(
  allowList: ScxAllowList,
  binary: string,
  parameters: Parameters,
): { ok: true; argv: string[] } | { ok: false; reason: string } {
  const spec = Object.hasOwn(allowList, binary) ? allowList[binary] : undefined;
  if (spec === undefined)
    return { ok: false, reason: `${binary} is not in this node's allow-list` };
  const argv = [spec.path, ...(spec.args ?? [])];
  for (const name of Object.keys(parameters).sort()) {
    const value = parameters[name];
    const param = Object.hasOwn(spec.parameters, name) ? spec.parameters[name] : undefined;
    if (param === undefined) return { ok: false, reason: `${binary} takes no parameter ${name}` };
    if (param.type === "bool") {
      if (typeof value !== "boolean") return { ok: false, reason: `${name} must be a boolean` };
      if (value) argv.push(param.flag);
      continue;
    }
    if (typeof value !== "number" || !Number.isInteger(value)) {
      return { ok: false, reason: `${name} must be an integer` };
    }
    if (value < param.min || value > param.max) {
      return { ok: false, reason: `${name}=${value} is outside ${param.min}..${param.max}` };
    }
    argv.push(param.flag, String(value));
  }
  return { ok: true, argv };
}

export interface ScxBackendOptions {
  executor: Executor;
  sysRoot: string;
  allowList: ScxAllowList;
  startTimeoutMs: number;
  stopGraceMs: number;
  settle: SettleOptions;
}

function opsMatches(ops: string | null, prefix: string | undefined): boolean {
  return prefix === undefined || ops?.startsWith(prefix) === true;
}

/** The scx-binary backend. */
export function createScxBackend(options: ScxBackendOptions): Backend {
  const { executor, sysRoot } = options;

  async function stop(handle: LoadedHandle): Promise<boolean> {
    const child = handle.process;
    if (child === null || child.hasExited()) return true;
    // scx binaries unload cleanly on SIGINT (their Ctrl-C path); SIGTERM, then SIGKILL, if not.
    for (const signal of ["SIGINT", "SIGTERM", "SIGKILL"] as const) {
      child.kill(signal);
      const exited = await Promise.race([
        child.exited.then(() => true),
        options.settle.sleep(options.stopGraceMs).then(() => child.hasExited()),
      ]);
      if (exited) return true;
    }
    return child.hasExited();
  }

  return {
    async load(deployable: Deployable, _artifactPath: string | null): Promise<LoadOutcome> {
      if (deployable.artifact.kind !== "scx-binary") {
        return { ok: false, reason: "not an scx binary", log: null };
      }
      if (executor.spawn === undefined) {
        return {
          ok: false,
          reason: `the ${executor.name} executor cannot run scx binaries`,
          log: null,
        };
      }
      const binary = deployable.artifact.binary;
      const planned = scxArgv(options.allowList, binary, deployable.payload.parameters);
      if (!planned.ok) return { ok: false, reason: planned.reason, log: null };
      const prefix = options.allowList[binary]?.opsPrefix;
      const before = await readSchedExtStatus(executor, sysRoot);
      if (!before.supported)
        return { ok: false, reason: "this kernel has no sched_ext", log: null };
      if (before.state !== "disabled") {
        return {
          ok: false,
          reason: `another sched_ext scheduler is loaded (ops ${before.ops ?? "unknown"})`,
          log: null,
        };
      }
      const child = executor.spawn(planned.argv);
      const handle: LoadedHandle = {
        assignmentId: deployable.assignmentId,
        opsName: prefix ?? null,
        linkDir: null,
        process: child,
        command: planned.argv,
      };
      const settled = await waitForSchedExt(
        executor,
        sysRoot,
        (status) =>
          child.hasExited() || (status.state === "enabled" && opsMatches(status.ops, prefix)),
        { ...options.settle, timeoutMs: options.startTimeoutMs },
      );
      if (!child.hasExited() && settled.accepted) {
        return { ok: true, handle: { ...handle, opsName: settled.status.ops }, log: null };
      }
      await stop(handle);
      const result = await child.exited;
      return {
        ok: false,
        reason: child.hasExited()
          ? `${binary} exited (code ${result.code}) before its scheduler was enabled`
          : `${binary} did not enable a scheduler within ${options.startTimeoutMs} ms`,
        log: `${result.stdout}${result.stderr}`,
      };
    },

    async unload(handle: LoadedHandle): Promise<UnloadOutcome> {
      const stopped = await stop(handle);
      if (!stopped) return { ok: false, reason: "the scx process did not exit", log: null };
      const settled = await waitForSchedExt(
        executor,
        sysRoot,
        (status) => status.state === "disabled",
        options.settle,
      );
      return settled.accepted
        ? { ok: true }
        : { ok: false, reason: `sched_ext still ${settled.status.state}`, log: null };
    },

    async check(handle: LoadedHandle): Promise<CheckOutcome> {
      const child = handle.process;
      if (child?.hasExited()) {
        const result = await child.exited;
        return {
          running: false,
          reason: `${handle.command[0] ?? "scx binary"} exited (code ${result.code})`,
          log: `${result.stdout}${result.stderr}`.slice(-8_192),
        };
      }
      const status = await readSchedExtStatus(executor, sysRoot);
      if (
        status.state === "enabled" &&
        (handle.opsName === null || status.ops === handle.opsName)
      ) {
        return { running: true };
      }
      return {
        running: false,
        reason: `sched_ext is ${status.state ?? "unreadable"} while the scx process runs`,
        log: null,
      };
    },

    async cleanup(handle: LoadedHandle): Promise<void> {
      await stop(handle);
    },
  };
}
