import { SCHED_EXT_STATES, type SchedExtState } from "../protocol.js";
import { ParseError } from "./errors.js";

export { SCHED_EXT_STATES, type SchedExtState };

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
