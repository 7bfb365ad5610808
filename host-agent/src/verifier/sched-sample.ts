/*
 * Evidence that tasks ran under the BPF scheduler: `/proc/PID/sched` says `ext.enabled 1`
 * (the task is in the sched_ext class) and `se.sum_exec_runtime` (ms of CPU) grew between
 * two samples while it was. Pure.
 */

/** One task in one sample. */
export interface ExtSample {
  pid: number;
  extEnabled: boolean;
  runtimeMs: number;
}

/**
 * Parses `grep -H -E '^(ext.enabled|se.sum_exec_runtime) ' /proc/PID/sched …` output.
 *
 * @example
 * parseExtSamples("/proc/7/sched:ext.enabled   :   1\n/proc/7/sched:se.sum_exec_runtime   :   12.5\n")
 * // [{ pid: 7, extEnabled: true, runtimeMs: 12.5 }]
 */
export function parseExtSamples(text: string): ExtSample[] {
  const byPid = new Map<number, ExtSample>();
  for (const line of text.split("\n")) {
    const match =
      /^\/proc\/(\d+)\/sched:(ext\.enabled|se\.sum_exec_runtime)\s*:\s*([\d.]+)\s*$/.exec(
        line.trim(),
      );
    if (match === null) continue;
    const pid = Number(match[1]);
    const sample = byPid.get(pid) ?? { pid, extEnabled: false, runtimeMs: 0 };
    if (match[2] === "ext.enabled") sample.extEnabled = match[3] === "1";
    else sample.runtimeMs = Number(match[3]);
    byPid.set(pid, sample);
  }
  return [...byPid.values()].sort((a, b) => a.pid - b.pid);
}

/** Counts the tasks seen making progress in the sched_ext class across samples. */
export class ScheduledTasks {
  readonly #last = new Map<number, ExtSample>();
  readonly #ran = new Set<number>();

  add(samples: readonly ExtSample[]): void {
    for (const sample of samples) {
      const before = this.#last.get(sample.pid);
      if (before?.extEnabled === true && sample.extEnabled && sample.runtimeMs > before.runtimeMs) {
        this.#ran.add(sample.pid);
      }
      this.#last.set(sample.pid, sample);
    }
  }

  count(): number {
    return this.#ran.size;
  }
}
