import type { TelemetryReport } from "../protocol.js";
import type { Backend, LoadedHandle } from "./backend.js";
import { trimText } from "./backend.js";
import { createBpfBackend, DEFAULT_BPFFS_DIR, DEFAULT_REGISTER_TIMEOUT_MS } from "./bpf-backend.js";
import { createDryRunBackend } from "./dry-run.js";
import { BASELINE_REPORTS, describeTrip, GuardWatch } from "./guards.js";
import type { SettleOptions } from "./sched-ext.js";
import {
  createScxBackend,
  DEFAULT_SCX_START_TIMEOUT_MS,
  DEFAULT_SCX_STOP_GRACE_MS,
  type ScxAllowList,
} from "./scx-backend.js";
import type { Deployable, Deployer, Executor, RefusalCode, Running, Transition } from "./types.js";

/*
 * The deploy module's state machine: what runs, what ran before it, and the transitions
 * between them. One operation at a time (apply, revert, observe, poll are queued), so a guard
 * trip and a command revert cannot both unload the same scheduler.
 */

/** How many earlier policies are kept to fall back to, newest first. */
export const MAX_PREVIOUS = 4;
/** A transition's reason is cut to this many chars (DeployStatus's limit). */
export const MAX_REASON_CHARS = 4_096;
/** A transition's log is cut to this many chars (FLEET_LIMITS.maxLogChars). */
export const MAX_TRANSITION_LOG_CHARS = 65_536;
/** Polling interval of the sched_ext watcher unless the options say otherwise. */
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** How long to wait for the kernel to reach `enabled` or `disabled` after a step. */
export const DEFAULT_SETTLE_TIMEOUT_MS = 10_000;

