/**
 * Whether each node is online, as the Fleet object decides it and mirrors it to D1: a node goes
 * offline when its socket closes or errs, when a frame of it is refused, when it sends no hello
 * in time or goes silent past its missed heartbeats (the alarm's sweep), when the object finds
 * it marked online with no socket left, or when its credential is revoked (the one transition
 * whose D1 row the revoking route writes itself). Separate from the object because the frame
 * handler, the socket events and the alarm all end in these same transitions, and each must
 * step the node's rollouts and write D1 the same way.
 */

import type { Env } from "../env.js";
import type { FrameRefusal } from "../schedcp/fleet/frames.js";
import { FLEET_OBJECT_LIMITS, type FleetIntervals } from "../schedcp/fleet/limits.js";
import { FLEET_CLOSE_CODES } from "../schedcp/protocol/index.js";
import { openDb } from "../store/db.js";
import { type NodeStatePatch, writeNodeState } from "../store/fleet.js";
import type { RolloutEngine } from "./fleet-rollout-engine.js";
import { attachmentOf, nodeTag, refuse, type SocketAttachment } from "./fleet-sockets.js";
import type { FleetStore } from "./fleet-store.js";
import type { NodeStateRow } from "./fleet-store-nodes.js";

/** Steps a node's live rollouts on an event of that node (the Fleet object's `stepRollouts`). */
export type StepRollouts = (nodeId: string, make: Parameters<RolloutEngine["onNode"]>[1]) => void;

/** What presence needs of the Fleet object. */
export interface PresenceHost {
  store: FleetStore;
  env: Pick<Env, "DB">;
  intervals: FleetIntervals;
  stepRollouts: StepRollouts;
  /** The object's sockets, or those with a tag (`ctx.getWebSockets`). */
  sockets(tag?: string): WebSocket[];
}

export class NodePresence {
  constructor(private readonly host: PresenceHost) {}

  /**
   * Writes a node state change to D1 (versioned, so late writes cannot undo newer ones).
   *
   * @example await presence.mirror(row, { running: frame.running }, nowMs)
   */
  async mirror(row: NodeStateRow, patch: NodeStatePatch, nowMs: number): Promise<void> {
    const { store, env } = this.host;
    const stateVersion = store.nodes.nextStateVersion(row.node_id);
    try {
      await writeNodeState(
        openDb(env.DB),
        {
          tenantId: store.tenant() ?? "",
          nodeId: row.node_id,
          credentialId: row.credential_id,
          stateVersion,
        },
        patch,
        nowMs,
      );
    } catch (error) {
      // The object stays the authority; the next state change writes the row again in full.
      console.error("fleet: D1 node state write failed", row.node_id, error);
    }
  }

  /**
   * While a node stays connected, D1's last-seen time is refreshed now and then, not per frame.
   *
   * @example await presence.refreshLastSeen(row, Date.now())
   */
  async refreshLastSeen(row: NodeStateRow, nowMs: number): Promise<void> {
    this.host.store.nodes.setD1Seen(row.node_id, nowMs);
    await this.mirror(row, { lastSeenAtMs: nowMs }, nowMs);
  }

  /**
   * Marks the node offline if `connId` still speaks for it; steps its rollouts and writes D1.
   *
   * @example await presence.offline(row, att.connId, Date.now())
   */
  async offline(row: NodeStateRow, connId: string | null, nowMs: number): Promise<void> {
    if (this.host.store.nodes.markOffline(row.node_id, connId)) {
      this.host.stepRollouts(row.node_id, () => ({
        type: "node-offline",
        atMs: nowMs,
        nodeId: row.node_id,
      }));
      await this.mirror(row, { status: "offline", lastSeenAtMs: row.last_seen_ms ?? nowMs }, nowMs);
    }
  }

  /**
   * A socket closed or failed: its node goes offline (if the socket still spoke for it).
   *
   * @example await presence.dropConnection(ws)
   */
  async dropConnection(ws: WebSocket): Promise<void> {
    const att = attachmentOf(ws);
    if (!att) return;
    const row = this.host.store.nodes.get(att.nodeId);
    if (row) await this.offline(row, att.connId, Date.now());
  }

  /**
   * Refuses a frame: nothing was stored; the node is told why and the socket closed.
   *
   * @example await presence.refuseAndDrop(ws, att, parsed) // parsed: a failed parseNodeFrame
   */
  async refuseAndDrop(ws: WebSocket, att: SocketAttachment, refusal: FrameRefusal): Promise<void> {
    refuse(ws, refusal);
    const row = this.host.store.nodes.get(att.nodeId);
    if (row) await this.offline(row, att.connId, Date.now());
  }

  /**
   * The alarm's sweep: closes sockets with no hello in time or nothing heard for the missed
   * heartbeats, and takes offline the nodes marked online whose connection is gone.
   *
   * @example await presence.sweep(Date.now())
   */
  async sweep(nowMs: number): Promise<void> {
    const { store, intervals } = this.host;
    const liveConnIds = new Set<string>();
    const staleAfterMs = intervals.heartbeatIntervalMs * FLEET_OBJECT_LIMITS.missedHeartbeats;
    for (const ws of this.host.sockets()) {
      const att = attachmentOf(ws);
      if (!att) continue;
      const row = store.nodes.get(att.nodeId);
      if (!att.hello) {
        if (nowMs - att.connectedAtMs >= FLEET_OBJECT_LIMITS.helloTimeoutMs) {
          refuse(ws, {
            closeCode: FLEET_CLOSE_CODES.heartbeatTimeout,
            error: { code: "hello_timeout", message: "no hello in time" },
          });
          if (row) await this.offline(row, att.connId, nowMs);
          continue;
        }
      } else if (row && row.conn_id === att.connId) {
        const seenMs = row.last_seen_ms ?? att.connectedAtMs;
        if (nowMs - seenMs >= staleAfterMs) {
          refuse(ws, {
            closeCode: FLEET_CLOSE_CODES.heartbeatTimeout,
            error: { code: "heartbeat_timeout", message: `nothing heard for ${nowMs - seenMs} ms` },
          });
          await this.offline(row, att.connId, nowMs);
          continue;
        }
      }
      liveConnIds.add(att.connId);
    }
    // A node marked online whose connection is gone without a close event (the object was
    // restarted, say) goes offline here.
    for (const row of store.nodes.list("online")) {
      if (row.conn_id === null || !liveConnIds.has(row.conn_id)) {
        await this.offline(row, row.conn_id, nowMs);
      }
    }
  }

  /**
   * Records the credential revoked and closes the node's sockets that used it; returns how many.
   * D1 already says offline and revoked (the revoking route wrote it), so nothing is mirrored.
   *
   * @example presence.revoke(nodeId, credentialId, Date.now()) // 1
   */
  revoke(nodeId: string, credentialId: string, nowMs: number): number {
    const { store } = this.host;
    store.revoke(credentialId, nodeId, nowMs);
    let closed = 0;
    for (const ws of this.host.sockets(nodeTag(nodeId))) {
      const att = attachmentOf(ws);
      if (!att || att.credentialId !== credentialId) continue;
      refuse(ws, {
        closeCode: FLEET_CLOSE_CODES.unauthorized,
        error: { code: "credential_revoked", message: "this node's credential was revoked" },
      });
      store.nodes.markOffline(nodeId, att.connId);
      closed += 1;
    }
    return closed;
  }
}
