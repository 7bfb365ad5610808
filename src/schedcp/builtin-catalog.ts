/**
 * The built-in policies the repository seeds. Until the `kernel` branch's catalog
 * (`./bpf/catalog.ts`, the project's BPF C library proven in the verifier's VM) is merged, the
 * stand-in catalog fills this place; after the merge this line points there.
 */

export { STANDIN_CATALOG as BUILTIN_CATALOG } from "./standin-catalog.js";
