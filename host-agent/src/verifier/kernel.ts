import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import {
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { LocalExecutor } from "../deploy/local-executor.js";
import { APT_TIMEOUT_MS, aptUpdate, readMachineMirrors, writePrivateApt } from "./apt.js";

/*
 * A sched_ext kernel for the throwaway VM: Debian's cloud kernel from trixie-backports (the
 * first suite whose kernels have CONFIG_SCHED_CLASS_EXT=y; bookworm's 6.1 and every 6.12 build
 * lack it). The ABI is resolved when nothing is cached, because old backports leave the
 * mirror; a cached kernel is used as it is, without the network. From the packages we keep the
 * plain `vmlinux` (its BTF gives vmlinux.h, and qemu boots it directly through PVH).
 */

export const DEFAULT_KERNEL_SUITE = "trixie-backports";
export const DEFAULT_KERNEL_FLAVOUR = "cloud-amd64";
/** The zstd frame magic, which starts the payload inside a Debian bzImage. */
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** Written last into a kernel's cache directory: its presence means the directory is complete. */
const READY_MARKER = "READY";

/** A kernel ready for the VM stage. */
export interface CachedKernel {
  /** e.g. `7.3.1+bpo-cloud-amd64` */
  abi: string;
  dir: string;
  /** Uncompressed ELF kernel: the BTF source, and what qemu boots. */
  vmlinux: string;
  /** `bpftool btf dump file vmlinux format c`. */
  vmlinuxH: string;
  config: string;
}

export interface EnsureKernelOptions {
  /** Cache root (default `~/.cache/edgekernel`); kernels go to `<cacheDir>/kernels/<abi>`. */
  cacheDir: string;
  suite?: string;
  flavour?: string;
  /** Resolve the newest ABI on the mirror even when a kernel is cached. */
  refresh?: boolean;
  /** The Debian mirror; by default the one this machine's /etc/apt names. */
  mirror?: string;
  executor?: LocalExecutor;
  log?: (line: string) => void;
}

/**
 * Picks the kernel ABI from `apt-cache show linux-image-<flavour>` output: the newest
 * version's dependency `linux-image-<abi>`.
 *
 * @example
 * resolveAbi("Package: linux-image-cloud-amd64\nVersion: 7.3.1-1~bpo13+1\nDepends: linux-image-7.3.1+bpo-cloud-amd64 (= 7.3.1-1~bpo13+1)\n", "cloud-amd64")
 * // "7.3.1+bpo-cloud-amd64"
 */
export function resolveAbi(aptCacheShow: string, flavour: string): string | null {
  let best: { version: string; abi: string } | null = null;
  for (const stanza of aptCacheShow.split(/\n\s*\n/)) {
    const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
    const depends = /^Depends:\s*(.+)$/m.exec(stanza)?.[1];
    if (version === undefined || depends === undefined) continue;
    const abiPattern = new RegExp(`linux-image-(\\S+-${flavour.replace(/[-.]/g, "\\$&")})\\b`);
    const abi = abiPattern.exec(depends)?.[1];
    if (abi === undefined) continue;
    if (best === null || compareDebianVersions(version, best.version) > 0) best = { version, abi };
  }
  return best?.abi ?? null;
}

/** A rough Debian version order: numeric runs compared as numbers, `~` sorts first. */
export function compareDebianVersions(a: string, b: string): number {
  const tokens = (v: string) => v.match(/\d+|[^\d]+/g) ?? [];
  const ta = tokens(a);
  const tb = tokens(b);
  for (let i = 0; i < Math.max(ta.length, tb.length); i += 1) {
    const x = ta[i];
    const y = tb[i];
    if (x === y) continue;
    if (x === undefined) return y?.startsWith("~") ? 1 : -1;
    if (y === undefined) return x.startsWith("~") ? -1 : 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    if (x.startsWith("~") !== y.startsWith("~")) return x.startsWith("~") ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Whether a kernel config enables sched_ext. */
export function hasSchedExt(configText: string): boolean {
  return /^CONFIG_SCHED_CLASS_EXT=y$/m.test(configText);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The newest complete kernel in the cache, if any. */
export async function findCachedKernel(cacheDir: string): Promise<CachedKernel | null> {
  const root = join(cacheDir, "kernels");
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return null;
  }
  const ready: string[] = [];
  for (const name of names) {
    if (await exists(join(root, name, READY_MARKER))) ready.push(name);
  }
  ready.sort(compareDebianVersions);
  const abi = ready.at(-1);
  return abi === undefined ? null : kernelAt(root, abi);
}

function kernelAt(root: string, abi: string): CachedKernel {
  const dir = join(root, abi);
  return {
    abi,
    dir,
    vmlinux: join(dir, "vmlinux"),
    vmlinuxH: join(dir, "vmlinux.h"),
    config: join(dir, "config"),
  };
}

/**
 * A sched_ext kernel, from the cache or downloaded, unpacked and checked.
 *
 * @example
 * const kernel = await ensureKernel({ cacheDir: "/root/.cache/edgekernel" });
 * // kernel.vmlinux boots with qemu -kernel; kernel.vmlinuxH compiles BPF against it
 */
export async function ensureKernel(options: EnsureKernelOptions): Promise<CachedKernel> {
  const log = options.log ?? (() => {});
  if (options.refresh !== true) {
    const cached = await findCachedKernel(options.cacheDir);
    if (cached !== null) return cached;
  }
  const local = options.executor ?? new LocalExecutor();
  const suite = options.suite ?? DEFAULT_KERNEL_SUITE;
  const flavour = options.flavour ?? DEFAULT_KERNEL_FLAVOUR;
  const mirror = options.mirror ?? (await readMachineMirrors()).debian;
  if (mirror === null) throw new Error("no Debian mirror found in /etc/apt; pass `mirror`");
  const apt = await writePrivateApt(join(options.cacheDir, `apt-${suite}`), [
    { uri: mirror, suite },
  ]);
  log(`kernel: updating the ${suite} index`);
  await aptUpdate(local, apt);
  const show = await local.run(["apt-cache", "show", `linux-image-${flavour}`], {
    env: apt.env,
    timeoutMs: 60_000,
  });
  const abi = resolveAbi(show.stdout, flavour);
  if (abi === null) throw new Error(`cannot resolve the kernel ABI of linux-image-${flavour}`);
  const root = join(options.cacheDir, "kernels");
  const target = kernelAt(root, abi);
  if (await exists(join(target.dir, READY_MARKER))) return target;

  await mkdir(root, { recursive: true });
  const work = await mkdtemp(join(root, `.${abi}.`));
  try {
    // Newer Debian kernels are split: linux-binary[-unsigned]-<abi> holds vmlinuz,
    // linux-base-<abi> the config; older ones ship both in linux-image-<abi>-unsigned.
    const has = async (pkg: string) =>
      (await local.run(["apt-cache", "show", pkg], { env: apt.env, timeoutMs: 60_000 })).code === 0;
    let packages: string[];
    if (await has(`linux-binary-unsigned-${abi}`)) {
      packages = [`linux-binary-unsigned-${abi}`, `linux-base-${abi}`];
    } else if (await has(`linux-binary-${abi}`)) {
      packages = [`linux-binary-${abi}`, `linux-base-${abi}`];
    } else {
      packages = [`linux-image-${abi}-unsigned`];
    }
    log(`kernel: downloading ${packages.join(" ")}`);
    const download = await local.run(["apt-get", "-q", "download", ...packages], {
      env: apt.env,
      cwd: work,
      timeoutMs: APT_TIMEOUT_MS,
    });
    if (download.code !== 0) {
      throw new Error(`apt-get download failed:\n${download.stdout}${download.stderr}`);
    }
    const extracted = join(work, "x");
    for (const deb of (await readdir(work)).filter((name) => name.endsWith(".deb"))) {
      const unpack = await local.run(["dpkg-deb", "-x", join(work, deb), extracted], {
        timeoutMs: 120_000,
      });
      if (unpack.code !== 0) throw new Error(`dpkg-deb -x ${deb} failed: ${unpack.stderr}`);
    }
    const vmlinuz = await firstExisting([
      join(extracted, "usr/lib/modules", abi, "vmlinuz"),
      join(extracted, "usr/lib/modules", abi, "vmlinuz.unsigned"),
      join(extracted, "boot", `vmlinuz-${abi}`),
    ]);
    const config = await firstExisting([
      join(extracted, "usr/lib/modules", abi, "config"),
      join(extracted, "boot", `config-${abi}`),
    ]);
    if (vmlinuz === null || config === null) {
      throw new Error(`kernel packages of ${abi} hold no vmlinuz or config`);
    }
    const configText = await readFile(config, "utf8");
    if (!hasSchedExt(configText)) throw new Error(`kernel ${abi} has no CONFIG_SCHED_CLASS_EXT=y`);
    await writeFile(join(work, "config"), configText);
    await extractVmlinux(vmlinuz, join(work, "vmlinux"));
    const btf = await local.run(
      ["bpftool", "btf", "dump", "file", join(work, "vmlinux"), "format", "c"],
      { timeoutMs: 300_000, maxOutputBytes: 64 * 1024 * 1024 },
    );
    if (btf.code !== 0) throw new Error(`bpftool btf dump failed: ${btf.stderr}`);
    await writeFile(join(work, "vmlinux.h"), btf.stdout);
    await rm(extracted, { recursive: true, force: true });
    for (const deb of (await readdir(work)).filter((name) => name.endsWith(".deb"))) {
      await rm(join(work, deb));
    }
    await writeFile(join(work, READY_MARKER), `${abi}\n`);
    await rm(target.dir, { recursive: true, force: true });
    await rename(work, target.dir);
    log(`kernel: ${abi} ready in ${target.dir}`);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function firstExisting(paths: readonly string[]): Promise<string | null> {
  for (const path of paths) if (await exists(path)) return path;
  return null;
}

/**
 * Unpacks the zstd payload of a bzImage into an ELF `vmlinux`. zstd exits non-zero over the
 * bytes that follow the frame, so its output goes to a file we own and the test is that the
 * result is an ELF image.
 */
async function extractVmlinux(vmlinuz: string, out: string): Promise<void> {
  const image = await readFile(vmlinuz);
  const offset = image.indexOf(ZSTD_MAGIC);
  if (offset < 0) throw new Error(`${vmlinuz}: no zstd payload`);
  const payload = `${out}.zst`;
  await writeFile(payload, image.subarray(offset));
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    const child = spawn("zstd", ["-d", "-c", "-q", payload], { stdio: ["ignore", "pipe", "pipe"] });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-4_096);
    });
    child.on("error", reject);
    pipeline(child.stdout, createWriteStream(out)).then(resolve, reject);
  });
  await rm(payload, { force: true });
  const handle = await open(out, "r");
  const head = Buffer.alloc(4);
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (!head.equals(ELF_MAGIC))
    throw new Error(`unpacking ${vmlinuz} gave no ELF vmlinux: ${stderr}`);
}
