/**
 * The built-in policies the repository seeds: the project's BPF C library (`./bpf/catalog.ts`),
 * each policy proven in the verifier's VM by `npm run test:kernel`.
 */

import { BUILTIN_POLICIES } from "./bpf/catalog.js";
import type { CatalogEntry } from "./catalog-types.js";

/**
 * The library as the repository's metadata reads it. The only difference is how a bool
 * tunable is written: the C side states its range as 0..1 (it is a `-D` integer there), the
 * repository's metadata gives a bool no bounds.
 */
export const BUILTIN_CATALOG: readonly CatalogEntry[] = BUILTIN_POLICIES.map((p) => ({
  ...p,
  useCases: [...p.useCases],
  tunables: p.tunables.map((t) =>
    t.type === "bool"
      ? { name: t.name, type: t.type, default: t.default, description: t.description }
      : { ...t },
  ),
}));
