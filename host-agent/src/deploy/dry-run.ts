import { posix } from "node:path";
import type { Backend, CheckOutcome, LoadedHandle, LoadOutcome, UnloadOutcome } from "./backend.js";
import { bpfLoadCommands, bpfUnloadCommand } from "./bpf-backend.js";
import { type ScxAllowList, scxArgv } from "./scx-backend.js";
import type { Deployable } from "./types.js";

/*
 * Dry-run: says exactly which commands the real backends would run, runs none, and keeps the
 * state they would leave, so the deployer reports the same transitions as if it had loaded.
 * What the real path would refuse without touching the kernel (an scx binary outside the
 * allow-list, a BPF object without a path) is refused here too.
 */

export interface DryRunBackendOptions {
  sysRoot: string;
  bpffsDir: string;
  allowList: ScxAllowList;
  /** Receives one line per command it would run. */
  log: (line: string) => void;
}

const quote = (argv: readonly string[]) =>
  argv.map((arg) => (/^[A-Za-z0-9_./=:+-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(" ");

/** The dry-run backend. */
export function createDryRunBackend(options: DryRunBackendOptions): Backend {
  const state = posix.join(options.sysRoot, "kernel/sched_ext/state");
  return {
    async load(deployable: Deployable, artifactPath: string | null): Promise<LoadOutcome> {
      const artifact = deployable.artifact;
      if (artifact.kind === "bpf-object") {
        if (artifactPath === null) {
          return { ok: false, reason: "no artifact path for the BPF object", log: null };
        }
        const commands = bpfLoadCommands(options.bpffsDir, deployable.assignmentId, artifactPath);
        for (const argv of commands) options.log(`[dry-run] would run: ${quote(argv)}`);
        options.log(`[dry-run] would wait for ${state} = enabled, root/ops = ${artifact.opsName}`);
        return {
          ok: true,
          handle: {
            assignmentId: deployable.assignmentId,
            opsName: artifact.opsName,
            linkDir: posix.join(options.bpffsDir, deployable.assignmentId),
            process: null,
            command: commands.at(-1) ?? [],
          },
          log: null,
        };
      }
      const planned = scxArgv(options.allowList, artifact.binary, deployable.payload.parameters);
      if (!planned.ok) return { ok: false, reason: planned.reason, log: null };
      options.log(`[dry-run] would start: ${quote(planned.argv)}`);
      options.log(`[dry-run] would wait for ${state} = enabled`);
      return {
        ok: true,
        handle: {
          assignmentId: deployable.assignmentId,
          opsName: options.allowList[artifact.binary]?.opsPrefix ?? null,
          linkDir: null,
          process: null,
          command: planned.argv,
        },
        log: null,
      };
    },

    async unload(handle: LoadedHandle): Promise<UnloadOutcome> {
      if (handle.linkDir !== null) {
        options.log(`[dry-run] would run: ${quote(bpfUnloadCommand(handle.linkDir))}`);
      } else {
        options.log(`[dry-run] would stop ${handle.command[0]} (SIGINT, then SIGTERM)`);
      }
      options.log(`[dry-run] would wait for ${state} = disabled`);
      return { ok: true };
    },

    async check(_handle: LoadedHandle): Promise<CheckOutcome> {
      return { running: true };
    },

    async cleanup(_handle: LoadedHandle): Promise<void> {},
  };
}
