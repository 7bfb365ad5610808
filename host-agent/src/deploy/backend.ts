import type { Deployable, SpawnedProcess } from "./types.js";

/*
 * A deploy backend knows how to put one kind of artifact into the kernel and take it out:
 * a BPF object through bpftool, an operator-installed scx binary as a child process, or
 * (dry-run) neither, saying what it would do. The deployer owns the state machine; a backend
 * only loads, unloads and checks.
 */

/** What a backend keeps about something it loaded. */
export interface LoadedHandle {
  assignmentId: string;
  /** What `root/ops` shows while it runs (an scx binary's may be a prefix), or null if unknown. */
  opsName: string | null;
  /** The pinned link directory of a BPF object. */
  linkDir: string | null;
  /** The child process of an scx binary. */
  process: SpawnedProcess | null;
  /** The argv that started it, for logs. */
  command: readonly string[];
}

export type LoadOutcome =
  | { ok: true; handle: LoadedHandle; log: string | null }
  | {
      ok: false;
      reason: string;
      log: string | null;
      /** It registered, then the kernel disabled it (its init failed, or the watchdog). */
      ejected?: boolean;
    };

export type UnloadOutcome = { ok: true } | { ok: false; reason: string; log: string | null };

export type CheckOutcome =
  | { running: true }
  | { running: false; reason: string; log: string | null };

export interface Backend {
  load(deployable: Deployable, artifactPath: string | null): Promise<LoadOutcome>;
  unload(handle: LoadedHandle): Promise<UnloadOutcome>;
  /** Whether it still runs; when not, the kernel's (or the process's) reason. */
  check(handle: LoadedHandle): Promise<CheckOutcome>;
  /** After an ejection: removes what is left (a pinned link, a process) so the next load works. */
  cleanup(handle: LoadedHandle): Promise<void>;
}

/** Keeps the first `maxChars` of a text, marking the cut. */
export function trimText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const marker = `\n[… ${text.length - maxChars} chars trimmed]`;
  return text.slice(0, Math.max(0, maxChars - marker.length)) + marker;
}
