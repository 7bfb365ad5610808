/**
 * Which nodes of a rollout go first: a deterministic shuffle by a hash of the rollout id and
 * each node id, so a rollout always picks the same canaries and different rollouts pick
 * different ones.
 */

/**
 * The canaries: `ceil(fraction × n)` nodes, at least one, ordered by a hash of the rollout id
 * and the node id — deterministic, and a different set for each rollout.
 *
 * @example chooseCanaries("rol_1", ["a", "b", "c", "d"], 0.25) // one of them, always the same
 */
export function chooseCanaries(
  rolloutId: string,
  nodes: readonly string[],
  fraction: number,
): string[] {
  const count = Math.min(nodes.length, Math.max(1, Math.ceil(fraction * nodes.length)));
  return [...nodes]
    .map((nodeId) => ({ nodeId, rank: fnv1a(`${rolloutId}\n${nodeId}`) }))
    .sort((a, b) => a.rank - b.rank || (a.nodeId < b.nodeId ? -1 : 1))
    .slice(0, count)
    .map((n) => n.nodeId);
}

/** 32-bit FNV-1a over UTF-16 code units: small, fast, good enough to shuffle node ids. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
