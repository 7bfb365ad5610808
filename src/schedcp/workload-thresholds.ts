/**
 * The named thresholds the workload analysis compares its signals with. Each says where its
 * value comes from; the evidence in a profile cites them by name.
 */

/**
 * Below this share of CPU time busy, a machine is idle: AWS Trusted Advisor's "low utilization"
 * check flags instances whose daily CPU stays at or under 10%.
 */
export const IDLE_BUSY_PCT_MAX = 10;
/**
 * Load per CPU under which almost nothing is runnable or blocked: 0.2 tasks per CPU on average
 * (loadavg counts runnable and D-state tasks, kernel/sched/loadavg.c). Project choice, paired
 * with the 10% busy cut-off above.
 */
export const IDLE_LOAD_PER_CPU_MAX = 0.2;
/**
 * From this utilisation the CPU is the bottleneck: an M/M/1 queue's mean wait is ρ/(1-ρ)
 * service times, 4× at 80%, and grows without bound past it.
 */
export const SATURATED_BUSY_PCT = 80;
/**
 * I/O wait (idle time with I/O outstanding, proc(5)) from which the workload is I/O-bound:
 * a tenth of all CPU time spent waiting on storage. Project choice: an order of magnitude over
 * the ~1% a compute host shows.
 */
export const IO_BOUND_IOWAIT_PCT = 10;
/**
 * Load per CPU from which, with the CPUs under half busy, the load must be made of tasks
 * blocked in D state (uninterruptible I/O), since loadavg counts those as well as runnable ones.
 */
export const IO_BOUND_LOAD_PER_CPU = 1;
/** See IO_BOUND_LOAD_PER_CPU: at most half the load can be running tasks below this. */
export const IO_BOUND_BUSY_PCT_MAX = 50;
/**
 * PSI `cpu some` share from which tasks contend for CPUs. Documentation/accounting/psi.rst's
 * example monitor fires at 150 ms of stall per 1 s window (15%); we call 10% contended, so the
 * class turns before such a monitor would fire.
 */
export const PSI_SOME_CONTENDED_PCT = 10;
/**
 * Mean wait for a CPU per timeslice (/proc/schedstat run_delay/pcount) from which tasks
 * contend: one EEVDF base slice (sysctl_sched_base_slice, 0.75 ms in kernel/sched/fair.c).
 */
export const RUN_DELAY_CONTENDED_US = 750;
/**
 * Context switches per second per CPU under which tasks run until preempted by the tick
 * rather than waking and sleeping: a CPU-bound task is preempted at most once per tick, 250/s
 * at Debian's CONFIG_HZ=250, so under 500 the switches are mostly tick preemption.
 */
export const CSW_PER_CPU_BATCH_MAX = 500;
/**
 * Context switches per second per CPU from which switching is wakeup-driven: twice the tick
 * rate of CONFIG_HZ=1000, more than any tick can cause, so tasks sleep and wake (request
 * handlers, interactive programs).
 */
export const CSW_PER_CPU_LATENCY_MIN = 2_000;
/**
 * Mean time on CPU per timeslice from which tasks run until preempted: one tick at
 * CONFIG_HZ=250 (4 ms).
 */
export const SLICE_BATCH_MIN_US = 4_000;
/**
 * Mean time on CPU per timeslice under which tasks block before any slice would end: EEVDF's
 * base slice (0.75 ms).
 */
export const SLICE_LATENCY_MAX_US = 750;
/** A process using this share of one CPU or more (as `top` shows it) is CPU-bound. */
export const HOG_CPU_PCT = 90;
/**
 * Share of all busy CPU time held by the top processes from which a few programs dominate the
 * machine (a build, a training job). Project choice: well over half.
 */
export const TOP_SHARE_DOMINANT = 0.6;
/** How many of the top processes (by name) count towards TOP_SHARE_DOMINANT. */
export const TOP_PROCESSES_COUNTED = 3;
/** Share of the votes for one side that decides batch or latency; between is mixed. */
export const VOTE_SHARE_DECISIVE = 2 / 3;
/** Reports in a window for full confidence; fewer scale it down linearly. */
export const FULL_CONFIDENCE_REPORTS = 5;
/** Share of a group's (non-idle) CPUs that must agree on a class; otherwise the group is mixed. */
export const GROUP_AGREEMENT_MIN = 2 / 3;

/** Every threshold by name, as the evidence cites them. */
export const WORKLOAD_THRESHOLDS = {
  IDLE_BUSY_PCT_MAX,
  IDLE_LOAD_PER_CPU_MAX,
  SATURATED_BUSY_PCT,
  IO_BOUND_IOWAIT_PCT,
  IO_BOUND_LOAD_PER_CPU,
  IO_BOUND_BUSY_PCT_MAX,
  PSI_SOME_CONTENDED_PCT,
  RUN_DELAY_CONTENDED_US,
  CSW_PER_CPU_BATCH_MAX,
  CSW_PER_CPU_LATENCY_MIN,
  SLICE_BATCH_MIN_US,
  SLICE_LATENCY_MAX_US,
  HOG_CPU_PCT,
  TOP_SHARE_DOMINANT,
} as const;
export type ThresholdName = keyof typeof WORKLOAD_THRESHOLDS;
