/**
 * The workspace's limits, as named constants with their units. A tenant may have its own
 * quota values (the `workspace_limits` table); everything else here is fixed.
 */

/** Values up to this size live in the process's own Durable Object; larger ones in R2. */
export const INLINE_MAX_BYTES = 64 * 1024;

/** Largest file a single PUT may carry: refused with 413 before the body is read in full. */
export const FILE_MAX_BYTES = 32 * 1024 * 1024;

/** Longest path, in UTF-8 bytes. */
export const PATH_MAX_BYTES = 1024;

/** Longest single path segment, in UTF-8 bytes. */
export const SEGMENT_MAX_BYTES = 255;

/** Most processes one share call may name. */
export const SHARE_MAX_RECIPIENTS = 32;

/** Most shares one process may hold out at once. */
export const SHARES_MAX_PER_PROCESS = 256;

/** Default quotas: what one process, and all processes of one tenant together, may hold. */
export interface WorkspaceQuota {
  processMaxBytes: number;
  processMaxObjects: number;
  tenantMaxBytes: number;
  tenantMaxObjects: number;
}

export const DEFAULT_WORKSPACE_QUOTA: WorkspaceQuota = {
  processMaxBytes: 256 * 1024 * 1024,
  processMaxObjects: 10_000,
  tenantMaxBytes: 4 * 1024 * 1024 * 1024,
  tenantMaxObjects: 200_000,
};

/** What a workspace holds: logical bytes (each path counts its own size) and entries. */
export interface WorkspaceUsage {
  bytes: number;
  objects: number;
}

/** The change one write or delete makes to a workspace's usage. */
export interface UsageDelta {
  bytes: number;
  objects: number;
}

/**
 * The usage change of writing `newBytes` at a path that held `oldBytes` (null: nothing).
 *
 * @example deltaOf(null, 10) // { bytes: 10, objects: 1 }
 */
export function deltaOf(oldBytes: number | null, newBytes: number): UsageDelta {
  return oldBytes === null
    ? { bytes: newBytes, objects: 1 }
    : { bytes: newBytes - oldBytes, objects: 0 };
}

/** Which limit a refused write would cross, with the numbers a client needs to act on it. */
export interface QuotaBreach {
  limit: "process_bytes" | "process_objects" | "tenant_bytes" | "tenant_objects";
  limitValue: number;
  used: number;
  requested: number;
}

/**
 * The first limit `delta` would cross on top of `usage`, or null when it fits. Reaching a limit
 * exactly is allowed; a change that only shrinks never breaches (even over a lowered limit).
 *
 * @example breachOf("process", { bytes: 90, objects: 1 }, { bytes: 11, objects: 0 }, 100, 10) // process_bytes
 */
export function breachOf(
  scope: "process" | "tenant",
  usage: WorkspaceUsage,
  delta: UsageDelta,
  maxBytes: number,
  maxObjects: number,
): QuotaBreach | null {
  if (delta.bytes > 0 && usage.bytes + delta.bytes > maxBytes) {
    return {
      limit: `${scope}_bytes`,
      limitValue: maxBytes,
      used: usage.bytes,
      requested: delta.bytes,
    };
  }
  if (delta.objects > 0 && usage.objects + delta.objects > maxObjects) {
    return {
      limit: `${scope}_objects`,
      limitValue: maxObjects,
      used: usage.objects,
      requested: delta.objects,
    };
  }
  return null;
}

/** A client-readable sentence for a breach. */
export function describeBreach(b: QuotaBreach): string {
  const [scope, unit] = b.limit.split("_") as [string, string];
  return `workspace ${scope} quota: ${b.used} ${unit} used of ${b.limitValue}; this write needs ${b.requested} more`;
}
