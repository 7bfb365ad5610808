/*
 * The seams of host-agent's deploy path. One module registers, watches and reverts a scheduler
 * policy; it runs its commands through an Executor, so the same code drives a node's own kernel
 * (LocalExecutor) and the kernel inside the verifier's throwaway VM (GuestExecutor). The
 * connection to the control plane (src/agent/) calls into these; it never runs a command itself.
 */

import type { Assignment, DeployState, Guard, TelemetryReport } from "../protocol.js";

/** What a command printed, and how it ended. */
export interface CommandResult {
  /** The exit status; null when it was killed (timeout) or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs commands and reads files on one machine: this node, or a guest VM. */
export interface Executor {
  /** A short name for logs: `local`, `guest`. */
  readonly name: string;
  /** Runs `argv` (no shell); never throws for a non-zero exit, only for a broken channel. */
  run(argv: readonly string[], options?: { timeoutMs?: number }): Promise<CommandResult>;
  /** A small text file's contents, or null when it does not exist or cannot be read. */
  readText(path: string): Promise<string | null>;
  /** Writes bytes to a path on that machine (to place an artifact where bpftool reads it). */
  writeBytes(path: string, bytes: Uint8Array): Promise<void>;
  /**
   * Starts a long-running process (an scx binary) and returns at once. Optional: the guest VM
   * has no scx binaries, so its executor leaves this out and the scx backend refuses there.
   */
  spawn?(argv: readonly string[]): SpawnedProcess;
}

/** A process started with `Executor.spawn`. */
export interface SpawnedProcess {
  readonly pid: number | null;
  /** Sends a signal; false when the process has already exited. */
  kill(signal: "SIGINT" | "SIGTERM" | "SIGKILL"): boolean;
  /** Resolves once, when the process exits, with the tail of what it printed. */
  readonly exited: Promise<CommandResult>;
  /** Whether it has exited. */
  hasExited(): boolean;
}

/** What runs on the node now; null means the kernel's default scheduler. */
export interface Running {
  assignmentId: string;
  policyId: string;
  version: number;
}

/** One transition of the node's scheduler, reported to the control plane as `deploy-status`. */
export interface Transition {
  assignmentId: string;
  policyId: string;
  version: number;
  state: DeployState;
  /** Why, in a line or a few (at most DeployStatus's 4,096 chars). */
  reason: string | null;
  running: Running | null;
  dryRun: boolean;
  atMs: number;
  /**
   * The full output behind it (bpftool's stderr with the kernel verifier's log, the sched_ext
   * lines of dmesg on an ejection), for the verifier's result; not part of the wire frame.
   */
  log: string | null;
}

/**
 * What the deployer needs of an assignment: the signed payload, what to load and the guards.
 * A signed `Assignment` is one; the verifier builds one for a candidate that is not signed yet.
 */
export type Deployable = Pick<Assignment, "assignmentId" | "payload" | "artifact" | "guards">;

/**
 * Why an assignment is refused before anything is loaded. `bad_signature`, `expired`,
 * `hash_mismatch`, `not_allowed` (an scx binary the node's allow-list lacks, or parameters out
 * of its bounds), `malformed`.
 */
export type RefusalCode =
  | "bad_signature"
  | "expired"
  | "hash_mismatch"
  | "not_allowed"
  | "malformed";

/**
 * The deploy module: applies verified assignments, watches the kernel's sched_ext state, and
 * reverts — on the watchdog's ejection, on a guard's regression, or on command. Every change is
 * delivered to the listener as a Transition.
 */
export interface Deployer {
  readonly dryRun: boolean;
  current(): Running | null;
  /**
   * Loads `assignment` (its signature, expiry and artifact hash already checked by the caller
   * with `checkAssignment`), replacing what runs; `artifactPath` is where its bytes are on the
   * executor's machine (a BPF object), or null for an scx binary.
   */
  apply(assignment: Deployable, artifactPath: string | null): Promise<Transition>;
  /** Takes the current policy off (back to the previous one, else the kernel's default). */
  revert(reason: string, onlyAssignmentId?: string | null): Promise<Transition | null>;
  /** Feeds one telemetry report to the guards of what runs; may revert. */
  observe(report: TelemetryReport, atMs: number): Promise<Transition | null>;
  /** Polls the sched_ext state once (the watcher calls it on a timer); may report an ejection. */
  poll(atMs: number): Promise<Transition | null>;
  onTransition(listener: (transition: Transition) => void): void;
  /** Stops timers and child processes; leaves the loaded scheduler as it is. */
  close(): Promise<void>;
}

/** A guard's verdict on one report, against the baseline taken before the deploy. */
export interface GuardVerdict {
  guard: Guard;
  baseline: number | null;
  value: number | null;
  regressed: boolean;
}
