/** Resident memory of processes, from /proc (Linux): VmRSS of one pid, or of a process group. */

import { readdirSync, readFileSync } from "node:fs";

/** VmRSS of `pid` in bytes, or null when it is gone. */
export function vmRssBytes(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/** The pids in process group `pgid` whose command name is `comm`. */
export function groupMembers(pgid: number, comm: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid pgrp …: comm may hold spaces, so split after the last ')'.
      const open = stat.indexOf("(");
      const close = stat.lastIndexOf(")");
      const fields = stat.slice(close + 2).split(" ");
      if (stat.slice(open + 1, close) === comm && Number(fields[2]) === pgid)
        pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** Summed VmRSS (bytes) of the `comm` processes in group `pgid`. */
export function groupRssBytes(pgid: number, comm: string): number {
  return groupMembers(pgid, comm).reduce((sum, pid) => sum + (vmRssBytes(pid) ?? 0), 0);
}
