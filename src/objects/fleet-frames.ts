/**
 * The frames nodes send, as the Fleet object's `webSocketMessage` receives them: each frame is
 * checked against the connection that speaks for the node now, parsed with the protocol's
 * schemas, and only then stored — a hello (labels merged, welcome sent, D1 written), heartbeats
 * and telemetry (written behind), acks (settling command batches), deploy transitions and a
 * verifier's result. Hellos, telemetry, acks and deploy transitions also step the node's live
 * rollouts. Separate from the object because this is the one inbound path of the protocol: the
 * object's other entry points (the RPCs, the alarm) never read a frame.
 */

import { parseNodeFrame } from "../schedcp/fleet/frames.js";
import { type Labels, mergeLabels, sameLabels } from "../schedcp/fleet/labels.js";
import { FLEET_OBJECT_LIMITS, type FleetIntervals } from "../schedcp/fleet/limits.js";
import { FLEET_CLOSE_CODES, type NodeFrame, PROTOCOL_VERSION } from "../schedcp/protocol/index.js";
import type { NodeStatePatch } from "../store/fleet.js";
import type { CommandDispatcher } from "./fleet-commands.js";
import type { NodePresence, StepRollouts } from "./fleet-presence.js";
import { belongsTo } from "./fleet-rollout-engine.js";
import { attachmentOf, refuse, type SocketAttachment, trySend } from "./fleet-sockets.js";
import type { FleetStore } from "./fleet-store.js";
import type { NodeStateRow } from "./fleet-store-nodes.js";
import type { VerifyDispatcher } from "./fleet-verify-dispatch.js";
import type { WriteBehind } from "./fleet-writes.js";

/** What the frame handler needs of the Fleet object. */
export interface FrameHost {
  store: FleetStore;
  writes: WriteBehind;
  intervals: FleetIntervals;
  presence: NodePresence;
  commands: Pick<CommandDispatcher, "settled">;
  verify: Pick<VerifyDispatcher, "complete">;
  stepRollouts: StepRollouts;
}

export class FrameHandler {
  constructor(private readonly host: FrameHost) {}

