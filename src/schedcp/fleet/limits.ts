/**
 * The Fleet object's limits and timings, named and tested at their edges. Intervals the control
 * plane tells nodes in `welcome` can be tuned per deployment with the Worker variables
 * `FLEET_HEARTBEAT_INTERVAL_MS` and `FLEET_TELEMETRY_INTERVAL_MS`, within the protocol's bounds.
 */

export const FLEET_OBJECT_LIMITS = {
  /** Telemetry reports kept per node in the object (newest first; older ones are pruned). */
  telemetryHistoryPerNode: 120,
  /** Deploy transitions kept per node. */
  deployEventsPerNode: 500,
  /** Settled commands are kept this long for `commandResults`, then pruned. */
  commandRetentionMs: 24 * 60 * 60 * 1000,
  /** And at most this many, oldest pruned first. */
  commandsRetained: 20_000,
  /** Verification results kept in the object. */
  verifyResultsRetained: 1_000,
  /** Nodes one `windows` call reads (a group's workload profile). */
  windowNodesMax: 100,
  /** Nodes one command may go to. */
  commandTargetsMax: 10_000,
  commandTimeoutMinMs: 1_000,
  commandTimeoutMaxMs: 600_000,
  commandTimeoutDefaultMs: 30_000,
  /** A socket that has not said hello by then is closed. */
  helloTimeoutMs: 10_000,
  /** Heartbeats missed before a node counts as gone and its socket is closed. */
  missedHeartbeats: 3,
  /** Acks, last-seen times and telemetry wait at most this long to be written together. */
  writeBehindMs: 100,
  /** While a node stays connected, D1's `last_seen_at_ms` is refreshed at most this often. */
  lastSeenRefreshMs: 10 * 60 * 1000,
  /** Upper bound between two sweeps of the alarm while any socket is open. */
  sweepIntervalMaxMs: 30_000,
} as const;

export const FLEET_INTERVAL_DEFAULTS = {
  heartbeatIntervalMs: 15_000,
  telemetryIntervalMs: 10_000,
} as const;

/** The protocol's bounds on the intervals in `welcome` (WelcomeSchema). */
const BOUNDS = {
  heartbeatIntervalMs: { min: 1_000, max: 300_000 },
  telemetryIntervalMs: { min: 100, max: 3_600_000 },
} as const;

export interface FleetIntervals {
  heartbeatIntervalMs: number;
  telemetryIntervalMs: number;
}

/**
 * The intervals from the Worker's variables, each falling back to its default when unset or
 * not an integer within the protocol's bounds (a typo must not take the fleet down).
 *
 * @example fleetIntervals({ FLEET_HEARTBEAT_INTERVAL_MS: "5000" }).heartbeatIntervalMs // 5000
 */
export function fleetIntervals(vars: {
  FLEET_HEARTBEAT_INTERVAL_MS?: string | undefined;
  FLEET_TELEMETRY_INTERVAL_MS?: string | undefined;
}): FleetIntervals {
  return {
    heartbeatIntervalMs: pick(vars.FLEET_HEARTBEAT_INTERVAL_MS, "heartbeatIntervalMs"),
    telemetryIntervalMs: pick(vars.FLEET_TELEMETRY_INTERVAL_MS, "telemetryIntervalMs"),
  };
}

function pick(raw: string | undefined, field: keyof typeof BOUNDS): number {
  const value = raw === undefined ? Number.NaN : Number(raw);
  const { min, max } = BOUNDS[field];
  return Number.isInteger(value) && value >= min && value <= max
    ? value
    : FLEET_INTERVAL_DEFAULTS[field];
}
