import { posix } from "node:path";
import { SCHED_EXT_STATES, type SchedExtState } from "../protocol.js";
import type { Executor } from "./types.js";

/*
 * The kernel's sched_ext state as the deploy path sees it, read through an Executor (this
 * node's /sys, or the guest VM's), and the kernel's own account of why a scheduler left.
 */

/** `<sys>/kernel/sched_ext`: whether the kernel has sched_ext, its state and loaded ops. */
export interface SchedExtStatus {
  supported: boolean;
  state: SchedExtState | null;
  /** `root/ops`; null when no BPF scheduler is loaded. */
  ops: string | null;
}

/**
 * Reads the sched_ext state under `sysRoot`.
 *
 * @example
 * const status = await readSchedExtStatus(new LocalExecutor(), "/sys");
 * // { supported: true, state: "enabled", ops: "ek_fifo" }
 */
export async function readSchedExtStatus(
  executor: Executor,
  sysRoot: string,
): Promise<SchedExtStatus> {
  const dir = posix.join(sysRoot, "kernel", "sched_ext");
  const stateText = await executor.readText(posix.join(dir, "state"));
  if (stateText === null) return { supported: false, state: null, ops: null };
  const value = stateText.trim();
  const state = SCHED_EXT_STATES.find((known) => known === value) ?? null;
  const opsText = await executor.readText(posix.join(dir, "root", "ops"));
  const ops = opsText === null || opsText.trim() === "" ? null : opsText.trim();
  return { supported: true, state, ops };
}

/** How long to wait for the kernel to settle, and how to wait. */
export interface SettleOptions {
  timeoutMs: number;
  pollMs?: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

/**
 * Polls until `accept(status)` or the timeout; returns the last status either way.
 *
 * @example
 * const s = await waitForSchedExt(exec, "/sys", (s) => s.state === "disabled", settle);
 */
export async function waitForSchedExt(
  executor: Executor,
  sysRoot: string,
  accept: (status: SchedExtStatus) => boolean,
  options: SettleOptions,
): Promise<{ status: SchedExtStatus; accepted: boolean }> {
  const deadline = options.now() + options.timeoutMs;
  for (;;) {
    const status = await readSchedExtStatus(executor, sysRoot);
    if (accept(status)) return { status, accepted: true };
    if (options.now() >= deadline) return { status, accepted: false };
    await options.sleep(options.pollMs ?? 100);
  }
}

/** The lines of `dmesg` that concern sched_ext, oldest first, at most `maxLines`. */
export function schedExtKernelLines(dmesg: string, maxLines = 40): string[] {
  return dmesg
    .split("\n")
    .filter((line) => /sched_ext|scx_/.test(line))
    .slice(-maxLines);
}

/**
 * The kernel's reason for taking `opsName` off, from its sched_ext dmesg lines: the
 * `BPF scheduler "NAME" disabled (REASON)` line when there is one, else the last such line.
 *
 * @example
 * ejectionReasonFrom(['sched_ext: BPF scheduler "stall" disabled (runnable task stall)'], "stall")
 * // "runnable task stall"
 */
export function ejectionReasonFrom(
  lines: readonly string[],
  opsName: string | null,
): string | null {
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const match = /BPF scheduler "([^"]*)" disabled \((.*)\)\s*$/.exec(lines[i] ?? "");
    if (match !== null && (opsName === null || match[1] === opsName)) return match[2] ?? null;
  }
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const line = (lines[i] ?? "").replace(/^\[[^\]]*\]\s*/, "").trim();
    if (line !== "") return line;
  }
  return null;
}

/** What `dmesg` says about sched_ext now (empty when dmesg cannot be read). */
export async function readSchedExtKernelLog(executor: Executor): Promise<string[]> {
  const result = await executor.run(["dmesg"], { timeoutMs: 10_000 });
  return result.code === 0 ? schedExtKernelLines(result.stdout) : [];
}
