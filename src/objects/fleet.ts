/**
 * Fleet: the Durable Object that holds a tenant's node connections. Nodes connect over
 * WebSockets (`GET /v1/fleet/connect`, handed over by the Worker after it checked the node
 * credential) and the object accepts them with the WebSocket Hibernation API, so an idle fleet
 * costs no compute: the object may be evicted between frames and wakes for the next one. What
 * it must remember across evictions is in its SQLite (fleet-store.ts) and in each socket's
 * attachment; nothing lives only in memory except the promises of RPC callers waiting for acks.
 *
 * Sharding. One object per tenant to start (`idFromName("tenant:<id>")`). One object serves on
 * the order of a thousand frames a second, which at a 15 s heartbeat and 10 s telemetry is a
 * few thousand nodes. Past that, the name becomes `tenant:<id>:shard:<key>` with the key a
 * region or another label fixed at enrollment (so a node always lands in the same shard): the
 * connect route picks the shard from the node's D1 row, `fleetStub` takes the shard key, and a
 * selector spanning shards fans out to each shard object and merges their replies. D1 already
 * holds the whole registry, so listing nodes does not change.
 *
 * Frames are parsed with the protocol's schemas before anything is stored; a bad or oversize
 * frame gets an `error` frame and a 4xxx close. D1 is written only when a node's state changes
 * (online/offline, facts, labels, what runs), never per heartbeat.
 *
 * The object itself is its entry points and its RPC surface; the work is in its siblings:
 * inbound frames in fleet-frames.ts, commands and their batch waiters in fleet-commands.ts,
 * online/offline and the alarm's sweep in fleet-presence.ts, verification jobs in
 * fleet-verify-dispatch.ts, rollouts in fleet-rollout-start.ts and fleet-rollout-engine.ts,
 * socket attachments, tags and sending in fleet-sockets.ts, and its SQLite in fleet-store.ts
 * (with its tables split over fleet-store-*.ts), fleet-writes.ts, fleet-verify.ts and
 * fleet-rollouts.ts.
 */

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import {
  FLEET_OBJECT_LIMITS,
  type FleetIntervals,
  fleetIntervals,
} from "../schedcp/fleet/limits.js";
import type { NodeSelector, NodeTarget } from "../schedcp/fleet/targets.js";
import { type CommandBody, FLEET_CLOSE_CODES, type VerifyJob } from "../schedcp/protocol/index.js";
import { openDb } from "../store/db.js";
import { CommandDispatcher } from "./fleet-commands.js";
import { FrameHandler } from "./fleet-frames.js";
import { NodePresence, type StepRollouts } from "./fleet-presence.js";
import { RolloutEngine } from "./fleet-rollout-engine.js";
import { rolloutStartInput } from "./fleet-rollout-start.js";
import {
  helloedSockets,
  nodeTag,
  refuse,
  type SocketAttachment,
  socketTags,
  trySendText,
} from "./fleet-sockets.js";
import { FleetStore } from "./fleet-store.js";
import {
  CONNECT_IDENTITY_HEADER,
  type CommandOptions,
  type CommandResult,
  type ConnectIdentity,
  type DeployEventEntry,
  type FleetRpc,
  type NodeLive,
  type NodeWindowEntry,
  type RolloutCommandReply,
  type RolloutRequest,
  type RolloutRow,
  type SendCommandReply,
  type SeqPage,
  type StartRolloutReply,
  type StartVerifyReply,
  type TelemetryEntry,
  type VerifyResultEntry,
} from "./fleet-types.js";
import { type VerifyJobRow, VerifyJobStore } from "./fleet-verify.js";
import { VerifyDispatcher } from "./fleet-verify-dispatch.js";
import { matchingNodes, nodeView, nodeWindows } from "./fleet-views.js";
import { WriteBehind } from "./fleet-writes.js";

export { nodeTag, socketTags } from "./fleet-sockets.js";
export * from "./fleet-types.js";

/** The object's name for a tenant (see the sharding note above). */
export function fleetObjectName(tenantId: string): string {
  return `tenant:${tenantId}`;
}

/**
 * The Fleet object of a tenant, typed by its RPC surface (plus `fetch`, which the connect
 * route alone uses to hand over a WebSocket upgrade).
 *
 * @example const reply = await fleetStub(env, tenantId).sendCommand(tenantId, { selector: { labels: {} } }, { op: "revert", assignmentId: null, reason: "rollback" })
 */
