import { join } from "node:path";
import { LocalExecutor } from "../deploy/local-executor.js";
import {
  type AptSource,
  aptUpdate,
  readCodename,
  readMachineMirrors,
  writePrivateApt,
} from "./apt.js";

/*
 * The host tools of the verifier's VM stage, installed from Debian when missing: qemu (TCG),
 * busybox-static (the guest's userland), clang-19 (BPF target), zstd (the kernel's payload)
 * and bpftool ≥ 7.5 (struct_ops links, BTF dump). On bookworm, bpftool 7.5 comes from
 * bookworm-backports: bookworm's own 7.1 cannot register struct_ops links and trixie's needs a
 * newer glibc. apt runs with a private configuration; /etc/apt is never changed.
 */

/** The oldest bpftool that registers struct_ops with a pinned link (libbpf 1.5). */
export const MIN_BPFTOOL_VERSION: readonly [number, number] = [7, 5];
/** Bounds one `apt-get install` of all the tools (a cold machine downloads ~100 MB). */
export const APT_INSTALL_TIMEOUT_MS = 900_000;

/** One tool the VM stage needs, how to tell it is there, and the package that brings it. */
export interface HostTool {
  name: string;
  /** The Debian package (with a `/suite` when it must come from elsewhere). */
  aptPackage: string;
  present: boolean;
  detail: string;
}

export interface EnsureHostPackagesOptions {
  /** Where the private apt configuration lives (default `<cacheDir>/apt-host`). */
  cacheDir: string;
  executor?: LocalExecutor;
  /** Only report what is missing; install nothing. */
  checkOnly?: boolean;
  log?: (line: string) => void;
}

export interface HostPackagesReport {
  tools: HostTool[];
  /** Packages installed by this call (empty when everything was there). */
  installed: string[];
  durationMs: number;
}

/**
 * Parses `bpftool version`'s first line, e.g. `bpftool v7.5.0` → [7, 5, 0].
 *
 * @example parseBpftoolVersion("bpftool v7.5.0\nusing libbpf v1.5\n") // [7, 5, 0]
 */
export function parseBpftoolVersion(text: string): [number, number, number] | null {
  const match = /bpftool v(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (match === null) return null;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function atLeast(version: readonly number[], minimum: readonly number[]): boolean {
  for (let i = 0; i < minimum.length; i += 1) {
    const have = version[i] ?? 0;
    const want = minimum[i] ?? 0;
    if (have !== want) return have > want;
  }
  return true;
}

/** Which of the VM stage's tools this machine has now. */
export async function probeHostTools(
  local: LocalExecutor,
  codename: string | null,
): Promise<HostTool[]> {
  const has = async (argv: string[]) => (await local.run(argv, { timeoutMs: 20_000 })).code === 0;
  const dpkgInstalled = async (pkg: string) => {
    const result = await local.run(["dpkg", "-s", pkg], { timeoutMs: 20_000 });
    return result.code === 0 && /^Status: install ok installed$/m.test(result.stdout);
  };
  const bpftool = await local.run(["bpftool", "version"], { timeoutMs: 20_000 });
  const bpftoolVersion = bpftool.code === 0 ? parseBpftoolVersion(bpftool.stdout) : null;
  const bpftoolOk = bpftoolVersion !== null && atLeast(bpftoolVersion, MIN_BPFTOOL_VERSION);
  return [
    {
      name: "qemu-system-x86_64",
      aptPackage: "qemu-system-x86",
      present: await has(["qemu-system-x86_64", "--version"]),
      detail: "boots the throwaway VM (TCG)",
    },
    {
      name: "busybox (static)",
      aptPackage: "busybox-static",
      present: await dpkgInstalled("busybox-static"),
      detail: "the guest's userland",
    },
    {
      name: "clang-19",
      aptPackage: "clang-19",
      present: await has(["clang-19", "--version"]),
      detail: "compiles BPF C",
    },
    {
      name: "zstd",
      aptPackage: "zstd",
      present: await has(["zstd", "--version"]),
      detail: "unpacks the kernel image",
    },
    {
      name: "bpftool",
      aptPackage: codename === "bookworm" ? "bpftool/bookworm-backports" : "bpftool",
      present: bpftoolOk,
      detail:
        bpftoolVersion === null
          ? "missing: struct_ops links and BTF dumps"
          : `v${bpftoolVersion.join(".")}${bpftoolOk ? "" : ` (need ≥ ${MIN_BPFTOOL_VERSION.join(".")})`}`,
    },
  ];
}

/**
 * Installs whatever of the VM stage's tools is missing, with a private apt configuration on
 * this machine's own Debian mirror; a no-op (a few probes) when everything is there.
 *
 * @example
 * const report = await ensureHostPackages({ cacheDir: "/root/.cache/edgekernel" });
 * console.log(report.installed); // [] when warm
 */
export async function ensureHostPackages(
  options: EnsureHostPackagesOptions,
): Promise<HostPackagesReport> {
  const startedMs = performance.now();
  const local = options.executor ?? new LocalExecutor();
  const log = options.log ?? (() => {});
  const codename = await readCodename();
  let tools = await probeHostTools(local, codename);
  const missing = tools.filter((tool) => !tool.present);
  if (missing.length === 0 || options.checkOnly === true) {
    return { tools, installed: [], durationMs: performance.now() - startedMs };
  }
  if (codename === null) throw new Error("cannot tell this Debian's codename (/etc/os-release)");
  const mirrors = await readMachineMirrors();
  if (mirrors.debian === null) throw new Error("no Debian mirror found in /etc/apt sources");
  const sources: AptSource[] = [
    { uri: mirrors.debian, suite: codename },
    { uri: mirrors.debian, suite: `${codename}-updates` },
    { uri: mirrors.debian, suite: `${codename}-backports` },
  ];
  if (mirrors.security !== null) {
    sources.push({ uri: mirrors.security, suite: `${codename}-security` });
  }
  const apt = await writePrivateApt(join(options.cacheDir, "apt-host"), sources);
  log(`apt: updating the private index (${sources.map((s) => s.suite).join(", ")})`);
  await aptUpdate(local, apt);
  const packages = missing.map((tool) => tool.aptPackage);
  log(`apt: installing ${packages.join(" ")}`);
  const result = await local.run(
    ["apt-get", "-q", "-y", "--no-install-recommends", "install", ...packages],
    { env: apt.env, timeoutMs: APT_INSTALL_TIMEOUT_MS },
  );
  if (result.code !== 0) {
    throw new Error(
      `apt-get install ${packages.join(" ")} failed:\n${result.stdout}${result.stderr}`,
    );
  }
  tools = await probeHostTools(local, codename);
  const stillMissing = tools.filter((tool) => !tool.present);
  if (stillMissing.length > 0) {
    throw new Error(
      `still missing after install: ${stillMissing.map((t) => `${t.name} (${t.detail})`).join(", ")}`,
    );
  }
  return { tools, installed: packages, durationMs: performance.now() - startedMs };
}
