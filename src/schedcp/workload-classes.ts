/**
 * The workload classes the analysis in workload.ts tells apart, and the use-case tags that
 * match policies to each.
 */

export const WORKLOAD_CLASSES = [
  "cpu-bound-batch",
  "latency-sensitive",
  "mixed",
  "io-bound",
  "idle",
] as const;
export type WorkloadClass = (typeof WORKLOAD_CLASSES)[number];

/**
 * Use-case tags that mean each class, the class's own name first. Policies are matched to a
 * class by these (search `workload=` filter, recommendations).
 */
export const CLASS_TAGS: Readonly<Record<WorkloadClass, readonly string[]>> = {
  "cpu-bound-batch": ["cpu-bound-batch", "batch", "throughput", "hpc", "compute", "cpu-bound"],
  "latency-sensitive": [
    "latency-sensitive",
    "latency",
    "low-latency",
    "interactive",
    "request-serving",
    "web",
    "desktop",
    "gaming",
  ],
  mixed: ["mixed", "fair", "fairness", "general-purpose", "multi-tenant"],
  "io-bound": ["io-bound", "io", "storage", "database"],
  idle: ["idle", "power", "energy-saving"],
};
