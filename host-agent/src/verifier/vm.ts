import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { access, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { LocalExecutor } from "../deploy/local-executor.js";
import { type CpioEntry, packInitramfs } from "./cpio.js";
import { GuestExecutor } from "./guest-executor.js";
import { GUEST_DAEMON, GUEST_INIT } from "./guest-scripts.js";

/*
 * A throwaway VM: qemu (TCG unless the CPU offers real VT-x/AMD-V) boots the sched_ext kernel's
 * vmlinux directly (PVH) with an initramfs of busybox-static, bpftool and its libraries, the
 * guest command server and the objects under test. ttyS0 is the console (to a file), ttyS1 the
 * command channel (a unix socket). `close()` kills qemu and removes the work directory, and an
 * exit hook does the same for any VM still running when this process exits.
 */

export const DEFAULT_BOOT_TIMEOUT_MS = 240_000;
export const DEFAULT_VM_MEMORY_MB = 1_024;
export const DEFAULT_VM_CPUS = 2;
/** What is kept of the console for a failed boot's log. */
const CONSOLE_TAIL_CHARS = 16_384;

export interface VmOptions {
  /** The kernel to boot (an uncompressed, PVH-bootable vmlinux). */
  vmlinux: string;
  /** Extra files for the guest, by absolute guest path (e.g. `/policies/x.bpf.o`). */
  files: Record<string, Uint8Array>;
  bootTimeoutMs?: number;
  memoryMb?: number;
  cpus?: number;
  /** `tcg`, `kvm`, or `auto` (kvm only where /proc/cpuinfo shows vmx or svm). */
  accel?: "tcg" | "kvm" | "auto";
  /** Parent of the VM's work directory (default the OS temp dir). */
  workDir?: string;
  log?: (line: string) => void;
}

export interface Vm {
  guest: GuestExecutor;
  kernelRelease: string | null;
  /** The console so far (kernel messages, the init's lines). */
  console(): Promise<string>;
  close(): Promise<void>;
}

const live = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const vm of live) {
      vm.child.kill("SIGKILL");
      try {
        // Synchronous on purpose: nothing asynchronous runs in an exit handler.
        rmSync(vm.dir, { recursive: true, force: true });
      } catch {}
    }
  });
}

