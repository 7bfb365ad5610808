import { z } from "zod";
import { type Tunable, TunablesSchema } from "../metadata.js";
import { WORKLOAD_CLASSES } from "../workload-classes.js";
import { BPF_SOURCES } from "./sources.js";

/*
 * The project's own sched_ext policies, in BPF C beside this file, and what the policy
 * repository says about each. The control plane seeds its repository from BUILTIN_POLICIES;
 * the verifier compiles every policy with COMMON_HEADER on the include path. Pure data: it runs
 * in the Worker, in Node and in tests alike (the C text comes from the generated sources.ts).
 */

/** The workload classes of the analysis, as tags a policy's use cases carry. */
export const WorkloadTagSchema = z.enum(WORKLOAD_CLASSES);
export type WorkloadTag = z.infer<typeof WorkloadTagSchema>;

export const BuiltinPolicySchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/),
  description: z.string().min(1),
  algorithm: z.string().min(1),
  useCases: z.array(WorkloadTagSchema).min(1),
  /**
   * The repository's own tunable schema: an `int` has inclusive bounds, a `bool` none (its
   * 0 or 1 in C is defines.ts's business). Each reaches the C source as `tunableMacro(name)`.
   */
  tunables: TunablesSchema,
  limitations: z.string().min(1),
  /** `struct sched_ext_ops.name`: what `/sys/kernel/sched_ext/root/ops` shows while it runs. */
  opsName: z.string().regex(/^[a-z0-9_]{1,31}$/),
  /** The BPF C source; it includes "common.h" (COMMON_HEADER) and the kernel's vmlinux.h. */
  source: z.string().min(1),
});
export type BuiltinPolicy = z.infer<typeof BuiltinPolicySchema>;

function source(file: string): string {
  const text = BPF_SOURCES[file];
  if (text === undefined) throw new Error(`no BPF source ${file} (run npm run gen:bpf)`);
  return text;
}

/** edgekernel's BPF header, which every policy includes as "common.h". */
export const COMMON_HEADER: string = source("common.h");

const slice = (defaultUs: number, maxUs: number): Tunable => ({
  name: "slice_us",
  type: "int",
  default: defaultUs,
  min: 100,
  max: maxUs,
  description: "Time slice a task runs before another may take its CPU, in microseconds.",
});

/** The built-in policies, in the order the repository lists them. */
export const BUILTIN_POLICIES: readonly BuiltinPolicy[] = [
  {
    name: "fifo",
    description:
      "Global first-in, first-out: one shared queue for the whole machine; a waking task goes straight to an idle CPU when there is one.",
    algorithm:
      "select_cpu uses the kernel's idle-CPU picker and inserts into that CPU's local queue when it is idle; enqueue appends every other task to one shared dispatch queue; dispatch moves the head of the shared queue to the CPU that ran dry. Every task gets the same slice.",
    useCases: ["cpu-bound-batch", "idle"],
    tunables: [slice(20_000, 1_000_000)],
    limitations:
      "No priorities: nice values and weights are ignored. One shared queue is a point of contention on machines with many CPUs. Interactive tasks wait behind CPU hogs for up to a slice each.",
    opsName: "ek_fifo",
    source: source("fifo.bpf.c"),
  },
  {
    name: "wvtime",
    description:
      "Weighted virtual-time fair scheduler: CPU time in proportion to each task's weight (nice), with a bounded head start for tasks that slept.",
    algorithm:
      "Each task's virtual time grows by the CPU time it used times 100 divided by its weight; runnable tasks wait in one queue ordered by virtual time (smallest first). The scheduler's clock follows the virtual time of the running tasks; a waking task's virtual time is raised to at least clock - lag_us, so sleeping earns at most lag_us of credit.",
    useCases: ["mixed", "cpu-bound-batch", "io-bound"],
    tunables: [
      slice(20_000, 1_000_000),
      {
        name: "lag_us",
        type: "int",
        default: 20_000,
        min: 0,
        max: 10_000_000,
        description:
          "Largest virtual-time credit a waking task keeps over the running ones, in microseconds: more favours tasks that sleep, 0 makes them queue behind the current clock.",
      },
    ],
    limitations:
      "One global queue (no per-CPU or per-NUMA-node queues, no cache affinity beyond the idle-CPU picker). Fairness is between tasks, not between cgroups. The clock is updated without atomics, so it can lag a little under heavy contention.",
    opsName: "ek_wvtime",
    source: source("wvtime.bpf.c"),
  },
  {
    name: "latency",
    description:
      "Latency-oriented: short slices, and tasks that wake often and run briefly are dispatched first.",
    algorithm:
      "Each task keeps a moving average of how long it runs per turn (task-local storage). A runnable task is queued by a deadline, now + min(average, max_run_us), halved on wake-up when wakeup_boost is on; the queue is ordered by deadline. Short-running interactive tasks get near deadlines and overtake CPU hogs, which still run once their deadline comes, so nothing starves.",
    useCases: ["latency-sensitive", "mixed", "io-bound"],
    tunables: [
      slice(3_000, 100_000),
      {
        name: "max_run_us",
        type: "int",
        default: 10_000,
        min: 100,
        max: 1_000_000,
        description:
          "Cap of the run-time average used in a deadline, in microseconds: how far behind newcomers a CPU hog can be pushed.",
      },
      {
        name: "wakeup_boost",
        type: "bool",
        default: true,
        description: "Halve the deadline distance of a task that is waking up.",
      },
    ],
    limitations:
      "Short slices cost more context switches, so throughput of CPU-bound batch work drops. Weights (nice) are ignored. One global queue.",
    opsName: "ek_latency",
    source: source("latency.bpf.c"),
  },
];

/** A built-in by name, or undefined. */
export function builtinPolicy(name: string): BuiltinPolicy | undefined {
  return BUILTIN_POLICIES.find((policy) => policy.name === name);
}

/** A built-in's default parameters, as a deploy or verify job carries them. */
export function defaultParameters(policy: BuiltinPolicy): Record<string, number | boolean> {
  return Object.fromEntries(policy.tunables.map((t) => [t.name, t.default]));
}
