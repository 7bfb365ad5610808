import { describe, expect, it } from "vitest";
import { KernelError } from "../../src/kernel/errors";
import {
  isNoopTerminate,
  PROCESS_EVENTS,
  PROCESS_STATES,
  type ProcessEvent,
  type ProcessState,
  transition,
} from "../../src/kernel/process/state";

// The whole transition table, written out by hand: every (state, event) pair not listed here
// must be refused. `paused(x)` means paused with x as the state to resume to.
const LEGAL: Array<[from: string, event: ProcessEvent, to: string]> = [
  ["created", "admit", "ready"],
  ["ready", "dispatch", "running"],
  ["waiting", "dispatch", "running"],
  ["running", "yield", "ready"],
  ["running", "block", "waiting"],
  ["waiting", "wake", "ready"],
  ["running", "exit", "exited"],
  ["ready", "exhaust", "budget_exhausted"],
  ["running", "exhaust", "budget_exhausted"],
  ["waiting", "exhaust", "budget_exhausted"],
  ["created", "pause", "paused(created)"],
  ["ready", "pause", "paused(ready)"],
  ["running", "pause", "paused(running)"],
  ["waiting", "pause", "paused(waiting)"],
  ["paused(created)", "resume", "created"],
  ["paused(ready)", "resume", "ready"],
  ["paused(running)", "resume", "running"],
  ["paused(waiting)", "resume", "waiting"],
  ...(["created", "ready", "running", "waiting", "paused(ready)"] as const).flatMap(
    (s): Array<[string, ProcessEvent, string]> => [
      [s, "terminate", "terminated"],
      [s, "fail", "failed"],
    ],
  ),
];

function parse(label: string): { state: ProcessState; pausedFrom: ProcessState | null } {
  const m = /^paused\((\w+)\)$/.exec(label);
  if (m) return { state: "paused", pausedFrom: m[1] as ProcessState };
  return { state: label as ProcessState, pausedFrom: null };
}

function show(s: { state: string; pausedFrom: string | null }): string {
  return s.pausedFrom ? `${s.state}(${s.pausedFrom})` : s.state;
}

const STARTS = [
  ...PROCESS_STATES.filter((s) => s !== "paused"),
  "paused(created)",
  "paused(ready)",
  "paused(running)",
  "paused(waiting)",
];

describe("process state machine", () => {
  for (const [from, event, to] of LEGAL) {
    it(`${from} --${event}--> ${to}`, () => {
      const start = parse(from);
      const next = transition({ state: start.state, pausedFrom: start.pausedFrom as never }, event);
      expect(show(next)).toBe(to);
    });
  }

  it("refuses every pair not in the legal table with illegal_transition and the current state", () => {
    const legal = new Set(LEGAL.map(([f, e]) => `${f}|${e}`));
    // paused(x) for other x behaves like paused(ready) for terminate/fail.
    for (const s of ["paused(created)", "paused(running)", "paused(waiting)"]) {
      legal.add(`${s}|terminate`);
      legal.add(`${s}|fail`);
    }
    let refused = 0;
    for (const from of STARTS) {
      for (const event of PROCESS_EVENTS) {
        if (legal.has(`${from}|${event}`)) continue;
        const start = parse(from);
        let caught: unknown;
        try {
          transition({ state: start.state, pausedFrom: start.pausedFrom as never }, event);
        } catch (error) {
          caught = error;
        }
        expect(caught, `${from} --${event}--> should be illegal`).toBeInstanceOf(KernelError);
        expect((caught as KernelError).code).toBe("illegal_transition");
        expect((caught as KernelError).details.state).toBe(start.state);
        refused += 1;
      }
    }
    // 12 starting labels × 11 events, minus the legal pairs.
    expect(refused).toBe(STARTS.length * PROCESS_EVENTS.length - legal.size);
  });

  it("treats terminate of an ended process as a no-op, and only that", () => {
    for (const state of ["exited", "terminated", "failed", "budget_exhausted"] as const) {
      expect(isNoopTerminate({ state, pausedFrom: null }, "terminate")).toBe(true);
      expect(isNoopTerminate({ state, pausedFrom: null }, "pause")).toBe(false);
    }
    expect(isNoopTerminate({ state: "running", pausedFrom: null }, "terminate")).toBe(false);
  });
});