/** The base of every guest: busybox-static with its applets, bpftool and its libraries, init. */
export async function baseInitramfsEntries(local = new LocalExecutor()): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [];
  const dirs = new Set<string>();
  const addDir = (path: string) => {
    const parts = path.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i += 1) {
      const dir = parts.slice(0, i).join("/");
      if (!dirs.has(dir)) {
        dirs.add(dir);
        entries.push({ kind: "dir", path: dir });
      }
    }
  };
  for (const dir of [
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "proc",
    "sys",
    "dev",
    "tmp",
    "policies",
  ]) {
    addDir(dir);
  }
  entries.push({
    kind: "file",
    path: "bin/busybox",
    data: await readFile("/bin/busybox"),
    mode: 0o755,
  });
  const applets = await local.run(["/bin/busybox", "--list"], { timeoutMs: 10_000 });
  for (const applet of applets.stdout.split("\n").map((a) => a.trim())) {
    if (applet !== "" && applet !== "busybox" && /^[a-z0-9_.[-]+$/.test(applet)) {
      entries.push({ kind: "symlink", path: `bin/${applet}`, target: "busybox" });
    }
  }
  const which = await local.run(["sh", "-c", "command -v bpftool"], { timeoutMs: 10_000 });
  const bpftool = which.stdout.trim() || "/usr/sbin/bpftool";
  entries.push({
    kind: "file",
    path: "usr/sbin/bpftool",
    data: await readFile(bpftool),
    mode: 0o755,
  });
  const ldd = await local.run(["ldd", bpftool], { timeoutMs: 10_000 });
  for (const match of ldd.stdout.matchAll(/(\/\S+)\s+\(0x/g)) {
    const lib = match[1];
    if (lib === undefined) continue;
    addDir(dirname(lib));
    entries.push({
      kind: "file",
      path: lib.slice(1),
      data: await readFile(await realpath(lib)),
      mode: 0o755,
    });
  }
  entries.push({ kind: "file", path: "init", data: Buffer.from(GUEST_INIT), mode: 0o755 });
  entries.push({ kind: "file", path: "ek-guestd", data: Buffer.from(GUEST_DAEMON), mode: 0o644 });
  return entries;
}

function chooseAccel(accel: VmOptions["accel"]): "tcg" | "kvm" {
  if (accel === "tcg" || accel === "kvm") return accel;
  try {
    // /dev/kvm alone is not enough here: nested, software KVM modules fail stock kernels.
    const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
    return /\b(vmx|svm)\b/.test(cpuinfo) ? "kvm" : "tcg";
  } catch {
    return "tcg";
  }
}

async function waitForPath(path: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await access(path);
      return;
    } catch {}
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error("qemu exited before its socket appeared");
    if (Date.now() > deadline)
      throw new Error(`qemu did not create ${path} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Boots a VM and returns once its command server answers.
 *
 * @example
 * const vm = await bootVm({ vmlinux: kernel.vmlinux, files: { "/policies/p.bpf.o": object } });
 * try { await vm.guest.run(["uname", "-r"]); } finally { await vm.close(); }
 */
export async function bootVm(options: VmOptions): Promise<Vm> {
  const log = options.log ?? (() => {});
  const dir = await mkdtemp(join(options.workDir ?? tmpdir(), "ek-vm-"));
  let child: ChildProcess | null = null;
  let socket: Socket | null = null;
  let guest: GuestExecutor | null = null;
  const record = { child: null as unknown as ChildProcess, dir };
  const consolePath = join(dir, "console.log");
  const readConsole = async () => {
    try {
      return (await readFile(consolePath, "utf8")).replaceAll("\r", "").slice(-CONSOLE_TAIL_CHARS);
    } catch {
      return "";
    }
  };
  const close = async () => {
    guest?.close();
    socket?.destroy();
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    live.delete(record);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const entries = await baseInitramfsEntries();
    for (const [path, data] of Object.entries(options.files)) {
      entries.push({ kind: "file", path: path.replace(/^\/+/, ""), data, mode: 0o644 });
    }
    const initrd = join(dir, "initrd.gz");
    await writeFile(initrd, packInitramfs(entries));
    const socketPath = join(dir, "cmd.sock");
    const accel = chooseAccel(options.accel ?? "auto");
    const args = [
      "-accel",
      // Multi-threaded TCG lets one vCPU run a stale translation of kernel text another vCPU
      // is live-patching (static keys flip when a scheduler unloads): seen here as an
      // "Oops: int3" in scx_allow_ttwu_queue. One TCG thread for all vCPUs has no such window.
      accel === "tcg" ? "tcg,thread=single" : accel,
      "-cpu",
      accel === "kvm" ? "host" : "max",
      "-smp",
      String(options.cpus ?? DEFAULT_VM_CPUS),
      "-m",
      String(options.memoryMb ?? DEFAULT_VM_MEMORY_MB),
      "-nodefaults",
      "-display",
      "none",
      "-no-reboot",
      "-serial",
      `file:${consolePath}`,
      "-serial",
      `unix:${socketPath},server=on,wait=off`,
      "-kernel",
      options.vmlinux,
      "-initrd",
      initrd,
      "-append",
      "console=ttyS0 panic=-1 quiet",
    ];
    log(`vm: qemu-system-x86_64 ${args.join(" ")}`);
    child = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
    record.child = child;
    live.add(record);
    installExitHook();
    let qemuStderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      qemuStderr = (qemuStderr + chunk.toString("utf8")).slice(-4_096);
    });
    const exited = new Promise<never>((_, reject) => {
      child?.once("exit", (code, signal) =>
        reject(new Error(`qemu exited (${signal ?? code}) ${qemuStderr.trim()}`)),
      );
    });
    exited.catch(() => {});
    await waitForPath(socketPath, child, 30_000);
    socket = connect(socketPath);
    await new Promise<void>((resolve, reject) => {
      socket?.once("connect", resolve);
      socket?.once("error", reject);
    });
    guest = new GuestExecutor(socket);
    await Promise.race([guest.ready(options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS), exited]);
    const kernelRelease = guest.kernelRelease ?? (await guest.run(["uname", "-r"])).stdout.trim();
    log(`vm: guest up, kernel ${kernelRelease}`);
    return { guest, kernelRelease, console: readConsole, close };
  } catch (error) {
    const consoleText = await readConsole();
    await close();
    const message = error instanceof Error ? error.message : String(error);
    throw new VmBootError(`the VM did not come up: ${message}`, consoleText);
  }
}

/** A boot that failed, with the console's tail. */
export class VmBootError extends Error {
  override readonly name = "VmBootError";
  constructor(
    message: string,
    readonly consoleText: string,
  ) {
    super(message);
  }
}
