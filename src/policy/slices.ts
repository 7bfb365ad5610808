/**
 * One engine's slices: for each combination of statements the relevance check keeps, a policy
 * set of just those, parsed into a Cedar slot when first needed and kept while it is used.
 *
 * Why slices and not one set: Cedar's cost per call grows with the statements in the set it is
 * given (relevance.ts), and it cannot be told to skip some. The combinations a tenant's traffic
 * produces are few (a call is usually decided by one to three statements), so each is parsed
 * once (a few hundred microseconds per statement) and then reused for every call like it.
 */

import type { Cedar, DetailedError } from "./cedar.js";
import { type Footprint, mergeFootprints } from "./footprint.js";
import { MAX_SLICES_PER_ENGINE } from "./limits.js";
import { holds, parseIntoSlot, releaseSlot } from "./slots.js";

export interface SliceStatement {
  id: string;
  text: string;
  footprint: Footprint;
}

/** What a call against a slice needs: its slot, and the parts of the request it can read. */
export interface Slice {
  slot: string;
  /** Context attributes to send, or null for all of them. */
  contextKeys: readonly string[] | null;
  /** Whether to send the entity data. */
  entities: boolean;
}

interface Entry {
  holder: symbol;
  slot: string | null;
  policies: Record<string, string>;
  statements: number;
  contextKeys: readonly string[] | null;
  entities: boolean;
}

export interface SliceCache {
  /** The parsed slice of the statements at `kept` (indices, ascending, at least one). */
  slice(
    kept: readonly number[],
  ): { ok: true; slice: Slice } | { ok: false; errors: DetailedError[] };
  /** Gives every slot back to the pool; `slice` still works afterwards (it re-parses). */
  release(): void;
}

/**
 * The slice cache of one engine over `statements`.
 *
 * @example sliceCache(cedar, statements).slice([0, 3]) // { ok: true, slice: { slot: "slice-7", … } }
 */
export function sliceCache(cedar: Cedar, statements: readonly SliceStatement[]): SliceCache {
  // Map order is use order: the first entry is the least recently used.
  const entries = new Map<string, Entry>();

  const create = (kept: readonly number[]): Entry => {
    const chosen = kept.map((i) => statements[i]!);
    const footprint = mergeFootprints(chosen.map((s) => s.footprint));
    return {
      holder: Symbol("slice"),
      slot: null,
      policies: Object.fromEntries(chosen.map((s) => [s.id, s.text])),
      statements: chosen.length,
      contextKeys: footprint.contextKeys ? [...footprint.contextKeys] : null,
      entities: footprint.entities,
    };
  };

  return {
    slice(kept) {
      const key = kept.join(",");
      let entry = entries.get(key);
      if (entry) {
        entries.delete(key);
      } else {
        entry = create(kept);
        const oldest = entries.size >= MAX_SLICES_PER_ENGINE ? entries.keys().next().value : null;
        if (oldest !== null && oldest !== undefined) {
          const evicted = entries.get(oldest)!;
          if (evicted.slot !== null) releaseSlot(cedar, evicted.slot, evicted.holder);
          entries.delete(oldest);
        }
      }
      entries.set(key, entry);
      if (entry.slot === null || !holds(cedar, entry.slot, entry.holder)) {
        const parsed = parseIntoSlot(cedar, entry.holder, entry.policies, entry.statements);
        if (!parsed.ok) return parsed;
        entry.slot = parsed.slot;
      }
      const { slot, contextKeys, entities } = entry;
      return { ok: true, slice: { slot, contextKeys, entities } };
    },
    release() {
      for (const entry of entries.values()) {
        if (entry.slot !== null) releaseSlot(cedar, entry.slot, entry.holder);
      }
      entries.clear();
    },
  };
}
