/**
 * The Cedar module keeps pre-parsed policy sets in its own memory, by name, with no way to
 * delete one: only to overwrite it. So names are slots from a fixed pool (MAX_PREPARSED_SLICES)
 * and memory is bounded by the statements they hold (MAX_PREPARSED_STATEMENTS): to make room,
 * the least recently used slot is overwritten with the empty set. A slot records which holder
 * (one slice of one engine) it holds now; a holder that finds its slot taken parses its set
 * again before deciding, so sharing the pool costs time, never a wrong decision (never another
 * tenant's set).
 */

import type { Cedar, DetailedError } from "./cedar.js";
import { MAX_PREPARSED_SLICES, MAX_PREPARSED_STATEMENTS } from "./limits.js";

interface Slot {
  holder: symbol | null;
  statements: number;
}

interface Pool {
  /** Slot name → what it holds. Map order is use order: the first entry is the least recent. */
  slots: Map<string, Slot>;
  free: string[];
  statementsHeld: number;
}

// One pool per Cedar module instance (workerd has one; a test or bench could load another).
const pools = new WeakMap<Cedar, Pool>();

const EMPTY_SET = { staticPolicies: {} };

function poolOf(cedar: Cedar): Pool {
  let pool = pools.get(cedar);
  if (!pool) {
    pool = { slots: new Map(), free: [], statementsHeld: 0 };
    pools.set(cedar, pool);
  }
  return pool;
}

/** Overwrites `name` with the empty set, giving its memory back, and marks it free. */
function empty(cedar: Cedar, pool: Pool, name: string, slot: Slot): void {
  if (slot.statements > 0) cedar.preparsePolicySet(name, EMPTY_SET);
  pool.statementsHeld -= slot.statements;
  slot.statements = 0;
  slot.holder = null;
  pool.free.push(name);
}

/** A free slot, a new one while the pool lasts, or else the least recently used one. */
function pick(pool: Pool): string {
  const reused = pool.free.pop();
  if (reused !== undefined) return reused;
  if (pool.slots.size < MAX_PREPARSED_SLICES) {
    const name = `slice-${pool.slots.size}`;
    pool.slots.set(name, { holder: null, statements: 0 });
    return name;
  }
  return pool.slots.keys().next().value as string;
}

/**
 * Parses `policies` (`statements` of them) into a slot for `holder`, making room first.
 *
 * @example parseIntoSlot(cedar, Symbol(), { "budget-guard": "forbid (…) when { … };" }, 1)
 *   // { ok: true, slot: "slice-0" }
 */
export function parseIntoSlot(
  cedar: Cedar,
  holder: symbol,
  policies: Record<string, string>,
  statements: number,
): { ok: true; slot: string } | { ok: false; errors: DetailedError[] } {
  const pool = poolOf(cedar);
  const name = pick(pool);
  const slot = pool.slots.get(name)!;
  pool.statementsHeld -= slot.statements;
  slot.statements = 0;
  slot.holder = null;
  for (const [other, s] of pool.slots) {
    if (pool.statementsHeld + statements <= MAX_PREPARSED_STATEMENTS) break;
    if (other !== name && s.statements > 0) empty(cedar, pool, other, s);
  }
  const answer = cedar.preparsePolicySet(name, { staticPolicies: policies });
  if (answer.type === "failure") {
    // Cedar left the slot as it was: empty it, so what it holds is what the pool counts.
    cedar.preparsePolicySet(name, EMPTY_SET);
    pool.free.push(name);
    return { ok: false, errors: answer.errors };
  }
  slot.holder = holder;
  slot.statements = statements;
  pool.statementsHeld += statements;
  touch(pool, name, slot);
  return { ok: true, slot: name };
}

function touch(pool: Pool, name: string, slot: Slot): void {
  pool.slots.delete(name);
  pool.slots.set(name, slot);
}

/** Whether `slot` holds `holder`'s set now; if so, marks it used (last to be evicted). */
export function holds(cedar: Cedar, slot: string, holder: symbol): boolean {
  const pool = poolOf(cedar);
  const s = pool.slots.get(slot);
  if (s?.holder !== holder) return false;
  touch(pool, slot, s);
  return true;
}

/** Gives `slot` back to the pool, emptied, if `holder` still holds it. */
export function releaseSlot(cedar: Cedar, slot: string, holder: symbol): void {
  const pool = poolOf(cedar);
  const s = pool.slots.get(slot);
  if (s?.holder === holder) empty(cedar, pool, slot, s);
}
