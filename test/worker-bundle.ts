// Bundles the Worker (src/index.ts) into one ES module for the workerd test pool
// (vitest.config.mts builds it once per run, and again on a change under src/ in watch mode).
//
// Why: the pool starts a fresh workerd isolate per test file and loads the Worker's entry there.
// Unbundled, that is ~725 modules fetched one by one through Vite's module runner, which made
// per-file setup the larger part of `npm test`. One file, built by esbuild the way `wrangler
// deploy` bundles it, loads in a fraction of that. Tests still import src/ modules directly for
// their helpers and pure functions; only the Worker that serves SELF and the Durable Objects comes
// from the bundle.

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the bundle goes (git-ignored); one level below the root, for the wasm path below. */
export const TEST_WORKER_PATH = resolve(ROOT, ".test-build/worker.mjs");
// src/policy/cedar-wasm.ts imports Cedar's WebAssembly as a module relative to its own file;
// from the bundle's directory the same file is one level up.
const CEDAR_WASM = "../node_modules/@cedar-policy/cedar-wasm/web/cedar_wasm_bg.wasm?module";

/**
 * Builds the bundle and resolves with its path.
 * @example const main = await buildTestWorker(); // ".../.test-build/worker.mjs"
 */
export async function buildTestWorker(): Promise<string> {
  mkdirSync(dirname(TEST_WORKER_PATH), { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: ["src/index.ts"],
    outfile: TEST_WORKER_PATH,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    // A source map quadruples the file every test file loads; set EK_TEST_SOURCEMAP=1 when a
    // stack trace from inside the Worker should point at src/ instead of the bundle.
    sourcemap: process.env.EK_TEST_SOURCEMAP ? "inline" : false,
    logLevel: "error",
    plugins: [
      {
        name: "cedar-wasm-module",
        setup(b) {
          b.onResolve({ filter: /\.wasm\?module$/ }, () => ({ path: CEDAR_WASM, external: true }));
        },
      },
    ],
  });
  return TEST_WORKER_PATH;
}
