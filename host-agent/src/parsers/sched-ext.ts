import { ParseError } from "./errors.js";

/** The values `/sys/kernel/sched_ext/state` can hold (`scx_enable_state_str` in the kernel). */
export const SCHED_EXT_STATES = ["enabling", "enabled", "disabling", "disabled"] as const;
export type SchedExtState = (typeof SCHED_EXT_STATES)[number];

/**
 * Parses `/sys/kernel/sched_ext/state`.
 *
 * @example
 * parseSchedExtState("enabled\n"); // "enabled"
 */
export function parseSchedExtState(text: string): SchedExtState {
  const value = text.trim();
  const state = SCHED_EXT_STATES.find((known) => known === value);
  if (state === undefined) {
    throw new ParseError("/sys/kernel/sched_ext/state", `unknown state ${JSON.stringify(value)}`);
  }
  return state;
}
