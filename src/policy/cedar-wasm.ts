/**
 * Cedar's WebAssembly build, loaded the Workers way. The package ships three builds: `esm`
 * (for bundlers with WebAssembly ESM integration: it does `import * as wasm from "….wasm"` and
 * expects the instance's exports, which workerd does not give), `nodejs` (reads the file with
 * `fs`) and `web` (instantiates whatever it is handed). workerd imports a `.wasm` file as a
 * compiled `WebAssembly.Module`, so the `web` glue plus `initSync` with that module works in
 * `wrangler dev`/deploy (esbuild) and in vitest-pool-workers alike. Nothing is fetched, and
 * runtime compilation from bytes (which workerd forbids) is never needed.
 *
 * The `.wasm` file is reached by a relative path because the package's `exports` map publishes
 * only its JS entry points; the `?module` suffix makes TypeScript use the ambient declaration
 * in `wasm-module.d.ts` instead of the wasm-bindgen `.d.ts` beside the file.
 *
 * Only `index.ts` imports this file: the rest of `src/policy/` takes the Cedar functions as a
 * parameter, so the benchmark can run the same code on the Node build.
 */

import * as cedar from "@cedar-policy/cedar-wasm/web";
import compiled from "../../node_modules/@cedar-policy/cedar-wasm/web/cedar_wasm_bg.wasm?module";
import type { Cedar } from "./cedar.js";

let ready = false;

/**
 * The Cedar functions, instantiated on first use (once per isolate), so requests that never
 * reach policy (health checks, reads) do not pay for the instance at cold start.
 *
 * @example workerdCedar().statefulIsAuthorized(call)
 */
export function workerdCedar(): Cedar {
  if (!ready) {
    cedar.initSync({ module: compiled });
    ready = true;
  }
  return cedar;
}
