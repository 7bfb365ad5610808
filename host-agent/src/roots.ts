import { join } from "node:path";

/** Where procfs and sysfs are mounted. Tests point these at fixture trees. */
export interface KernelRoots {
  procRoot: string;
  sysRoot: string;
}

/**
 * A path under the proc root.
 *
 * @example
 * procPath({ procRoot: "/proc", sysRoot: "/sys" }, "pressure", "cpu"); // "/proc/pressure/cpu"
 */
export function procPath(roots: KernelRoots, ...segments: string[]): string {
  return join(roots.procRoot, ...segments);
}

/**
 * A path under the sys root.
 *
 * @example
 * sysPath({ procRoot: "/proc", sysRoot: "/sys" }, "kernel", "sched_ext"); // "/sys/kernel/sched_ext"
 */
export function sysPath(roots: KernelRoots, ...segments: string[]): string {
  return join(roots.sysRoot, ...segments);
}
