import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { CommandResult, Executor, SpawnedProcess } from "../../src/deploy/types.js";

/*
 * A test double of the operating system under a fixture /sys tree: bpftool, rm, mkdir and
 * dmesg behave as the kernel would for the objects the test declares, and the sched_ext files
 * of the tree change as they would. Every call is recorded.
 */

/** What the fake kernel does with one BPF object path. */
export interface FakeObject {
  opsName: string;
  /** bpftool fails with this output (the kernel verifier's log). */
  verifierLog?: string;
}

/** What a fake scx binary does. */
export interface FakeBinary {
  opsName: string;
  /** Does not exit on SIGINT (needs SIGTERM). */
  ignoresSigint?: boolean;
  /** Exits at once with this code instead of enabling a scheduler. */
  failsWith?: number;
}

export class FakeKernel implements Executor {
  readonly name = "fake";
  readonly calls: string[][] = [];
  readonly reads: string[] = [];
  readonly writes: string[] = [];
  readonly signals: string[] = [];
  dmesg = "";
  objects: Record<string, FakeObject> = {};
  binaries: Record<string, FakeBinary> = {};
  #linkDir: string | null = null;
  #process: { exit(code: number | null): void } | null = null;

  constructor(readonly sysRoot: string) {}

  async setState(state: string, ops: string | null): Promise<void> {
    const dir = join(this.sysRoot, "kernel/sched_ext");
    await writeFile(join(dir, "state"), `${state}\n`);
    if (ops === null) await rm(join(dir, "root"), { recursive: true, force: true });
    else {
      await mkdir(join(dir, "root"), { recursive: true });
      await writeFile(join(dir, "root/ops"), `${ops}\n`);
    }
  }

  /** The kernel drops the scheduler on its own (watchdog), leaving dmesg lines. */
  async eject(dmesgLines: string[]): Promise<void> {
    await this.setState("disabled", null);
    this.dmesg += `${dmesgLines.join("\n")}\n`;
  }

  async run(argv: readonly string[]): Promise<CommandResult> {
    this.calls.push([...argv]);
    const ok = (stdout = ""): CommandResult => ({ code: 0, stdout, stderr: "", timedOut: false });
    const fail = (stderr: string): CommandResult => ({
      code: 255,
      stdout: "",
      stderr,
      timedOut: false,
    });
    const [cmd, ...args] = argv;
    if (cmd === "mkdir") return ok();
    if (cmd === "dmesg") return ok(this.dmesg);
    if (cmd === "ls") {
      const dir = args.at(-1) ?? "";
      const link = this.#linkDir;
      return link !== null && dirname(link) === dir ? ok(`${link.slice(dir.length + 1)}\n`) : ok();
    }
    if (cmd === "rm") {
      const target = args.at(-1);
      if (target !== undefined && target === this.#linkDir) {
        this.#linkDir = null;
        await this.setState("disabled", null);
      }
      return ok();
    }
    if (cmd === "bpftool" && args[0] === "struct_ops" && args[1] === "register") {
      const object = this.objects[args[2] ?? ""];
      if (object === undefined) return fail(`Error: failed to open object file ${args[2]}`);
      if (object.verifierLog !== undefined) return fail(object.verifierLog);
      const state = (await this.readText(join(this.sysRoot, "kernel/sched_ext/state")))?.trim();
      if (state !== "disabled") return fail("libbpf: failed to attach struct_ops: -EBUSY");
      this.#linkDir = args[3] ?? null;
      await this.setState("enabled", object.opsName);
      return ok(`Registered sched_ext_ops ${object.opsName}_ops id 7 linked id 3\n`);
    }
    return fail(`fake kernel: unknown command ${argv.join(" ")}`);
  }

  async readText(path: string): Promise<string | null> {
    this.reads.push(path);
    try {
      return await readFile(path, "utf8");
    } catch {
      return null;
    }
  }

  async writeBytes(path: string, bytes: Uint8Array): Promise<void> {
    this.writes.push(path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
  }

  /** Makes the running fake scx process exit on its own. */
  crashProcess(code: number): void {
    this.#process?.exit(code);
  }

  spawn(argv: readonly string[]): SpawnedProcess {
    this.calls.push(["spawn", ...argv]);
    const binary = this.binaries[argv[0] ?? ""];
    let exited = false;
    let resolveExit: (result: CommandResult) => void = () => {};
    const done = new Promise<CommandResult>((resolve) => {
      resolveExit = resolve;
    });
    const exit = (code: number | null) => {
      if (exited) return;
      exited = true;
      this.#process = null;
      void this.setState("disabled", null).then(() =>
        resolveExit({ code, stdout: "", stderr: `exited ${code}\n`, timedOut: false }),
      );
    };
    if (binary === undefined || binary.failsWith !== undefined) {
      queueMicrotask(() => exit(binary?.failsWith ?? 127));
    } else {
      this.#process = { exit };
      void this.setState("enabled", binary.opsName);
    }
    return {
      pid: 4242,
      exited: done,
      hasExited: () => exited,
      kill: (signal) => {
        if (exited) return false;
        this.signals.push(signal);
        if (signal === "SIGINT" && binary?.ignoresSigint === true) return true;
        exit(signal === "SIGKILL" ? null : 0);
        return true;
      },
    };
  }
}
