/**
 * The process state machine, free of any platform: the Durable Object, the simulator and the
 * unit tests all step processes through `transition()`.
 *
 *   created → ready → running ⇄ waiting
 *   running → ready                       (yield or preemption at a step boundary)
 *   waiting → ready                       (the awaited event arrived; wait for the scheduler)
 *   any live state → paused → (resume) the live state it left
 *   live or paused → terminated | failed
 *   running → exited (goal finished, with a result)
 *   ready | running | waiting → budget_exhausted
 */

import { KernelError } from "../errors.js";

export const LIVE_STATES = ["created", "ready", "running", "waiting"] as const;
export const TERMINAL_STATES = ["exited", "terminated", "failed", "budget_exhausted"] as const;
export const PROCESS_STATES = [...LIVE_STATES, "paused", ...TERMINAL_STATES] as const;

export type LiveState = (typeof LIVE_STATES)[number];
export type TerminalState = (typeof TERMINAL_STATES)[number];
export type ProcessState = (typeof PROCESS_STATES)[number];

/** What can happen to a process. Signals come from callers; the rest from the kernel itself. */
export const PROCESS_EVENTS = [
  "admit",
  "dispatch",
  "yield",
  "block",
  "wake",
  "pause",
  "resume",
  "exit",
  "terminate",
  "fail",
  "exhaust",
] as const;
export type ProcessEvent = (typeof PROCESS_EVENTS)[number];

/** The part of a process record that the state machine reads and writes. */
export interface ProcessStatus {
  state: ProcessState;
  /** The live state a paused process returns to on resume; null unless paused. */
  pausedFrom: LiveState | null;
}

const FORWARD: Record<ProcessEvent, Partial<Record<ProcessState, ProcessState>>> = {
  admit: { created: "ready" },
  dispatch: { ready: "running", waiting: "running" },
  yield: { running: "ready" },
  block: { running: "waiting" },
  wake: { waiting: "ready" },
  pause: {},
  resume: {},
  exit: { running: "exited" },
  terminate: {},
  fail: {},
  exhaust: { ready: "budget_exhausted", running: "budget_exhausted", waiting: "budget_exhausted" },
};

/** True for exited, terminated, failed and budget_exhausted: nothing leaves these. */
export function isTerminal(state: ProcessState): state is TerminalState {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

/** True for the states a process can be paused from. */
export function isLive(state: ProcessState): state is LiveState {
  return (LIVE_STATES as readonly string[]).includes(state);
}

/**
 * The status after `event`, or a `KernelError("illegal_transition")` carrying the current state.
 *
 * Terminate is idempotent at the adapter level (see `isNoopTerminate`); here it is only legal
 * from a live or paused state so every real transition leaves exactly one event.
 *
 * @example transition({ state: "ready", pausedFrom: null }, "pause") // { state: "paused", pausedFrom: "ready" }
 */
export function transition(current: ProcessStatus, event: ProcessEvent): ProcessStatus {
  const { state } = current;
  switch (event) {
    case "pause":
      if (isLive(state)) return { state: "paused", pausedFrom: state };
      break;
    case "resume":
      if (state === "paused" && current.pausedFrom) {
        return { state: current.pausedFrom, pausedFrom: null };
      }
      break;
    case "terminate":
      if (isLive(state) || state === "paused") return { state: "terminated", pausedFrom: null };
      break;
    case "fail":
      if (isLive(state) || state === "paused") return { state: "failed", pausedFrom: null };
      break;
    default: {
      const next = FORWARD[event][state];
      if (next) return { state: next, pausedFrom: null };
    }
  }
  throw new KernelError("illegal_transition", `cannot ${event} a process that is ${state}`, {
    event,
    state,
  });
}

/** Terminating an already-ended process changes nothing and is not an error. */
export function isNoopTerminate(current: ProcessStatus, event: ProcessEvent): boolean {
  return event === "terminate" && isTerminal(current.state);
}
