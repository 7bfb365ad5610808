import { posix } from "node:path";
import type { Backend, CheckOutcome, LoadedHandle, LoadOutcome, UnloadOutcome } from "./backend.js";
import {
  ejectionReasonFrom,
  readSchedExtKernelLog,
  readSchedExtStatus,
  type SettleOptions,
  waitForSchedExt,
} from "./sched-ext.js";
import type { Deployable, Executor } from "./types.js";

/*
 * A BPF object registered with `bpftool struct_ops register OBJ LINK_DIR`: the link is pinned
 * in bpffs, so the scheduler outlives bpftool, and removing the pinned directory unloads it
 * (`bpftool struct_ops unregister` fails for a link-pinned scheduler). The kernel's
 * `/sys/kernel/sched_ext/{state,root/ops}` confirm each step.
 */

/** Where pinned links go when the options do not say. */
export const DEFAULT_BPFFS_DIR = "/sys/fs/bpf/edgekernel";
/** Bounds `bpftool struct_ops register`; the kernel verifier runs inside it (slow under TCG). */
export const DEFAULT_REGISTER_TIMEOUT_MS = 120_000;

export interface BpfBackendOptions {
  executor: Executor;
  sysRoot: string;
  bpffsDir: string;
  registerTimeoutMs: number;
  settle: SettleOptions;
}

/**
 * The commands that load a BPF object: create the bpffs directory, clear a stale link of the
 * same assignment, register. Shared with dry-run, which prints them instead.
 *
 * @example
 * bpfLoadCommands("/sys/fs/bpf/edgekernel", "asg_1", "/var/lib/edgekernel/a.bpf.o")
 */
export function bpfLoadCommands(
  bpffsDir: string,
  assignmentId: string,
  artifactPath: string,
): string[][] {
  const linkDir = posix.join(bpffsDir, assignmentId);
  return [
    ["mkdir", "-p", bpffsDir],
    ["rm", "-rf", linkDir],
    ["bpftool", "struct_ops", "register", artifactPath, linkDir],
  ];
}

/** The command that unloads a link-pinned scheduler. */
export function bpfUnloadCommand(linkDir: string): string[] {
  return ["rm", "-rf", linkDir];
}

/**
 * A one-line account of why bpftool could not register an object: the kernel verifier's last
 * words (between libbpf's BEGIN/END PROG LOAD LOG markers, before the `processed … insns`
 * summary), else libbpf's last error line.
 *
 * @example
 * summarizeRegisterFailure("-- BEGIN PROG LOAD LOG --\ninvalid access to map value, value_size=8 off=16 size=8\nprocessed 9 insns\n-- END PROG LOAD LOG --")
 * // "kernel verifier: invalid access to map value, value_size=8 off=16 size=8"
 */
export function summarizeRegisterFailure(output: string): string {
  const lines = output.split("\n").map((line) => line.trim());
  const begin = lines.findIndex((line) => line.includes("BEGIN PROG LOAD LOG"));
  if (begin >= 0) {
    let end = lines.findIndex((line, i) => i > begin && line.includes("END PROG LOAD LOG"));
    if (end < 0) end = lines.length;
    const body = lines.slice(begin + 1, end);
    // Linux ≥ 7.x explains itself after the raw error: "Verification failed: <class>", then
    // sections (Reason, At, Causal path); the raw error sits right after the last instruction.
    const explained = body.findIndex((line) => /^Verification failed:/.test(line));
    const raw = explained >= 0 ? body.slice(0, explained) : body;
    let lastInsn = -1;
    raw.forEach((line, i) => {
      if (/^\d+: \(/.test(line)) lastInsn = i;
    });
    const errors = raw
      .slice(lastInsn + 1)
      .filter(
        (line) =>
          line !== "" &&
          !/^(\d+: |processed \d+ insns|verification time|stack depth|;|Suggestion:)/.test(line),
      )
      .slice(0, 2);
    if (explained >= 0) errors.push(body[explained] ?? "");
    const prog = /prog '([^']+)': BPF program load failed/.exec(output)?.[1];
    if (errors.length > 0) {
      return `kernel verifier${prog === undefined ? "" : ` (${prog})`}: ${errors.join(" / ")}`;
    }
  }
  const errors = lines.filter((line) => /^(libbpf: |Error: )/.test(line) || /failed/.test(line));
  return errors.at(-1) ?? lines.filter((line) => line !== "").at(-1) ?? "bpftool failed";
}

