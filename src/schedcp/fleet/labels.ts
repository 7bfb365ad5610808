/**
 * A node's labels: what the node asks for (its configuration, in its enrollment and every hello)
 * merged with what its enrollment token pinned. The token's labels win, so an operator's
 * `tier=canary` cannot be dropped or changed from the node.
 */

import { FLEET_LIMITS } from "../protocol/index.js";

export type Labels = Record<string, string>;

export type MergedLabels = { ok: true; labels: Labels } | { ok: false; message: string };

/**
 * The node's labels with the pinned ones laid over them, keys sorted; refused past the limit.
 *
 * @example mergeLabels({ zone: "a", tier: "x" }, { tier: "canary" }) // { ok: true, labels: { tier: "canary", zone: "a" } }
 */
export function mergeLabels(requested: Labels, pinned: Labels): MergedLabels {
  const merged: Labels = { ...requested, ...pinned };
  const keys = Object.keys(merged).sort();
  if (keys.length > FLEET_LIMITS.labelsMax) {
    return {
      ok: false,
      message: `at most ${FLEET_LIMITS.labelsMax} labels, counting the enrollment token's; got ${keys.length}`,
    };
  }
  const labels: Labels = {};
  for (const key of keys) labels[key] = merged[key] as string;
  return { ok: true, labels };
}

/** Two label sets are the same set (order aside). */
export function sameLabels(a: Labels, b: Labels): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((key) => a[key] === b[key]);
}