  /**
   * Handles one frame of a node's socket (the object's `webSocketMessage`).
   *
   * @example await frames.onMessage(ws, `{"type":"heartbeat","atMs":1700000000000}`)
   */
  async onMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const { store, writes, presence } = this.host;
    const att = attachmentOf(ws);
    if (!att) return ws.close(FLEET_CLOSE_CODES.badFrame, "unknown connection");
    // Every frame checks that its connection still speaks for the node (one narrow read);
    // the full row is read only by the frames that need it.
    const speaking = store.nodes.connectionOf(att.nodeId);
    if (!speaking || speaking.conn_id !== att.connId) {
      refuse(ws, {
        closeCode: FLEET_CLOSE_CODES.replaced,
        error: { code: "replaced", message: "a newer connection of this node took over" },
      });
      return;
    }
    const parsed = parseNodeFrame(message);
    if (!parsed.ok) return presence.refuseAndDrop(ws, att, parsed);
    const frame = parsed.frame;
    const nowMs = Date.now();
    if (!att.hello) {
      if (frame.type !== "hello") {
        return presence.refuseAndDrop(ws, att, {
          closeCode: FLEET_CLOSE_CODES.badFrame,
          error: {
            code: "hello_expected",
            message: `the first frame must be hello, not ${frame.type}`,
          },
        });
      }
      const row = store.nodes.get(att.nodeId);
      if (!row) return;
      return this.onHello(ws, att, row, frame, nowMs);
    }
    switch (frame.type) {
      case "hello":
        return presence.refuseAndDrop(ws, att, {
          closeCode: FLEET_CLOSE_CODES.badFrame,
          error: { code: "hello_repeated", message: "hello is sent once per connection" },
        });
      case "heartbeat":
        this.touch(att.nodeId, nowMs);
        if (
          speaking.d1_seen_ms === null ||
          nowMs - speaking.d1_seen_ms >= FLEET_OBJECT_LIMITS.lastSeenRefreshMs
        ) {
          const row = store.nodes.get(att.nodeId);
          if (row) await presence.refreshLastSeen(row, nowMs);
        }
        return;
      case "telemetry":
        writes.telemetry({
          nodeId: att.nodeId,
          atMs: frame.atMs,
          receivedAtMs: nowMs,
          reportJson: JSON.stringify(frame.report),
        });
        this.touch(att.nodeId, nowMs);
        this.host.stepRollouts(att.nodeId, () => ({
          type: "telemetry",
          atMs: nowMs,
          nodeId: att.nodeId,
          report: frame.report,
        }));
        return;
      case "ack": {
        this.touch(att.nodeId, nowMs);
        // A rollout's command (its ids are the rollout's own, never a batch's).
        this.host.stepRollouts(att.nodeId, (rolloutId) =>
          belongsTo(rolloutId, frame.commandId)
            ? {
                type: "ack",
                atMs: nowMs,
                nodeId: att.nodeId,
                commandId: frame.commandId,
                ok: frame.ok,
                error: frame.ok ? null : (frame.error ?? null),
              }
            : null,
        );
        // Only an open command of this node, answered once; late and repeated acks change nothing.
        if (writes.hasAck(frame.commandId)) return;
        const batchId = store.commands.openBatchOf(frame.commandId, att.nodeId);
        if (batchId === null) return;
        writes.ack({
          commandId: frame.commandId,
          nodeId: att.nodeId,
          ok: frame.ok,
          error: frame.ok
            ? null
            : (frame.error ?? { code: "failed", message: "the node refused it" }),
          atMs: nowMs,
        });
        this.host.commands.settled([batchId]);
        return;
      }
      case "deploy-status": {
        this.touch(att.nodeId, nowMs);
        const row = store.nodes.get(att.nodeId);
        if (!row) return;
        store.history.addDeployEvent(att.nodeId, nowMs, JSON.stringify(frame));
        this.host.stepRollouts(att.nodeId, (rolloutId) =>
          belongsTo(rolloutId, frame.assignmentId)
            ? { type: "deploy-status", atMs: nowMs, nodeId: att.nodeId, status: frame }
            : null,
        );
        const before = row.running_json;
        const after = frame.running === null ? null : JSON.stringify(frame.running);
        if (before !== after) {
          store.nodes.setRunning(att.nodeId, frame.running);
          await presence.mirror(row, { running: frame.running }, nowMs);
        }
        return;
      }
      case "verify-result":
        if (att.role !== "verifier") {
          return presence.refuseAndDrop(ws, att, {
            closeCode: FLEET_CLOSE_CODES.forbidden,
            error: { code: "not_a_verifier", message: "only verifier nodes send verify-result" },
          });
        }
        this.touch(att.nodeId, nowMs);
        store.verifyResults.put(
          frame.result.jobId,
          att.nodeId,
          nowMs,
          JSON.stringify(frame.result),
        );
        await this.host.verify.complete(att.nodeId, frame.result, nowMs);
        return;
    }
  }

  /** Records that the node was heard from (written behind, with the acks and reports). */
  private touch(nodeId: string, nowMs: number): void {
    this.host.writes.touch(nodeId, nowMs);
  }

  private async onHello(
    ws: WebSocket,
    att: SocketAttachment,
    row: NodeStateRow,
    hello: Extract<NodeFrame, { type: "hello" }>,
    nowMs: number,
  ): Promise<void> {
    const { store, intervals, presence } = this.host;
    if (hello.role !== att.role) {
      return presence.refuseAndDrop(ws, att, {
        closeCode: FLEET_CLOSE_CODES.forbidden,
        error: {
          code: "role_mismatch",
          message: `this node enrolled as ${att.role}, its hello says ${hello.role}`,
        },
      });
    }
    const merged = mergeLabels(hello.labels, JSON.parse(row.token_labels_json) as Labels);
    if (!merged.ok) {
      return presence.refuseAndDrop(ws, att, {
        closeCode: FLEET_CLOSE_CODES.badFrame,
        error: { code: "too_many_labels", message: merged.message },
      });
    }
    const factsJson = JSON.stringify(hello.facts);
    store.nodes.markHello(att.nodeId, {
      labels: merged.labels,
      factsJson,
      agentVersion: hello.agentVersion,
      running: hello.running,
      dryRun: hello.dryRun,
      nowMs,
    });
    ws.serializeAttachment({ ...att, hello: true } satisfies SocketAttachment);
    trySend(ws, {
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      nodeId: att.nodeId,
      heartbeatIntervalMs: intervals.heartbeatIntervalMs,
      telemetryIntervalMs: intervals.telemetryIntervalMs,
      serverTimeMs: nowMs,
    });
    const patch: NodeStatePatch = {
      status: "online",
      lastSeenAtMs: nowMs,
      facts: hello.facts,
      agentVersion: hello.agentVersion,
      running: hello.running,
      dryRun: hello.dryRun,
    };
    if (!sameLabels(merged.labels, JSON.parse(row.labels_json) as Labels)) {
      patch.labels = merged.labels;
    }
    store.nodes.setD1Seen(att.nodeId, nowMs);
    this.host.stepRollouts(att.nodeId, () => ({
      type: "node-online",
      atMs: nowMs,
      nodeId: att.nodeId,
      running: hello.running,
    }));
    await presence.mirror(row, patch, nowMs);
  }
}
