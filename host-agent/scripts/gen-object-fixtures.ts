/*
 * `npm run gen:bpf-objects`: compiles the BPF objects test/schedcp/object-checks.test.ts checks,
 * with the execution verifier's own compile stage (clang-19 against the cached sched_ext
 * kernel's vmlinux.h and common.h, parameters as -D constants, linked by `bpftool gen object`):
 *
 * - each built-in (src/schedcp/bpf/) with its default parameters, as `<name>.bpf.o`;
 * - each `*.bpf.c` in test/schedcp/bpf-objects/ (objects the checks must refuse), as `*.bpf.o`;
 *
 * and writes manifest.json beside them: the toolchain, the kernel, and for each object the
 * SHA-256 of what it was compiled from, so that the test notices when the library changed and
 * the objects were not rebuilt. Needs clang-19, bpftool and a cached kernel: `npm run
 * test:kernel` installs and fetches them. Run it after changing a built-in's C or common.h.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  BUILTIN_POLICIES,
  COMMON_HEADER,
  defaultParameters,
} from "../../src/schedcp/bpf/catalog.js";
import { LocalExecutor } from "../src/deploy/local-executor.js";
import type { Parameters } from "../src/protocol.js";
import { CLANG, compileBpf } from "../src/verifier/compile.js";
import { findCachedKernel } from "../src/verifier/kernel.js";
import { defaultCacheDir } from "../src/verifier/run-verify-job.js";

const outDir = fileURLToPath(new URL("../../test/schedcp/bpf-objects/", import.meta.url));
const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

interface ManifestObject {
  /** `builtin:<name>` or the fixture's file name. */
  from: string;
  sourceSha256: string;
  parameters: Parameters;
  objectSha256: string;
  sizeBytes: number;
}

async function firstLine(command: string[]): Promise<string> {
  const out = await new LocalExecutor().run(command, { timeoutMs: 30_000 });
  if (out.code !== 0) throw new Error(`${command.join(" ")} failed: ${out.stderr}`);
  return out.stdout.split("\n")[0]!.trim();
}

async function main(): Promise<void> {
  const cacheDir = process.env.EDGEKERNEL_CACHE_DIR || defaultCacheDir();
  const kernel = await findCachedKernel(cacheDir);
  if (kernel === null) {
    throw new Error(`no sched_ext kernel cached under ${cacheDir}: run npm run test:kernel once`);
  }
  const toolchain = {
    clang: await firstLine([CLANG, "--version"]),
    bpftool: await firstLine(["bpftool", "version"]),
  };
  const fixtures = (await readdir(outDir)).filter((name) => name.endsWith(".bpf.c")).sort();
  const jobs: Array<{ out: string; from: string; source: string; parameters: Parameters }> = [
    ...BUILTIN_POLICIES.map((policy) => ({
      out: `${policy.name}.bpf.o`,
      from: `builtin:${policy.name}`,
      source: policy.source,
      parameters: defaultParameters(policy),
    })),
    ...(await Promise.all(
      fixtures.map(async (name) => ({
        out: name.replace(/\.c$/, ".o"),
        from: name,
        source: await readFile(`${outDir}${name}`, "utf8"),
        parameters: {},
      })),
    )),
  ];
  const objects: Record<string, ManifestObject> = {};
  for (const job of jobs) {
    const compiled = await compileBpf({ source: job.source, parameters: job.parameters, kernel });
    if (!compiled.ok) throw new Error(`${job.from} does not compile:\n${compiled.log}`);
    await writeFile(`${outDir}${job.out}`, compiled.object);
    objects[job.out] = {
      from: job.from,
      sourceSha256: sha256(job.source),
      parameters: job.parameters,
      objectSha256: sha256(compiled.object),
      sizeBytes: compiled.object.length,
    };
    console.log(`${job.out.padEnd(28)} ${String(compiled.object.length).padStart(6)} bytes`);
  }
  const manifest = {
    generatedBy: "npm run gen:bpf-objects (host-agent/scripts/gen-object-fixtures.ts)",
    toolchain,
    kernel: kernel.abi,
    commonHeaderSha256: sha256(COMMON_HEADER),
    objects,
  };
  await writeFile(`${outDir}manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`wrote ${outDir}manifest.json (${toolchain.clang}; ${toolchain.bpftool})`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
