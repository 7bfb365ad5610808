/**
 * Admission into a pool: whether a spawning process gets a slot now, waits for one, or is
 * refused because too many already wait; and which waiting processes a freed slot admits.
 * Caps are per tenant and per pool (`PoolConfig["admission"]`); the rows are the store's `live`
 * table. Arrival order holds within a tenant; one tenant's queue never blocks another's spawns.
 */

import type { PoolConfig } from "../kernel/scheduler/pool-config.js";
import type { SchedulerStore } from "./scheduler-store.js";
import type { AdmitReply } from "./scheduler-types.js";

type AdmissionCaps = PoolConfig["admission"];

/**
 * Admits, queues or refuses a process; a process already known gets its standing again.
 *
 * @example admitProcess(store, "scripted", config.admission, "proc_1", "ten_1", Date.now()) // { kind: "admitted" }
 */
export function admitProcess(
  store: SchedulerStore,
  pool: string,
  caps: AdmissionCaps,
  processId: string,
  tenantId: string,
  nowMs: number,
): AdmitReply {
  const existing = store.liveAdmitted(processId);
  if (existing !== undefined) {
    return existing
      ? { kind: "admitted" }
      : { kind: "queued", note: admissionNote(store, pool, caps, tenantId) };
  }
  const waiting = store.waitingCount();
  // Arrival order holds within a tenant; one tenant's queue never blocks another's spawns.
  const waitingHere = store.tenantWaitingCount(tenantId);
  if (waitingHere === 0 && hasRoom(store, caps, tenantId)) {
    store.insertLive(processId, tenantId, true, nowMs);
    return { kind: "admitted" };
  }
  if (waiting >= caps.maxAdmissionQueue) {
    return {
      kind: "refused",
      note: `admission refused: ${waiting} spawns already wait for a slot in pool ${pool} (queue cap ${caps.maxAdmissionQueue})`,
    };
  }
  store.insertLive(processId, tenantId, false, nowMs);
  return { kind: "queued", note: admissionNote(store, pool, caps, tenantId) };
}

/**
 * Admits waiting processes in arrival order, skipping tenants that are at their cap, and
 * calls `onAdmitted` for each as it is admitted.
 *
 * @example admitWaiting(store, config.admission, (processId) => notifyAdmitted(processId))
 */
export function admitWaiting(
  store: SchedulerStore,
  caps: AdmissionCaps,
  onAdmitted: (processId: string) => void,
): void {
  for (const row of store.waitingOldestFirst()) {
    if (!hasRoom(store, caps, row.tenant_id)) {
      if (store.liveCount() >= caps.maxLivePerPool) break;
      continue;
    }
    store.markAdmitted(row.process_id);
    onAdmitted(row.process_id);
  }
}

function hasRoom(store: SchedulerStore, caps: AdmissionCaps, tenantId: string): boolean {
  const live = store.liveCount();
  const tenantLive = store.tenantLiveCount(tenantId);
  return live < caps.maxLivePerPool && tenantLive < caps.maxLivePerTenant;
}

function admissionNote(
  store: SchedulerStore,
  pool: string,
  caps: AdmissionCaps,
  tenantId: string,
): string {
  const tenantLive = store.tenantLiveCount(tenantId);
  const live = store.liveCount();
  const { maxLivePerTenant, maxLivePerPool } = caps;
  return tenantLive >= maxLivePerTenant
    ? `waiting for admission: the tenant has ${tenantLive} live processes in pool ${pool} (cap ${maxLivePerTenant})`
    : `waiting for admission: pool ${pool} has ${live} live processes (cap ${maxLivePerPool})`;
}
