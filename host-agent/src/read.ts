import { type FileHandle, open } from "node:fs/promises";
import { ParseError } from "./parsers/errors.js";
import type { Warnings } from "./warnings.js";

/**
 * Largest kernel file read. `/proc/schedstat` on a machine with thousands of CPUs runs to a few
 * MiB; anything far beyond that means the root points somewhere that is not procfs or sysfs.
 */
export const MAX_KERNEL_FILE_BYTES = 16 * 1024 * 1024;

/**
 * First buffer size: procfs files report size 0, so they are read until end of file, and
 * nearly all of them (per-pid `stat`, `loadavg`, PSI) fit in this; the buffer doubles otherwise.
 */
const INITIAL_BUFFER_BYTES = 4 * 1024;

/**
 * Errors meaning "this kernel does not have that file": no such path, a process that exited
 * (ESRCH), or a feature compiled in but switched off (PSI with `psi=0` gives EOPNOTSUPP).
 */
const ABSENT_CODES = new Set(["ENOENT", "ENOTDIR", "ESRCH", "EOPNOTSUPP"]);

/** The outcome of reading one kernel file. */
export type KernelRead =
  | { kind: "text"; text: string }
  | { kind: "absent" }
  | { kind: "unreadable"; reason: string };

/**
 * Reads a procfs or sysfs file as text, distinguishing "absent" from "unreadable".
 *
 * @example
 * const result = await readKernelFile("/proc/loadavg");
 * if (result.kind === "text") console.log(result.text);
 */
export async function readKernelFile(path: string): Promise<KernelRead> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, "r");
    let buffer = Buffer.alloc(INITIAL_BUFFER_BYTES);
    let filledBytes = 0;
    for (;;) {
      if (filledBytes === buffer.length) {
        if (buffer.length >= MAX_KERNEL_FILE_BYTES) {
          return { kind: "unreadable", reason: `larger than ${MAX_KERNEL_FILE_BYTES} bytes` };
        }
        const grown = Buffer.alloc(Math.min(buffer.length * 2, MAX_KERNEL_FILE_BYTES));
        buffer.copy(grown, 0, 0, filledBytes);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(
        buffer,
        filledBytes,
        buffer.length - filledBytes,
        null,
      );
      if (bytesRead === 0) break;
      filledBytes += bytesRead;
    }
    return { kind: "text", text: buffer.toString("utf8", 0, filledBytes) };
  } catch (error) {
    const code = errorCode(error);
    if (code !== undefined && ABSENT_CODES.has(code)) return { kind: "absent" };
    return { kind: "unreadable", reason: error instanceof Error ? error.message : String(error) };
  } finally {
    await handle?.close();
  }
}

/** How {@link readParsed} treats a file that does not exist. */
export interface ReadParsedOptions {
  /**
   * Whether every Linux has this file (`/proc/stat`, `/proc/meminfo`). Then its absence is
   * worth a warning, since the root probably points at the wrong place. Optional kernel
   * features (PSI, schedstat, sched_ext) are silently `null` when absent.
   */
  expected: boolean;
}

/**
 * Reads a kernel file and parses it. Returns `null` when the file is absent, unreadable or
 * malformed, recording a warning for the last two (and for the first if `expected`).
 *
 * @example
 * const load = await readParsed("/proc/loadavg", parseLoadAvg, warnings, { expected: true });
 */
export async function readParsed<T>(
  path: string,
  parse: (text: string) => T,
  warnings: Warnings,
  options: ReadParsedOptions,
): Promise<T | null> {
  const result = await readKernelFile(path);
  if (result.kind === "absent") {
    if (options.expected) warnings.add(path, "missing");
    return null;
  }
  if (result.kind === "unreadable") {
    warnings.add(path, `unreadable: ${result.reason}`);
    return null;
  }
  try {
    return parse(result.text);
  } catch (error) {
    // Only malformed input is tolerated; any other exception is a bug and must surface.
    if (!(error instanceof ParseError)) throw error;
    warnings.add(path, `malformed: ${error.reason}`);
    return null;
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}
