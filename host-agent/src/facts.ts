import { stat } from "node:fs/promises";
import { formatCpuList, parseCpuList } from "./parsers/cpulist.js";
import { parseMemInfo } from "./parsers/meminfo.js";
import { parseSchedExtState } from "./parsers/sched-ext.js";
import { parseSingleLine, parseTopologyId, parseUnsignedFile } from "./parsers/tokens.js";
import type { NodeFacts } from "./protocol.js";
import { readParsed } from "./read.js";
import { type KernelRoots, procPath, sysPath } from "./roots.js";
import { Warnings } from "./warnings.js";

/**
 * Reads the node's static facts: hostname, kernel release, sched_ext support and state, online
 * CPUs with their topology, and memory. Missing or malformed files give `null` fields and a
 * warning, never an exception.
 *
 * @example
 * const facts = await readNodeFacts({ procRoot: "/proc", sysRoot: "/sys" });
 * facts.schedExt.supported; // false on a kernel without CONFIG_SCHED_CLASS_EXT
 */
export async function readNodeFacts(roots: KernelRoots): Promise<NodeFacts> {
  const warnings = new Warnings();
  const expected = { expected: true };
  const hostnamePath = procPath(roots, "sys", "kernel", "hostname");
  const osreleasePath = procPath(roots, "sys", "kernel", "osrelease");
  const [hostname, kernelRelease, schedExt, cpus, memory] = await Promise.all([
    readParsed(hostnamePath, (text) => parseSingleLine(text, hostnamePath), warnings, expected),
    readParsed(osreleasePath, (text) => parseSingleLine(text, osreleasePath), warnings, expected),
    readSchedExt(roots, warnings),
    readCpus(roots, warnings),
    readParsed(procPath(roots, "meminfo"), parseMemInfo, warnings, expected),
  ]);
  return { hostname, kernelRelease, schedExt, cpus, memory, warnings: warnings.list() };
}

async function readSchedExt(
  roots: KernelRoots,
  warnings: Warnings,
): Promise<NodeFacts["schedExt"]> {
  const dir = sysPath(roots, "kernel", "sched_ext");
  // The directory exists exactly when the kernel was built with CONFIG_SCHED_CLASS_EXT.
  if (!(await isDirectory(dir))) {
    return { supported: false, state: null, ops: null, enableSeq: null };
  }
  const opsPath = sysPath(roots, "kernel", "sched_ext", "root", "ops");
  const enableSeqPath = sysPath(roots, "kernel", "sched_ext", "enable_seq");
  const [state, ops, enableSeq] = await Promise.all([
    readParsed(sysPath(roots, "kernel", "sched_ext", "state"), parseSchedExtState, warnings, {
      expected: true,
    }),
    // `root/` only exists while a BPF scheduler is attached, so its absence means "none".
    readParsed(opsPath, (text) => parseSingleLine(text, opsPath), warnings, { expected: false }),
    // `enable_seq` arrived after the first sched_ext release; older kernels lack it.
    readParsed(enableSeqPath, (text) => parseUnsignedFile(text, enableSeqPath), warnings, {
      expected: false,
    }),
  ]);
  return { supported: true, state, ops, enableSeq };
}

async function readCpus(roots: KernelRoots, warnings: Warnings): Promise<NodeFacts["cpus"]> {
  const onlinePath = sysPath(roots, "devices", "system", "cpu", "online");
  const ids = await readParsed(onlinePath, parseCpuList, warnings, { expected: true });
  if (ids === null) return null;
  // Sequential on purpose: thousands of CPUs must not mean thousands of open files at once.
  const topology: NonNullable<NodeFacts["cpus"]>["topology"] = [];
  for (const cpu of ids) {
    const dir = ["devices", "system", "cpu", `cpu${cpu}`, "topology"];
    const packagePath = sysPath(roots, ...dir, "physical_package_id");
    const corePath = sysPath(roots, ...dir, "core_id");
    const packageId = await readParsed(
      packagePath,
      (text) => parseTopologyId(text, packagePath),
      warnings,
      { expected: true },
    );
    const coreId = await readParsed(corePath, (text) => parseTopologyId(text, corePath), warnings, {
      expected: true,
    });
    topology.push({ cpu, packageId, coreId });
  }
  const packages = new Set<number>();
  const cores = new Set<string>();
  for (const { packageId, coreId } of topology) {
    if (packageId === null) continue;
    packages.add(packageId);
    if (coreId !== null) cores.add(`${packageId}:${coreId}`);
  }
  return {
    onlineList: formatCpuList(ids),
    onlineCount: ids.length,
    packageCount: packages.size,
    coreCount: cores.size,
    topology,
  };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
