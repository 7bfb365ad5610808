/**
 * The shape of the built-in policy catalog: one entry per scheduler policy the project ships
 * in BPF C. The catalog itself (`src/schedcp/bpf/catalog.ts`, with the C sources) is seeded
 * into the policy repository on first use (see `src/store/sched-policies.ts`).
 */

export interface CatalogEntry {
  name: string;
  description: string;
  algorithm: string;
  useCases: string[];
  tunables: Array<{
    name: string;
    type: "int" | "bool";
    default: number | boolean;
    min?: number;
    max?: number;
    description: string;
  }>;
  limitations: string;
  opsName: string;
  source: string;
}