export function fleetStub(
  env: Pick<Env, "FLEET">,
  tenantId: string,
): FleetRpc & { fetch(request: Request): Promise<Response> } {
  return env.FLEET.get(env.FLEET.idFromName(fleetObjectName(tenantId))) as unknown as FleetRpc & {
    fetch(request: Request): Promise<Response>;
  };
}

export class Fleet extends DurableObject<Env> implements FleetRpc {
  private readonly store: FleetStore;
  private readonly intervals: FleetIntervals;
  /** Acks, last-seen times and telemetry, written together (fleet-writes.ts). */
  private readonly writes: WriteBehind;
  private readonly verifyJobs: VerifyJobStore;
  private readonly engine: RolloutEngine;
  private readonly presence: NodePresence;
  private readonly commands: CommandDispatcher;
  private readonly verify: VerifyDispatcher;
  private readonly frames: FrameHandler;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new FleetStore(ctx.storage.sql);
    this.verifyJobs = new VerifyJobStore(ctx.storage.sql);
    this.writes = new WriteBehind(this.store, ctx.storage);
    this.intervals = fleetIntervals(env);
    this.engine = new RolloutEngine(ctx.storage.sql, {
      sendText: (nodeId, text) => {
        const ws = helloedSockets(ctx.getWebSockets(), this.store.nodes.routing()).get(nodeId);
        return ws !== undefined && trySendText(ws, text);
      },
      telemetry: (nodeId, limit) => {
        this.writes.flush();
        return this.store.history.telemetryPage(nodeId, null, limit).items;
      },
      transact: (fn) => ctx.storage.transactionSync(fn),
      tenantId: () => this.store.tenant() ?? "",
    });
    const stepRollouts: StepRollouts = (nodeId, make) => this.stepRollouts(nodeId, make);
    const scheduleAlarm = (nowMs: number) => this.scheduleAlarm(nowMs);
    const sockets = (tag?: string) =>
      tag === undefined ? ctx.getWebSockets() : ctx.getWebSockets(tag);
    const { store, writes, intervals } = this;
    this.presence = new NodePresence({
      store,
      env,
      intervals,
      stepRollouts,
      sockets,
    });
    this.commands = new CommandDispatcher({
      store,
      writes,
      sockets,
      scheduleAlarm,
    });
    this.verify = new VerifyDispatcher({
      store,
      jobs: this.verifyJobs,
      env,
      sendCommand: (tenantId, target, body, options) =>
        this.sendCommand(tenantId, target, body, options),
      scheduleAlarm,
    });
    this.frames = new FrameHandler({
      store,
      writes,
      intervals,
      presence: this.presence,
      commands: this.commands,
      verify: this.verify,
      stepRollouts,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Connections

  /** The connect route's WebSocket upgrade, with the identity the Worker established. */
  override async fetch(request: Request): Promise<Response> {
    const raw = request.headers.get(CONNECT_IDENTITY_HEADER);
    if (!raw) return new Response("not found", { status: 404 });
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const identity = JSON.parse(raw) as ConnectIdentity;
    if (!this.ownsTenant(identity.tenantId)) return new Response("not found", { status: 404 });
    if (this.store.isRevoked(identity.credentialId)) {
      return new Response("credential revoked", { status: 401 });
    }
    const nowMs = Date.now();
    // A second connection of the same node replaces the first.
    for (const old of this.ctx.getWebSockets(nodeTag(identity.nodeId))) {
      refuse(old, {
        closeCode: FLEET_CLOSE_CODES.replaced,
        error: { code: "replaced", message: "a newer connection of this node took over" },
      });
    }
    const connId = crypto.randomUUID();
    const pair = new WebSocketPair();
    const server = pair[1];
    this.ctx.acceptWebSocket(server, socketTags(identity));
    const attachment: SocketAttachment = {
      nodeId: identity.nodeId,
      connId,
      credentialId: identity.credentialId,
      role: identity.role,
      connectedAtMs: nowMs,
      hello: false,
    };
    server.serializeAttachment(attachment);
    this.store.nodes.claimConnection(identity, connId);
    await this.scheduleAlarm(nowMs);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** One frame of a node (fleet-frames.ts). */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.frames.onMessage(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // Complete the closing handshake (a no-op where the runtime already answered the close).
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {
      // already closed
    }
    await this.presence.dropConnection(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.presence.dropConnection(ws);
  }

  /** Times out overdue commands, closes silent sockets, reconciles status, and re-arms. */
  override async alarm(): Promise<void> {
    const nowMs = Date.now();
    this.writes.flush();
    this.commands.settled(this.store.commands.timeOutDue(nowMs));
    await this.verify.timeOut(nowMs);
    this.engine.tick(nowMs);
    await this.engine.drain(openDb(this.env.DB));
    await this.presence.sweep(nowMs);
    this.store.commands.prune(nowMs);
    await this.scheduleAlarm(nowMs);
  }

  // -------------------------------------------------------------------------------------------
  // RPC

  async sendCommand(
    tenantId: string,
    target: NodeTarget,
    body: CommandBody,
    options: CommandOptions = {},
  ): Promise<SendCommandReply> {
    if (!this.ownsTenant(tenantId)) {
      return { ok: false, code: "wrong_tenant", message: "this object serves another tenant" };
    }
    return this.commands.send(target, body, options);
  }

  async commandResults(tenantId: string, commandIds: string[]): Promise<CommandResult[]> {
    if (!this.ownsTenant(tenantId)) return [];
    return this.commands.results(commandIds);
  }

  async node(tenantId: string, nodeId: string): Promise<NodeLive | null> {
    if (!this.ownsTenant(tenantId)) return null;
    this.writes.flush();
    return nodeView(this.store, nodeId);
  }

  async nodes(tenantId: string, selector: NodeSelector): Promise<NodeLive[]> {
    if (!this.ownsTenant(tenantId)) return [];
    this.writes.flush();
    return matchingNodes(this.store, selector);
  }

  async telemetry(
    tenantId: string,
    nodeId: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<SeqPage<TelemetryEntry>> {
    if (!this.ownsTenant(tenantId)) return { items: [], nextBeforeSeq: null };
    this.writes.flush();
    return this.store.history.telemetryPage(nodeId, beforeSeq, limit);
  }

  async deployEvents(
    tenantId: string,
    nodeId: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<SeqPage<DeployEventEntry>> {
    if (!this.ownsTenant(tenantId)) return { items: [], nextBeforeSeq: null };
    return this.store.history.deployEventPage(nodeId, beforeSeq, limit);
  }

  async windows(
    tenantId: string,
    nodeIds: string[],
    reportsPerNode: number,
  ): Promise<NodeWindowEntry[]> {
    if (!this.ownsTenant(tenantId)) return [];
    this.writes.flush();
    return nodeWindows(this.store, nodeIds, reportsPerNode);
  }

  async startVerify(
    tenantId: string,
    job: VerifyJob,
    options: { timeoutMs: number; ackTimeoutMs?: number },
  ): Promise<StartVerifyReply> {
    if (!this.ownsTenant(tenantId)) {
      return { ok: false, code: "wrong_tenant", message: "another tenant's object", tried: [] };
    }
    return this.verify.start(tenantId, job, options);
  }

  async verifyJob(tenantId: string, jobId: string): Promise<VerifyJobRow | null> {
    if (!this.ownsTenant(tenantId)) return null;
    return this.verifyJobs.get(jobId);
  }

  async verifyUploaded(
    tenantId: string,
    jobId: string,
    nodeId: string,
    sha256: string,
    sizeBytes: number,
  ): Promise<boolean> {
    if (!this.ownsTenant(tenantId)) return false;
    return this.verifyJobs.setUpload(jobId, nodeId, sha256, sizeBytes);
  }

  async verifyResult(tenantId: string, jobId: string): Promise<VerifyResultEntry | null> {
    if (!this.ownsTenant(tenantId)) return null;
    return this.store.verifyResults.get(jobId);
  }

  async revoke(
    tenantId: string,
    nodeId: string,
    credentialId: string,
  ): Promise<{ closed: number }> {
    if (!this.ownsTenant(tenantId)) return { closed: 0 };
    const closed = this.presence.revoke(nodeId, credentialId, Date.now());
    // D1 already says offline and revoked: the revoking route wrote it.
    return { closed };
  }

  // -------------------------------------------------------------------------------------------
  // Rollouts (fleet-rollout-start.ts, fleet-rollout-engine.ts)

  async startRollout(tenantId: string, request: RolloutRequest): Promise<StartRolloutReply> {
    if (!this.ownsTenant(tenantId)) {
      return { ok: false, code: "wrong_tenant", message: "another tenant's object", nodeIds: [] };
    }
    this.writes.flush();
    const routing = new Map(this.store.nodes.routing().map((r) => [r.node_id, r]));
    const nodeIds =
      "nodeIds" in request.target
        ? [...new Set(request.target.nodeIds)]
        : this.commands.resolveTarget({ selector: { ...request.target.selector, role: "node" } });
    const checked = rolloutStartInput(
      request,
      nodeIds,
      routing,
      (id) => this.engine.store.liveFor(id).length > 0,
      this.intervals.telemetryIntervalMs,
    );
    if (!checked.ok) return checked;
    const nowMs = Date.now();
    const started = this.engine.start(checked.input, nowMs);
    if (!started.ok) return { ...started, nodeIds: [] };
    this.ctx.waitUntil(this.engine.drain(openDb(this.env.DB)));
    await this.scheduleAlarm(nowMs);
    return started;
  }

  async rollout(tenantId: string, rolloutId: string): Promise<RolloutRow | null> {
    if (!this.ownsTenant(tenantId)) return null;
    return this.engine.store.get(rolloutId);
  }

  async rollouts(
    tenantId: string,
    query: { limit: number; beforeId: string | null; phase: string | null },
  ): Promise<RolloutRow[]> {
    if (!this.ownsTenant(tenantId)) return [];
    return this.engine.store.list(query.limit, query.beforeId, query.phase);
  }

  async rolloutCommand(
    tenantId: string,
    rolloutId: string,
    command: { type: "stop" | "rollback"; actor: string; reason: string },
  ): Promise<RolloutCommandReply> {
    if (!this.ownsTenant(tenantId)) {
      return { ok: false, code: "not_found", message: `no rollout ${rolloutId}` };
    }
    const nowMs = Date.now();
    const reply = this.engine.command(rolloutId, { ...command, atMs: nowMs });
    this.ctx.waitUntil(this.engine.drain(openDb(this.env.DB)));
    await this.scheduleAlarm(nowMs);
    return reply;
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  /** Steps the node's live rollouts, then writes their records to D1 behind the frame. */
  private stepRollouts(nodeId: string, make: Parameters<RolloutEngine["onNode"]>[1]): void {
    this.engine.onNode(nodeId, make);
    if (this.engine.store.outboxSize() > 0) {
      this.ctx.waitUntil(this.engine.drain(openDb(this.env.DB)));
      this.ctx.waitUntil(this.scheduleAlarm(Date.now()));
    }
  }

  /** Arms the alarm for the next deadline or sweep, unless an earlier one is set already. */
  private async scheduleAlarm(nowMs: number): Promise<void> {
    const candidates: number[] = [];
    const deadline = this.store.commands.nextDeadline();
    if (deadline !== null) candidates.push(deadline);
    const jobDeadline = this.verifyJobs.nextDeadline();
    if (jobDeadline !== null) candidates.push(jobDeadline);
    const rolloutWake = this.engine.nextWake(nowMs, FLEET_OBJECT_LIMITS.sweepIntervalMaxMs);
    if (rolloutWake !== null) candidates.push(rolloutWake);
    if (this.ctx.getWebSockets().length > 0 || this.store.nodes.onlineCount() > 0) {
      candidates.push(
        nowMs +
          Math.min(
            this.intervals.heartbeatIntervalMs,
            FLEET_OBJECT_LIMITS.helloTimeoutMs,
            FLEET_OBJECT_LIMITS.sweepIntervalMaxMs,
          ),
      );
    }
    if (candidates.length === 0) return;
    const wanted = Math.min(...candidates);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > wanted) await this.ctx.storage.setAlarm(wanted);
  }

  /**
   * Whether this object serves `tenantId` (the first caller names it). Another tenant's calls
   * are answered like calls about missing nodes, as everywhere in the API.
   */
  private ownsTenant(tenantId: string): boolean {
    const stored = this.store.tenant();
    if (stored === null) this.store.setTenant(tenantId);
    return stored === null || stored === tenantId;
  }
}
