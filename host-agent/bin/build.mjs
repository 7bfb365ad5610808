// Bundles src/cli.ts into dist/cli.js with esbuild: the wire protocol lives in the control
// plane's src/schedcp/ (one definition for both ends), which only a bundle can place inside
// dist/. Run by `npm install` at the repository root (its `prepare` script), by `npm run build`,
// and by the launcher when dist/cli.js is missing or older than its sources.
//
// zod and ws are bundled too: tree-shaken, zod costs the running agent about 5 MiB of memory
// instead of about 14 MiB imported whole (measured with VmRSS), which matters for the agent's
// 60 MiB budget. Only ws's optional native add-ons stay external (ws runs without them).

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = new URL(".", import.meta.url);
export const ENTRY = fileURLToPath(new URL("../src/cli.ts", HERE));
export const OUTFILE = fileURLToPath(new URL("../dist/cli.js", HERE));
/** What the bundle is built from: the agent's sources and the shared protocol and signing code. */
const SOURCES = [
  fileURLToPath(new URL("../src", HERE)),
  fileURLToPath(new URL("../../src/schedcp", HERE)),
];

/** Newest modification time (ms) of the .ts files under `dir`, 0 when there is none. */
function newestMtimeMs(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Whether `outfile` is missing or older than a source it is built from (so a checkout that
 * changed the sources never runs an old bundle).
 *
 * @example if (isStale()) await buildBundle()
 */
export function isStale(outfile = OUTFILE) {
  let builtMs;
  try {
    builtMs = statSync(outfile).mtimeMs;
  } catch {
    return true;
  }
  return SOURCES.some((dir) => newestMtimeMs(dir) > builtMs);
}

/**
 * Builds the bundle into `outfile` (default dist/cli.js). esbuild is a development dependency:
 * an install without it gets a message saying what to run instead.
 *
 * @example await buildBundle() // dist/cli.js
 */
export async function buildBundle(outfile = OUTFILE) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    throw new Error(
      "edgekernel-host: dist/cli.js is missing and esbuild is not installed; run `npm install` in the repository",
    );
  }
  await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["bufferutil", "utf-8-validate"],
    // ws is CommonJS: its `require` calls of Node's built-ins need a real `require` in ESM.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    // Whitespace and syntax only: identifiers stay readable in stack traces. The source text is
    // held in memory by V8, so a smaller bundle is a smaller agent (about 1.5 MiB of VmRSS).
    minifyWhitespace: true,
    minifySyntax: true,
    outfile,
    logLevel: "warning",
  });
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildBundle(process.argv[2]);
}