/** The BPF-object backend. */
export function createBpfBackend(options: BpfBackendOptions): Backend {
  const { executor, sysRoot, bpffsDir } = options;

  async function removeLink(linkDir: string): Promise<void> {
    await executor.run(bpfUnloadCommand(linkDir), { timeoutMs: 30_000 });
  }

  /** Link directories under bpffsDir, which only this module writes. */
  async function leftoverLinks(): Promise<string[]> {
    const listed = await executor.run(["ls", "-1", bpffsDir], { timeoutMs: 30_000 });
    if (listed.code !== 0) return [];
    return listed.stdout
      .split("\n")
      .map((name) => name.trim())
      .filter((name) => /^asg_[A-Za-z0-9_-]{1,64}$/.test(name))
      .map((name) => posix.join(bpffsDir, name));
  }

  async function reasonFromKernel(opsName: string | null): Promise<{
    reason: string | null;
    log: string | null;
  }> {
    const lines = await readSchedExtKernelLog(executor);
    return {
      reason: ejectionReasonFrom(lines, opsName),
      log: lines.length === 0 ? null : lines.join("\n"),
    };
  }

  return {
    async load(deployable: Deployable, artifactPath: string | null): Promise<LoadOutcome> {
      if (deployable.artifact.kind !== "bpf-object") {
        return { ok: false, reason: "not a BPF object", log: null };
      }
      if (artifactPath === null) {
        return { ok: false, reason: "no artifact path for the BPF object", log: null };
      }
      const opsName = deployable.artifact.opsName;
      const before = await readSchedExtStatus(executor, sysRoot);
      if (!before.supported) {
        return {
          ok: false,
          reason: `this kernel has no sched_ext (${posix.join(sysRoot, "kernel/sched_ext")} is missing)`,
          log: null,
        };
      }
      let output = "";
      if (before.state !== "disabled") {
        // A link pinned under our directory is a scheduler an earlier run of the agent loaded
        // (a restart forgets what runs): ours to replace. Anything else is not ours to touch.
        const stale = await leftoverLinks();
        if (stale.length === 0) {
          return {
            ok: false,
            reason: `another sched_ext scheduler is loaded (state ${before.state}, ops ${before.ops ?? "unknown"})`,
            log: null,
          };
        }
        for (const dir of stale) await removeLink(dir);
        const cleared = await waitForSchedExt(
          executor,
          sysRoot,
          (status) => status.state === "disabled",
          options.settle,
        );
        if (!cleared.accepted) {
          return {
            ok: false,
            reason: `sched_ext still ${cleared.status.state} after removing ${stale.join(", ")}`,
            log: null,
          };
        }
        output += `removed ${stale.join(", ")} (ops ${before.ops ?? "unknown"}), left by an earlier run\n`;
      }
      const commands = bpfLoadCommands(bpffsDir, deployable.assignmentId, artifactPath);
      const linkDir = posix.join(bpffsDir, deployable.assignmentId);
      for (const argv of commands) {
        const isRegister = argv[0] === "bpftool";
        const result = await executor.run(argv, {
          timeoutMs: isRegister ? options.registerTimeoutMs : 30_000,
        });
        output += result.stdout + result.stderr;
        if (result.code !== 0) {
          await removeLink(linkDir);
          const why = result.timedOut
            ? `${argv.join(" ")} timed out after ${options.registerTimeoutMs} ms`
            : isRegister
              ? summarizeRegisterFailure(result.stderr + result.stdout)
              : `${argv.join(" ")} exited ${result.code}: ${result.stderr.trim()}`;
          return { ok: false, reason: why, log: output };
        }
      }
      const settled = await waitForSchedExt(
        executor,
        sysRoot,
        (status) =>
          status.state === "enabled" ? status.ops === opsName : status.state === "disabled",
        options.settle,
      );
      if (settled.status.state === "enabled" && settled.status.ops === opsName) {
        return {
          ok: true,
          handle: {
            assignmentId: deployable.assignmentId,
            opsName,
            linkDir,
            process: null,
            command: commands.at(-1) ?? [],
          },
          log: output,
        };
      }
      // Registered, yet not running as ours: the scheduler failed its init or was ejected at once.
      const kernel = await reasonFromKernel(opsName);
      await removeLink(linkDir);
      return {
        ok: false,
        reason: `registered, but sched_ext is ${settled.status.state ?? "unknown"} with ops ${settled.status.ops ?? "none"}${kernel.reason === null ? "" : `: ${kernel.reason}`}`,
        log: [output, kernel.log].filter((part) => part !== null && part !== "").join("\n"),
        ejected: settled.status.state === "disabled",
      };
    },

    async unload(handle: LoadedHandle): Promise<UnloadOutcome> {
      if (handle.linkDir === null) return { ok: false, reason: "no pinned link", log: null };
      const result = await executor.run(bpfUnloadCommand(handle.linkDir), { timeoutMs: 30_000 });
      if (result.code !== 0) {
        return {
          ok: false,
          reason: `rm -rf ${handle.linkDir} exited ${result.code}`,
          log: result.stderr,
        };
      }
      const settled = await waitForSchedExt(
        executor,
        sysRoot,
        (status) => status.state === "disabled",
        options.settle,
      );
      if (!settled.accepted) {
        return {
          ok: false,
          reason: `sched_ext still ${settled.status.state ?? "unknown"} after removing ${handle.linkDir}`,
          log: null,
        };
      }
      return { ok: true };
    },

    async check(handle: LoadedHandle): Promise<CheckOutcome> {
      const status = await readSchedExtStatus(executor, sysRoot);
      if (status.state === "enabled" && status.ops === handle.opsName) return { running: true };
      if (status.state === "enabling") return { running: true };
      const kernel = await reasonFromKernel(handle.opsName);
      return {
        running: false,
        reason: `sched_ext is ${status.state ?? "unreadable"}${status.ops === null ? "" : ` with ops ${status.ops}`}${kernel.reason === null ? "" : `: ${kernel.reason}`}`,
        log: kernel.log,
      };
    },

    async cleanup(handle: LoadedHandle): Promise<void> {
      if (handle.linkDir !== null) await removeLink(handle.linkDir);
    },
  };
}
