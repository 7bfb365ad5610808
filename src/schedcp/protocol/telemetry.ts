import { z } from "zod";

/*
 * What a host-agent reports about its node: facts when it connects, telemetry at an interval.
 * Part of the wire protocol: host-agent builds these, the control plane validates them with the
 * very same definitions.
 */

/** The values `/sys/kernel/sched_ext/state` can hold (`scx_enable_state_str` in the kernel). */
export const SCHED_EXT_STATES = ["enabling", "enabled", "disabling", "disabled"] as const;
export type SchedExtState = (typeof SCHED_EXT_STATES)[number];

const count = z.int().nonnegative();
const percent = z.number().min(0).max(100);

/** A file the agent could not read or understand. */
export const WarningSchema = z.object({ source: z.string(), message: z.string() });

/** One CPU's place in the machine: which socket (package) and which core within it. */
export const CpuTopologySchema = z.object({
  cpu: count,
  /** `null` when the platform gives no id (sysfs prints -1) or the file is missing. */
  packageId: count.nullable(),
  coreId: count.nullable(),
});

/** Static facts about a node, reported when it connects. */
export const NodeFactsSchema = z.object({
  hostname: z.string().nullable(),
  kernelRelease: z.string().nullable(),
  schedExt: z.object({
    /** Whether the kernel was built with sched_ext (`/sys/kernel/sched_ext` exists). */
    supported: z.boolean(),
    state: z.enum(SCHED_EXT_STATES).nullable(),
    /** Name of the loaded BPF scheduler (`root/ops`); `null` when none is loaded. */
    ops: z.string().nullable(),
    /** How many times a BPF scheduler has been enabled since boot (`enable_seq`). */
    enableSeq: count.nullable(),
  }),
  cpus: z
    .object({
      /** Online CPUs in the kernel's list format, e.g. `0-3,6`. */
      onlineList: z.string(),
      onlineCount: count,
      /** Distinct sockets among online CPUs with a known package id. */
      packageCount: count,
      /** Distinct (package, core) pairs among online CPUs with known ids. */
      coreCount: count,
      topology: z.array(CpuTopologySchema),
    })
    .nullable(),
  memory: z
    .object({
      totalBytes: count,
      freeBytes: count,
      availableBytes: count.nullable(),
      swapTotalBytes: count.nullable(),
      swapFreeBytes: count.nullable(),
    })
    .nullable(),
  warnings: z.array(WarningSchema),
});
export type NodeFacts = z.infer<typeof NodeFactsSchema>;

/**
 * Where CPU time went over the interval, in percent of the time available. `busyPct` is
 * everything but idle and iowait, steal included (the tenant could not use that time either);
 * the breakdown fields sum to 100.
 */
export const CpuUtilisationSchema = z.object({
  busyPct: percent,
  /** user + nice */
  userPct: percent,
  /** system + irq + softirq */
  systemPct: percent,
  iowaitPct: percent,
  idlePct: percent,
  stealPct: percent,
});
export type CpuUtilisation = z.infer<typeof CpuUtilisationSchema>;

/** One PSI line: the kernel's own averages plus the stall share measured over our interval. */
export const PressureReportLineSchema = z.object({
  avg10Pct: percent,
  avg60Pct: percent,
  avg300Pct: percent,
  totalUs: count,
  /** Stall time over the sampling interval, from the `total` delta; `null` without two samples. */
  intervalPct: percent.nullable(),
});

/** Workload telemetry over one sampling interval. */
export const TelemetryReportSchema = z.object({
  /** Time between the two samples, by the agent's monotonic clock. */
  intervalMs: z.number().nonnegative(),
  cpu: z
    .object({
      total: CpuUtilisationSchema,
      perCpu: z.array(CpuUtilisationSchema.extend({ cpu: count })),
    })
    .nullable(),
  pressure: z
    .object({
      some: PressureReportLineSchema,
      full: PressureReportLineSchema.nullable(),
    })
    .nullable(),
  runQueue: z
    .object({
      /** Mean wait for a CPU per timeslice run, all CPUs together. */
      meanRunDelayUs: z.number().nonnegative().nullable(),
      timeslices: count,
      perCpu: z.array(
        z.object({
          cpu: count,
          meanRunDelayUs: z.number().nonnegative().nullable(),
          timeslices: count,
        }),
      ),
    })
    .nullable(),
  loadAvg: z
    .object({
      load1: z.number().nonnegative(),
      load5: z.number().nonnegative(),
      load15: z.number().nonnegative(),
      runnableTasks: count,
      totalTasks: count,
    })
    .nullable(),
  contextSwitches: z
    .object({
      count,
      perSec: z.number().nonnegative().nullable(),
    })
    .nullable(),
  topProcesses: z
    .array(
      z.object({
        pid: count,
        name: z.string(),
        /** CPU time used over the interval in ticks (USER_HZ), user + system. */
        cpuTicks: count,
        /** Share of one CPU, as `top` shows it: 200 means two CPUs' worth. */
        cpuPct: z.number().nonnegative().nullable(),
      }),
    )
    .nullable(),
  warnings: z.array(WarningSchema),
});
export type TelemetryReport = z.infer<typeof TelemetryReportSchema>;
