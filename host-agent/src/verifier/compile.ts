import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMMON_HEADER } from "../../../src/schedcp/bpf/catalog.js";
import { parameterDefines } from "../../../src/schedcp/bpf/defines.js";
import { LocalExecutor } from "../deploy/local-executor.js";
import { FLEET_LIMITS, type Parameters } from "../protocol.js";
import type { CachedKernel } from "./kernel.js";

/*
 * The compile stage: BPF C against the VM kernel's vmlinux.h and edgekernel's common.h, with
 * the parameters as -D constants, by clang-19 for the BPF target; then `bpftool gen object`
 * links it, which keeps the BTF the kernel needs and drops the DWARF (a 40 KB object instead
 * of 800 KB).
 */

export const CLANG = "clang-19";
export const DEFAULT_COMPILE_TIMEOUT_MS = 120_000;

export interface CompileOptions {
  source: string;
  parameters: Parameters;
  kernel: Pick<CachedKernel, "dir">;
  timeoutMs?: number;
  executor?: LocalExecutor;
  /** Where to make the scratch directory (default the OS temp dir). */
  workDir?: string;
}

export type CompileOutcome =
  | { ok: true; object: Uint8Array; log: string; command: string[] }
  | { ok: false; log: string; command: string[] | null };

/**
 * Compiles one policy source to a BPF object.
 *
 * @example
 * const out = await compileBpf({ source, parameters: { slice_us: 5000 }, kernel });
 * if (out.ok) console.log(out.object.length);
 */
export async function compileBpf(options: CompileOptions): Promise<CompileOutcome> {
  const local = options.executor ?? new LocalExecutor();
  const sourceBytes = Buffer.byteLength(options.source, "utf8");
  if (sourceBytes > FLEET_LIMITS.maxSourceBytes) {
    return {
      ok: false,
      log: `the source is ${sourceBytes} bytes, over the limit of ${FLEET_LIMITS.maxSourceBytes}`,
      command: null,
    };
  }
  const defines = parameterDefines(options.parameters);
  if (!defines.ok) {
    return { ok: false, log: `parameter ${defines.parameter}: ${defines.message}`, command: null };
  }
  const dir = await mkdtemp(join(options.workDir ?? tmpdir(), "ek-compile-"));
  try {
    await writeFile(join(dir, "common.h"), COMMON_HEADER);
    await writeFile(join(dir, "policy.bpf.c"), options.source);
    const command = [
      CLANG,
      "-target",
      "bpf",
      "-O2",
      "-g",
      "-Wall",
      // vmlinux.h declares a few empty forward structs; that is the kernel's, not the policy's.
      "-Wno-missing-declarations",
      "-Werror=implicit-function-declaration",
      "-fno-color-diagnostics",
      ...defines.defines,
      "-I",
      dir,
      "-I",
      options.kernel.dir,
      "-c",
      join(dir, "policy.bpf.c"),
      "-o",
      join(dir, "raw.o"),
    ];
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMPILE_TIMEOUT_MS;
    const compiled = await local.run(command, { timeoutMs, cwd: dir });
    const diagnostics = (compiled.stdout + compiled.stderr).replaceAll(`${dir}/`, "");
    if (compiled.code !== 0) {
      return {
        ok: false,
        log: compiled.timedOut
          ? `${CLANG} timed out after ${timeoutMs} ms\n${diagnostics}`
          : diagnostics,
        command,
      };
    }
    const linked = await local.run(
      ["bpftool", "gen", "object", join(dir, "policy.bpf.o"), join(dir, "raw.o")],
      { timeoutMs, cwd: dir },
    );
    if (linked.code !== 0) {
      return { ok: false, log: `${diagnostics}bpftool gen object: ${linked.stderr}`, command };
    }
    const object = new Uint8Array(await readFile(join(dir, "policy.bpf.o")));
    if (object.length > FLEET_LIMITS.maxObjectBytes) {
      return {
        ok: false,
        log: `${diagnostics}the object is ${object.length} bytes, over the limit of ${FLEET_LIMITS.maxObjectBytes}`,
        command,
      };
    }
    return { ok: true, object, log: diagnostics, command };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
