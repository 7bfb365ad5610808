/**
 * The Cedar module keeps pre-parsed policy sets in its own memory, by name, with no way to
 * delete one: only to overwrite it. So names are slots from a fixed pool (MAX_PREPARSED_SETS),
 * and memory stays bounded however many engines are made. A slot records which engine's set it
 * holds; an engine that finds its slot overwritten parses its set into it again before
 * deciding, so sharing a slot costs time, never a wrong decision (never another tenant's set).
 */

import type { Cedar } from "./cedar.js";
import { MAX_PREPARSED_SETS } from "./limits.js";
import { CEDAR_SCHEMA, SCHEMA_NAME } from "./schema.js";

interface CedarState {
  /** Slot name → the engine whose set it holds now. */
  owners: Map<string, symbol>;
  free: string[];
  minted: number;
  shared: number;
}

// One state per Cedar module instance (workerd has one; a test or bench could load another).
const states = new WeakMap<Cedar, CedarState>();

/**
 * The state for `cedar`, pre-parsing the schema on first use.
 *
 * @example const state = cedarState(cedar) // schema parsed once per isolate
 */
export function cedarState(cedar: Cedar): CedarState {
  let state = states.get(cedar);
  if (!state) {
    const answer = cedar.preparseSchema(SCHEMA_NAME, CEDAR_SCHEMA);
    if (answer.type === "failure") {
      throw new Error(
        `the Cedar schema does not parse: ${answer.errors.map((e) => e.message).join("; ")}`,
      );
    }
    state = { owners: new Map(), free: [], minted: 0, shared: 0 };
    states.set(cedar, state);
  }
  return state;
}

/**
 * A slot for a new engine: a freed one, a new one while the pool lasts, or else one shared
 * round-robin with engines that never released theirs.
 *
 * @example const slot = acquireSlot(state) // "set-0"
 */
export function acquireSlot(state: CedarState): string {
  const reused = state.free.pop();
  if (reused !== undefined) return reused;
  if (state.minted < MAX_PREPARSED_SETS) return `set-${state.minted++}`;
  return `set-${state.shared++ % MAX_PREPARSED_SETS}`;
}

/** Returns `slot` to the pool; the engine that held it re-parses if it is used again. */
export function releaseSlot(state: CedarState, slot: string, owner: symbol): void {
  if (state.owners.get(slot) === owner) state.owners.delete(slot);
  if (!state.free.includes(slot)) state.free.push(slot);
}

/** Whether `slot` holds `owner`'s set now. */
export function holds(state: CedarState, slot: string, owner: symbol): boolean {
  return state.owners.get(slot) === owner;
}

/** Records that `slot` now holds `owner`'s set. */
export function claim(state: CedarState, slot: string, owner: symbol): void {
  state.owners.set(slot, owner);
}