export interface DeployerOptions {
  /** Runs the commands: LocalExecutor on a node, GuestExecutor in the verifier's VM. */
  executor: Executor;
  /** Where sysfs is, as the executor sees it (default `/sys`). */
  sysRoot?: string;
  /** bpffs directory for pinned links (default `/sys/fs/bpf/edgekernel`). */
  bpffsDir?: string;
  /** scx binaries this node may run (default none). */
  scxAllowList?: ScxAllowList;
  /** Say what would run, run nothing (default false). */
  dryRun?: boolean;
  /** Polls sched_ext on a timer every this many ms; 0 leaves polling to the caller (default 1000). */
  pollIntervalMs?: number;
  registerTimeoutMs?: number;
  settleTimeoutMs?: number;
  scxStartTimeoutMs?: number;
  scxStopGraceMs?: number;
  /** One line per action (dry-run's "would run" lines among them). */
  log?: (line: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Replaces the backend chosen from `dryRun` and the artifact kind (tests). */
  backends?: Partial<Record<"bpf-object" | "scx-binary", Backend>>;
}

interface Entry {
  deployable: Deployable;
  artifactPath: string | null;
  handle: LoadedHandle;
  guards: GuardWatch;
}

/** The deployer, with the refusal reporter the node's assignment path uses. */
export interface NodeDeployer extends Deployer {
  /** Reports an assignment refused before anything loaded (bad signature, expired, …). */
  refuse(deployable: Deployable, code: RefusalCode, message: string): Transition;
}

/**
 * Creates the deploy module for one machine.
 *
 * @example
 * const deployer = createDeployer({ executor: new LocalExecutor(), dryRun: true, log: console.log });
 * deployer.onTransition((t) => send({ type: "deploy-status", ...t }));
 * await deployer.apply(assignment, "/var/lib/edgekernel/artifacts/<sha256>.bpf.o");
 */
export function createDeployer(options: DeployerOptions): NodeDeployer {
  const sysRoot = options.sysRoot ?? "/sys";
  const bpffsDir = options.bpffsDir ?? DEFAULT_BPFFS_DIR;
  const allowList = options.scxAllowList ?? {};
  const dryRun = options.dryRun ?? false;
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const settle: SettleOptions = {
    timeoutMs: options.settleTimeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS,
    pollMs: 100,
    sleep,
    now,
  };
  const dry = dryRun ? createDryRunBackend({ sysRoot, bpffsDir, allowList, log }) : null;
  const backends: Record<"bpf-object" | "scx-binary", Backend> = {
    "bpf-object":
      options.backends?.["bpf-object"] ??
      dry ??
      createBpfBackend({
        executor: options.executor,
        sysRoot,
        bpffsDir,
        registerTimeoutMs: options.registerTimeoutMs ?? DEFAULT_REGISTER_TIMEOUT_MS,
        settle,
      }),
    "scx-binary":
      options.backends?.["scx-binary"] ??
      dry ??
      createScxBackend({
        executor: options.executor,
        sysRoot,
        allowList,
        startTimeoutMs: options.scxStartTimeoutMs ?? DEFAULT_SCX_START_TIMEOUT_MS,
        stopGraceMs: options.scxStopGraceMs ?? DEFAULT_SCX_STOP_GRACE_MS,
        settle,
      }),
  };
  const backendOf = (deployable: Deployable) => backends[deployable.artifact.kind];

  let current: Entry | null = null;
  /** Earlier policies, newest last. */
  const previous: Entry[] = [];
  const recentReports: TelemetryReport[] = [];
  const listeners: ((transition: Transition) => void)[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const running = (): Running | null =>
    current === null
      ? null
      : {
          assignmentId: current.deployable.assignmentId,
          policyId: current.deployable.payload.policyId,
          version: current.deployable.payload.version,
        };

  function emit(
    deployable: Deployable,
    state: Transition["state"],
    reason: string | null,
    logText: string | null = null,
  ): Transition {
    const transition: Transition = {
      assignmentId: deployable.assignmentId,
      policyId: deployable.payload.policyId,
      version: deployable.payload.version,
      state,
      reason: reason === null ? null : trimText(reason, MAX_REASON_CHARS),
      running: running(),
      dryRun,
      atMs: Math.max(0, Math.trunc(now())),
      log: logText === null || logText === "" ? null : trimText(logText, MAX_TRANSITION_LOG_CHARS),
    };
    log(`${transition.assignmentId} ${state}${reason === null ? "" : `: ${transition.reason}`}`);
    for (const listener of listeners) listener(transition);
    return transition;
  }

  function serialize<T>(operation: () => Promise<T>): Promise<T> {
    const next = queue.then(operation, operation);
    queue = next.catch(() => {});
    return next;
  }

  /** Loads the newest earlier policy that has not expired; reports one that fails to load. */
  async function restorePrevious(): Promise<Entry | null> {
    for (;;) {
      const candidate = previous.pop();
      if (candidate === undefined) return null;
      if (candidate.deployable.payload.expiresAtMs <= now()) {
        log(`${candidate.deployable.assignmentId} not restored: expired`);
        continue;
      }
      const loaded = await backendOf(candidate.deployable).load(
        candidate.deployable,
        candidate.artifactPath,
      );
      if (loaded.ok) {
        return { ...candidate, handle: loaded.handle, guards: new GuardWatch([], []) };
      }
      emit(candidate.deployable, "failed", `could not be restored: ${loaded.reason}`, loaded.log);
    }
  }

  /**
   * Takes `current` off (already gone for an ejection), falls back to the previous policy and
   * reports `state` for it, then `active` for what was restored.
   */
  async function takeOff(
    state: "stopped" | "reverted" | "ejected",
    reason: string,
    logText: string | null,
    alreadyGone: boolean,
  ): Promise<Transition> {
    const leaving = current;
    if (leaving === null) throw new Error("takeOff without a current policy");
    const backend = backendOf(leaving.deployable);
    if (alreadyGone) {
      await backend.cleanup(leaving.handle);
    } else {
      const unloaded = await backend.unload(leaving.handle);
      if (!unloaded.ok) {
        return emit(
          leaving.deployable,
          "failed",
          `could not unload: ${unloaded.reason}`,
          unloaded.log,
        );
      }
    }
    current = null;
    const restored = await restorePrevious();
    current = restored;
    const transition = emit(leaving.deployable, state, reason, logText);
    if (restored !== null) {
      emit(
        restored.deployable,
        "active",
        `restored after ${leaving.deployable.assignmentId} was ${state}`,
      );
    }
    return transition;
  }

  async function applyNow(
    deployable: Deployable,
    artifactPath: string | null,
  ): Promise<Transition> {
    if (current?.deployable.assignmentId === deployable.assignmentId) {
      return emit(deployable, "active", "already running");
    }
    if (deployable.payload.expiresAtMs <= now()) {
      return emit(deployable, "refused", "expired");
    }
    const guards = new GuardWatch(deployable.guards, recentReports);
    const replaced = current;
    if (replaced !== null) {
      const unloaded = await backendOf(replaced.deployable).unload(replaced.handle);
      if (!unloaded.ok) {
        return emit(
          deployable,
          "failed",
          `could not unload ${replaced.deployable.assignmentId}: ${unloaded.reason}`,
          unloaded.log,
        );
      }
      current = null;
    }
    const loaded = await backendOf(deployable).load(deployable, artifactPath);
    if (!loaded.ok) {
      if (replaced !== null) {
        const again = await backendOf(replaced.deployable).load(
          replaced.deployable,
          replaced.artifactPath,
        );
        if (again.ok) current = { ...replaced, handle: again.handle };
        else
          emit(replaced.deployable, "failed", `could not be restored: ${again.reason}`, again.log);
      }
      return emit(
        deployable,
        loaded.ejected === true ? "ejected" : "failed",
        loaded.reason,
        loaded.log,
      );
    }
    current = { deployable, artifactPath, handle: loaded.handle, guards };
    if (replaced !== null) {
      previous.push(replaced);
      if (previous.length > MAX_PREVIOUS) previous.shift();
      emit(replaced.deployable, "stopped", `replaced by ${deployable.assignmentId}`);
    }
    const baselines = guards.baselines();
    const baselineText = deployable.guards
      .map((guard, i) => `${guard.metric} baseline ${baselines[i] ?? "n/a"}`)
      .join(", ");
    return emit(
      deployable,
      "active",
      `${dryRun ? "dry-run: would load" : "loaded"} ${loaded.handle.command.join(" ")}${baselineText === "" ? "" : `; ${baselineText}`}`,
      loaded.log,
    );
  }

  async function pollNow(): Promise<Transition | null> {
    if (current === null) return null;
    const checked = await backendOf(current.deployable).check(current.handle);
    if (checked.running) return null;
    return takeOff("ejected", checked.reason, checked.log, true);
  }

  let timer: ReturnType<typeof setInterval> | null = null;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  if (pollIntervalMs > 0) {
    let polling = false;
    timer = setInterval(() => {
      // One timer poll at a time: a slow executor must not pile polls up in the queue.
      if (current === null || closed || polling) return;
      polling = true;
      serialize(pollNow)
        .catch((error: unknown) => log(`poll failed: ${String(error)}`))
        .finally(() => {
          polling = false;
        });
    }, pollIntervalMs);
    timer.unref?.();
  }

  return {
    dryRun,
    current: running,
    apply: (deployable, artifactPath) => serialize(() => applyNow(deployable, artifactPath)),
    revert: (reason, onlyAssignmentId = null) =>
      serialize(async () => {
        if (current === null) return null;
        if (onlyAssignmentId !== null && onlyAssignmentId !== current.deployable.assignmentId) {
          log(`revert for ${onlyAssignmentId} ignored: ${current.deployable.assignmentId} runs`);
          return null;
        }
        return takeOff("stopped", reason, null, false);
      }),
    observe: (report, atMs) =>
      serialize(async () => {
        recentReports.push(report);
        if (recentReports.length > BASELINE_REPORTS) recentReports.shift();
        if (current === null) return null;
        const trip = current.guards.observe(report, atMs);
        if (trip === null) return null;
        return takeOff("reverted", describeTrip(trip), null, false);
      }),
    poll: (_atMs) => serialize(pollNow),
    refuse: (deployable, code, message) => emit(deployable, "refused", `${code}: ${message}`),
    onTransition: (listener) => {
      listeners.push(listener);
    },
    close: async () => {
      closed = true;
      if (timer !== null) clearInterval(timer);
      await queue;
      // A child process must not outlive the agent; pinned BPF links stay (and keep running).
      if (current?.handle.process != null)
        await backendOf(current.deployable).cleanup(current.handle);
    },
  };
}
