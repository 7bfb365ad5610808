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
 */

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { newId } from "../kernel/ids.js";
import { type FrameRefusal, parseNodeFrame } from "../schedcp/fleet/frames.js";
import { type Labels, mergeLabels, sameLabels } from "../schedcp/fleet/labels.js";
import {
  FLEET_OBJECT_LIMITS,
  type FleetIntervals,
  fleetIntervals,
} from "../schedcp/fleet/limits.js";
import {
  matchesSelector,
  type NodeSelector,
  NodeSelectorSchema,
  type NodeTarget,
  NodeTargetSchema,
} from "../schedcp/fleet/targets.js";
import {
  type CommandBody,
  CommandBodySchema,
  type ControlFrame,
  FLEET_CLOSE_CODES,
  type NodeFrame,
  PROTOCOL_VERSION,
  type VerifyJob,
  type VerifyResult,
} from "../schedcp/protocol/index.js";
import { abandonVerification, completeVerification } from "../schedcp/verification.js";
import { openDb } from "../store/db.js";
import { type NodeStatePatch, writeNodeState } from "../store/fleet.js";
import { belongsTo, RolloutEngine } from "./fleet-rollout-engine.js";
import { FleetStore, type NodeStateRow } from "./fleet-store.js";
import {
  CONNECT_IDENTITY_HEADER,
  type CommandOptions,
  type CommandResult,
  type CommandStatus,
  type ConnectIdentity,
  type DeployEventEntry,
  type FleetRpc,
  type NodeLive,
  type NodeWindowEntry,
  type RolloutCommandReply,
  type RolloutRequest,
  type RolloutRow,
  type Running,
  type SendCommandReply,
  type SeqPage,
  type StartRolloutReply,
  type StartVerifyReply,
  type TelemetryEntry,
  type VerifyResultEntry,
} from "./fleet-types.js";
import { type VerifyJobRow, VerifyJobStore } from "./fleet-verify.js";
import { WriteBehind } from "./fleet-writes.js";

export * from "./fleet-types.js";

/** What each socket carries across hibernation (`serializeAttachment`, at most 2 KiB). */
interface SocketAttachment {
  nodeId: string;
  connId: string;
  credentialId: string;
  role: ConnectIdentity["role"];
  connectedAtMs: number;
  hello: boolean;
}

/** A node's newest report may be this many telemetry intervals old when its health is judged. */
const ROLLOUT_REPORT_AGE_INTERVALS = 3;

/** Workers allow at most this many tags per WebSocket. */
const MAX_SOCKET_TAGS = 10;

/** The tag that finds a node's sockets. */
export function nodeTag(nodeId: string): string {
  return `node:${nodeId}`;
}

/**
 * Tags of a node's socket: its id, its role and as many `label:k=v` as fit. The object's node
 * table, not the tags, is what selectors are resolved against, so labels past the tag limit
 * still select.
 */
export function socketTags(
  identity: Pick<ConnectIdentity, "nodeId" | "role" | "labels">,
): string[] {
  const labels = Object.keys(identity.labels)
    .sort()
    .map((key) => `label:${key}=${identity.labels[key]}`);
  return [nodeTag(identity.nodeId), `role:${identity.role}`, ...labels].slice(0, MAX_SOCKET_TAGS);
}

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

interface BatchWaiter {
  open: number;
  resolve: () => void;
}

export class Fleet extends DurableObject<Env> implements FleetRpc {
  private readonly store: FleetStore;
  private readonly intervals: FleetIntervals;
  /** RPC callers waiting for every command of a batch to settle, by batch id. */
  private readonly waiters = new Map<string, BatchWaiter>();
  /** Acks, last-seen times and telemetry, written together (fleet-writes.ts). */
  private readonly writes: WriteBehind;
  private readonly verifyJobs: VerifyJobStore;
  /** Jobs whose result is being written to the repository now (settled once, not twice). */
  private readonly completing = new Set<string>();
  private readonly engine: RolloutEngine;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new FleetStore(ctx.storage.sql);
    this.verifyJobs = new VerifyJobStore(ctx.storage.sql);
    this.writes = new WriteBehind(this.store, ctx.storage);
    this.intervals = fleetIntervals(env);
    this.engine = new RolloutEngine(ctx.storage.sql, {
      sendText: (nodeId, text) => {
        const ws = this.helloedSockets(this.store.routing()).get(nodeId);
        return ws !== undefined && this.trySendText(ws, text);
      },
      telemetry: (nodeId, limit) => {
        this.writes.flush();
        return this.store.telemetryPage(nodeId, null, limit).items;
      },
      transact: (fn) => ctx.storage.transactionSync(fn),
      tenantId: () => this.store.tenant() ?? "",
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
      this.refuse(old, {
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
    this.store.claimConnection(identity, connId);
    await this.scheduleAlarm(nowMs);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const att = attachmentOf(ws);
    if (!att) return ws.close(FLEET_CLOSE_CODES.badFrame, "unknown connection");
    // Every frame checks that its connection still speaks for the node (one narrow read);
    // the full row is read only by the frames that need it.
    const speaking = this.store.connectionOf(att.nodeId);
    if (!speaking || speaking.conn_id !== att.connId) {
      this.refuse(ws, {
        closeCode: FLEET_CLOSE_CODES.replaced,
        error: { code: "replaced", message: "a newer connection of this node took over" },
      });
      return;
    }
    const parsed = parseNodeFrame(message);
    if (!parsed.ok) return this.refuseAndDrop(ws, att, parsed);
    const frame = parsed.frame;
    const nowMs = Date.now();
    if (!att.hello) {
      if (frame.type !== "hello") {
        return this.refuseAndDrop(ws, att, {
          closeCode: FLEET_CLOSE_CODES.badFrame,
          error: {
            code: "hello_expected",
            message: `the first frame must be hello, not ${frame.type}`,
          },
        });
      }
      const row = this.store.node(att.nodeId);
      if (!row) return;
      return this.onHello(ws, att, row, frame, nowMs);
    }
    switch (frame.type) {
      case "hello":
        return this.refuseAndDrop(ws, att, {
          closeCode: FLEET_CLOSE_CODES.badFrame,
          error: { code: "hello_repeated", message: "hello is sent once per connection" },
        });
      case "heartbeat":
        this.touch(att.nodeId, nowMs);
        if (
          speaking.d1_seen_ms === null ||
          nowMs - speaking.d1_seen_ms >= FLEET_OBJECT_LIMITS.lastSeenRefreshMs
        ) {
          const row = this.store.node(att.nodeId);
          if (row) await this.refreshLastSeen(row, nowMs);
        }
        return;
      case "telemetry":
        this.writes.telemetry({
          nodeId: att.nodeId,
          atMs: frame.atMs,
          receivedAtMs: nowMs,
          reportJson: JSON.stringify(frame.report),
        });
        this.touch(att.nodeId, nowMs);
        this.stepRollouts(att.nodeId, () => ({
          type: "telemetry",
          atMs: nowMs,
          nodeId: att.nodeId,
          report: frame.report,
        }));
        return;
      case "ack": {
        this.touch(att.nodeId, nowMs);
        // A rollout's command (its ids are the rollout's own, never a batch's).
        this.stepRollouts(att.nodeId, (rolloutId) =>
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
        if (this.writes.hasAck(frame.commandId)) return;
        const batchId = this.store.openBatchOf(frame.commandId, att.nodeId);
        if (batchId === null) return;
        this.writes.ack({
          commandId: frame.commandId,
          nodeId: att.nodeId,
          ok: frame.ok,
          error: frame.ok
            ? null
            : (frame.error ?? { code: "failed", message: "the node refused it" }),
          atMs: nowMs,
        });
        this.settled([batchId]);
        return;
      }
      case "deploy-status": {
        this.touch(att.nodeId, nowMs);
        const row = this.store.node(att.nodeId);
        if (!row) return;
        this.store.addDeployEvent(att.nodeId, nowMs, JSON.stringify(frame));
        this.stepRollouts(att.nodeId, (rolloutId) =>
          belongsTo(rolloutId, frame.assignmentId)
            ? { type: "deploy-status", atMs: nowMs, nodeId: att.nodeId, status: frame }
            : null,
        );
        const before = row.running_json;
        const after = frame.running === null ? null : JSON.stringify(frame.running);
        if (before !== after) {
          this.store.setRunning(att.nodeId, frame.running);
          await this.mirror(row, { running: frame.running }, nowMs);
        }
        return;
      }
      case "verify-result":
        if (att.role !== "verifier") {
          return this.refuseAndDrop(ws, att, {
            closeCode: FLEET_CLOSE_CODES.forbidden,
            error: { code: "not_a_verifier", message: "only verifier nodes send verify-result" },
          });
        }
        this.touch(att.nodeId, nowMs);
        this.store.putVerifyResult(
          frame.result.jobId,
          att.nodeId,
          nowMs,
          JSON.stringify(frame.result),
        );
        await this.completeJob(att.nodeId, frame.result, nowMs);
        return;
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // Complete the closing handshake (a no-op where the runtime already answered the close).
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
    } catch {
      // already closed
    }
    await this.dropConnection(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.dropConnection(ws);
  }

  /** Times out overdue commands, closes silent sockets, reconciles status, and re-arms. */
  override async alarm(): Promise<void> {
    const nowMs = Date.now();
    this.writes.flush();
    this.settled(this.store.timeOutDue(nowMs));
    await this.timeOutJobs(nowMs);
    this.engine.tick(nowMs);
    await this.engine.drain(openDb(this.env.DB));
    const liveConnIds = new Set<string>();
    const staleAfterMs = this.intervals.heartbeatIntervalMs * FLEET_OBJECT_LIMITS.missedHeartbeats;
    for (const ws of this.ctx.getWebSockets()) {
      const att = attachmentOf(ws);
      if (!att) continue;
      const row = this.store.node(att.nodeId);
      if (!att.hello) {
        if (nowMs - att.connectedAtMs >= FLEET_OBJECT_LIMITS.helloTimeoutMs) {
          this.refuse(ws, {
            closeCode: FLEET_CLOSE_CODES.heartbeatTimeout,
            error: { code: "hello_timeout", message: "no hello in time" },
          });
          if (row) await this.offline(row, att.connId, nowMs);
          continue;
        }
      } else if (row && row.conn_id === att.connId) {
        const seenMs = row.last_seen_ms ?? att.connectedAtMs;
        if (nowMs - seenMs >= staleAfterMs) {
          this.refuse(ws, {
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
    for (const row of this.store.nodes("online")) {
      if (row.conn_id === null || !liveConnIds.has(row.conn_id)) {
        await this.offline(row, row.conn_id, nowMs);
      }
    }
    this.store.pruneCommands(nowMs);
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
    const parsedTarget = NodeTargetSchema.safeParse(target);
    const parsedBody = CommandBodySchema.safeParse(body);
    if (!parsedTarget.success || !parsedBody.success) {
      const issue = (parsedTarget.error ?? parsedBody.error)?.issues[0];
      return {
        ok: false,
        code: "invalid_command",
        message: `${issue?.path.map(String).join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
      };
    }
    const timeoutMs = options.timeoutMs ?? FLEET_OBJECT_LIMITS.commandTimeoutDefaultMs;
    if (
      !Number.isInteger(timeoutMs) ||
      timeoutMs < FLEET_OBJECT_LIMITS.commandTimeoutMinMs ||
      timeoutMs > FLEET_OBJECT_LIMITS.commandTimeoutMaxMs
    ) {
      return {
        ok: false,
        code: "invalid_command",
        message: `timeoutMs: expected an integer from ${FLEET_OBJECT_LIMITS.commandTimeoutMinMs} to ${FLEET_OBJECT_LIMITS.commandTimeoutMaxMs}`,
      };
    }
    const nodeIds = this.resolveTarget(parsedTarget.data);
    if (nodeIds.length > FLEET_OBJECT_LIMITS.commandTargetsMax) {
      return {
        ok: false,
        code: "too_many_targets",
        message: `${nodeIds.length} nodes selected; one command goes to at most ${FLEET_OBJECT_LIMITS.commandTargetsMax}`,
      };
    }

    const command = parsedBody.data;
    const nowMs = Date.now();
    const batchId = newId("commandBatch", nowMs);
    const deadlineAtMs = nowMs + timeoutMs;
    const routing = this.store.routing();
    const roles = new Map(routing.map((r) => [r.node_id, r.role]));
    const sockets = this.helloedSockets(routing);
    // The body is the same for every node: encode it once (an assignment is a few KiB).
    const bodyJson = JSON.stringify(command);
    let open = 0;
    for (const nodeId of nodeIds) {
      const commandId = newId("command", nowMs);
      const role = roles.get(nodeId);
      const ws = sockets.get(nodeId);
      const base = {
        command_id: commandId,
        batch_id: batchId,
        node_id: nodeId,
        op: command.op,
        created_at_ms: nowMs,
        deadline_at_ms: deadlineAtMs,
      };
      const wrongRole = role ? roleRefusal(command, role) : null;
      if (wrongRole) {
        this.store.insertCommand({
          ...base,
          status: "failed",
          error_json: JSON.stringify(wrongRole),
          settled_at_ms: nowMs,
        });
        continue;
      }
      const frame = `{"type":"command","commandId":"${commandId}","deadlineAtMs":${deadlineAtMs},"body":${bodyJson}}`;
      if (!ws || !this.trySendText(ws, frame)) {
        this.store.insertCommand({
          ...base,
          status: "offline",
          error_json: JSON.stringify({ code: "offline", message: "the node is not connected" }),
          settled_at_ms: nowMs,
        });
        continue;
      }
      this.store.insertCommand({ ...base, status: "sent", error_json: null, settled_at_ms: null });
      open += 1;
    }
    // Registered before the first await, so no ack can slip past it.
    const done =
      open > 0 && options.wait !== false
        ? new Promise<void>((resolve) => this.waiters.set(batchId, { open, resolve }))
        : Promise.resolve();
    if (open > 0) await this.scheduleAlarm(nowMs);
    await done;
    this.writes.flush();
    const results = this.store.batchResults(batchId);
    return { ok: true, batchId, results, counts: countByStatus(results) };
  }

  async commandResults(tenantId: string, commandIds: string[]): Promise<CommandResult[]> {
    if (!this.ownsTenant(tenantId)) return [];
    this.writes.flush();
    return this.store.commands(commandIds.slice(0, FLEET_OBJECT_LIMITS.commandTargetsMax));
  }

  async node(tenantId: string, nodeId: string): Promise<NodeLive | null> {
    if (!this.ownsTenant(tenantId)) return null;
    this.writes.flush();
    const row = this.store.node(nodeId);
    if (!row) return null;
    const latest = this.store.telemetryPage(nodeId, null, 1).items[0] ?? null;
    return { ...liveView(row), lastTelemetry: latest };
  }

  async nodes(tenantId: string, selector: NodeSelector): Promise<NodeLive[]> {
    if (!this.ownsTenant(tenantId)) return [];
    this.writes.flush();
    const parsed = NodeSelectorSchema.parse(selector);
    return this.store
      .nodes("all")
      .filter((row) => matchesSelector(JSON.parse(row.labels_json), row.role, parsed))
      .map((row) => ({ ...liveView(row), facts: null, lastTelemetry: null }));
  }

  async telemetry(
    tenantId: string,
    nodeId: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<SeqPage<TelemetryEntry>> {
    if (!this.ownsTenant(tenantId)) return { items: [], nextBeforeSeq: null };
    this.writes.flush();
    return this.store.telemetryPage(nodeId, beforeSeq, limit);
  }

  async deployEvents(
    tenantId: string,
    nodeId: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<SeqPage<DeployEventEntry>> {
    if (!this.ownsTenant(tenantId)) return { items: [], nextBeforeSeq: null };
    return this.store.deployEventPage(nodeId, beforeSeq, limit);
  }

  async windows(
    tenantId: string,
    nodeIds: string[],
    reportsPerNode: number,
  ): Promise<NodeWindowEntry[]> {
    if (!this.ownsTenant(tenantId)) return [];
    this.writes.flush();
    const limit = Math.max(
      1,
      Math.min(Math.trunc(reportsPerNode), FLEET_OBJECT_LIMITS.telemetryHistoryPerNode),
    );
    return nodeIds.slice(0, FLEET_OBJECT_LIMITS.windowNodesMax).map((nodeId) => {
      const row = this.store.node(nodeId);
      if (!row) return { nodeId, facts: null, reports: [] };
      return {
        nodeId,
        facts: row.facts_json === null ? null : JSON.parse(row.facts_json),
        reports: this.store.telemetryPage(nodeId, null, limit).items,
      };
    });
  }

  async startVerify(
    tenantId: string,
    job: VerifyJob,
    options: { timeoutMs: number; ackTimeoutMs?: number },
  ): Promise<StartVerifyReply> {
    if (!this.ownsTenant(tenantId)) {
      return { ok: false, code: "wrong_tenant", message: "another tenant's object", tried: [] };
    }
    const candidates = this.store
      .nodes("online")
      .filter((row) => row.role === "verifier")
      .filter((row) => this.verifyJobs.runningOn(row.node_id).length === 0);
    const tried: Extract<StartVerifyReply, { ok: false }>["tried"] = [];
    for (const row of candidates) {
      const nowMs = Date.now();
      const deadlineAtMs = nowMs + options.timeoutMs;
      // Recorded before the command goes out: the upload and the result may follow the ack at once.
      this.verifyJobs.insert({
        jobId: job.jobId,
        nodeId: row.node_id,
        policyId: job.policyId,
        version: job.version,
        createdAtMs: nowMs,
        deadlineAtMs,
      });
      const reply = await this.sendCommand(
        tenantId,
        { nodeIds: [row.node_id] },
        { op: "verify", job },
        { timeoutMs: options.ackTimeoutMs ?? FLEET_OBJECT_LIMITS.commandTimeoutDefaultMs },
      );
      const result = reply.ok ? reply.results[0] : undefined;
      if (result?.status === "acked") {
        await this.scheduleAlarm(Date.now());
        return { ok: true, nodeId: row.node_id, deadlineAtMs };
      }
      const error = result?.error
        ? `${result.error.code}: ${result.error.message}`
        : reply.ok
          ? null
          : reply.message;
      tried.push({ nodeId: row.node_id, status: result?.status ?? "failed", error });
      // Not taken: the next node gets the same job under the same id.
      this.verifyJobs.remove(job.jobId);
    }
    return tried.length === 0
      ? {
          ok: false,
          code: "no_verifier",
          message: "no verifier node of this tenant is connected and idle",
          tried,
        }
      : {
          ok: false,
          code: "refused",
          message: `no verifier took the job: ${tried.map((t) => `${t.nodeId} ${t.status}${t.error ? ` (${t.error})` : ""}`).join("; ")}`,
          tried,
        };
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
    return this.store.verifyResult(jobId);
  }

  async revoke(
    tenantId: string,
    nodeId: string,
    credentialId: string,
  ): Promise<{ closed: number }> {
    if (!this.ownsTenant(tenantId)) return { closed: 0 };
    const nowMs = Date.now();
    this.store.revoke(credentialId, nodeId, nowMs);
    let closed = 0;
    for (const ws of this.ctx.getWebSockets(nodeTag(nodeId))) {
      const att = attachmentOf(ws);
      if (!att || att.credentialId !== credentialId) continue;
      this.refuse(ws, {
        closeCode: FLEET_CLOSE_CODES.unauthorized,
        error: { code: "credential_revoked", message: "this node's credential was revoked" },
      });
      this.store.markOffline(nodeId, att.connId);
      closed += 1;
    }
    // D1 already says offline and revoked: the revoking route wrote it.
    return { closed };
  }

  // -------------------------------------------------------------------------------------------
  // Rollouts (fleet-rollout-engine.ts)

  async startRollout(tenantId: string, request: RolloutRequest): Promise<StartRolloutReply> {
    if (!this.ownsTenant(tenantId)) {
      return { ok: false, code: "wrong_tenant", message: "another tenant's object", nodeIds: [] };
    }
    this.writes.flush();
    const routing = new Map(this.store.routing().map((r) => [r.node_id, r]));
    const nodeIds =
      "nodeIds" in request.target
        ? [...new Set(request.target.nodeIds)]
        : this.resolveTarget({ selector: { ...request.target.selector, role: "node" } });
    const refuse = (
      code: Extract<StartRolloutReply, { ok: false }>["code"],
      ids: string[],
      what: string,
    ) => ({ ok: false, code, message: `${what}: ${ids.join(", ")}`, nodeIds: ids }) as const;
    if (nodeIds.length === 0) {
      return {
        ok: false,
        code: "no_nodes",
        message: "the labels match no node of role node",
        nodeIds: [],
      };
    }
    const unknown = nodeIds.filter((id) => !routing.has(id));
    if (unknown.length > 0) return refuse("unknown_nodes", unknown, "no such node in this fleet");
    const verifiers = nodeIds.filter((id) => routing.get(id)!.role !== "node");
    if (verifiers.length > 0) {
      return refuse("wrong_role", verifiers, "policies roll out to nodes of role node, not to");
    }
    const offline = nodeIds.filter((id) => routing.get(id)!.status !== "online");
    if (offline.length > 0) return refuse("offline", offline, "these nodes are not connected");
    const busy = nodeIds.filter((id) => this.engine.store.liveFor(id).length > 0);
    if (busy.length > 0) {
      return refuse(
        "busy",
        busy,
        "these nodes take part in another live rollout (roll it back first)",
      );
    }
    const nowMs = Date.now();
    const started = this.engine.start(
      {
        spec: {
          rolloutId: request.rolloutId,
          policyId: request.policyId,
          version: request.version,
          nodes: nodeIds,
          canaryFraction: request.canaryFraction,
          healthWindowMs: request.healthWindowMs,
          ackTimeoutMs: request.ackTimeoutMs,
          activateTimeoutMs: request.activateTimeoutMs,
          maxReportAgeMs:
            request.maxReportAgeMs ??
            Math.max(
              request.healthWindowMs,
              this.intervals.telemetryIntervalMs * ROLLOUT_REPORT_AGE_INTERVALS,
            ),
          guards: request.guards,
          breaker: request.breaker,
        },
        template: request.template,
        target: {
          nodeIds: "nodeIds" in request.target ? nodeIds : [],
          labels: "selector" in request.target ? request.target.selector.labels : null,
        },
        createdBy: request.createdBy,
      },
      nowMs,
    );
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

  private async onHello(
    ws: WebSocket,
    att: SocketAttachment,
    row: NodeStateRow,
    hello: Extract<NodeFrame, { type: "hello" }>,
    nowMs: number,
  ): Promise<void> {
    if (hello.role !== att.role) {
      return this.refuseAndDrop(ws, att, {
        closeCode: FLEET_CLOSE_CODES.forbidden,
        error: {
          code: "role_mismatch",
          message: `this node enrolled as ${att.role}, its hello says ${hello.role}`,
        },
      });
    }
    const merged = mergeLabels(hello.labels, JSON.parse(row.token_labels_json) as Labels);
    if (!merged.ok) {
      return this.refuseAndDrop(ws, att, {
        closeCode: FLEET_CLOSE_CODES.badFrame,
        error: { code: "too_many_labels", message: merged.message },
      });
    }
    const factsJson = JSON.stringify(hello.facts);
    this.store.markHello(att.nodeId, {
      labels: merged.labels,
      factsJson,
      agentVersion: hello.agentVersion,
      running: hello.running,
      dryRun: hello.dryRun,
      nowMs,
    });
    ws.serializeAttachment({ ...att, hello: true } satisfies SocketAttachment);
    this.trySend(ws, {
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      nodeId: att.nodeId,
      heartbeatIntervalMs: this.intervals.heartbeatIntervalMs,
      telemetryIntervalMs: this.intervals.telemetryIntervalMs,
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
    this.store.setD1Seen(att.nodeId, nowMs);
    this.stepRollouts(att.nodeId, () => ({
      type: "node-online",
      atMs: nowMs,
      nodeId: att.nodeId,
      running: hello.running,
    }));
    await this.mirror(row, patch, nowMs);
  }

  /** A verifier's result for its running job: into the repository, signed when it passes. */
  private async completeJob(nodeId: string, result: VerifyResult, nowMs: number): Promise<void> {
    const job = this.verifyJobs.get(result.jobId);
    if (job?.state !== "running" || job.nodeId !== nodeId) return;
    if (this.completing.has(job.jobId)) return;
    this.completing.add(job.jobId);
    try {
      const outcome = await completeVerification(
        this.env,
        openDb(this.env.DB),
        { ...job, tenantId: this.store.tenant() ?? "" },
        result,
        nowMs,
      );
      this.verifyJobs.settle(
        job.jobId,
        outcome.status === "signed" || outcome.status === "verified" ? "passed" : "rejected",
        outcome.reason,
        Date.now(),
      );
    } catch (error) {
      // The job stays running: its deadline returns the version to `checked`.
      console.error("fleet: storing a verification result failed", job.jobId, error);
    } finally {
      this.completing.delete(job.jobId);
    }
  }

  /** Jobs past their deadline: the version goes back to `checked`, to be tried again. */
  private async timeOutJobs(nowMs: number): Promise<void> {
    for (const job of this.verifyJobs.overdue(nowMs)) {
      if (this.completing.has(job.jobId)) continue;
      const reason = `verifier ${job.nodeId} sent no result within ${job.deadlineAtMs - job.createdAtMs} ms (job ${job.jobId}); verify it again`;
      if (!this.verifyJobs.settle(job.jobId, "timed_out", reason, nowMs)) continue;
      try {
        await abandonVerification(openDb(this.env.DB), job.policyId, job.version, reason, nowMs);
      } catch (error) {
        console.error("fleet: returning a version to checked failed", job.jobId, error);
      }
    }
  }

  /** Resolves a target to node ids (explicit ids as given, deduplicated; or the selector's). */
  private resolveTarget(target: NodeTarget): string[] {
    if ("nodeIds" in target) return [...new Set(target.nodeIds)];
    return this.store
      .routing()
      .filter((row) => matchesSelector(JSON.parse(row.labels_json), row.role, target.selector))
      .map((row) => row.node_id);
  }

  /** Sockets that said hello and still speak for their node, by node id. */
  private helloedSockets(
    routing: ReadonlyArray<{ node_id: string; conn_id: string | null; status: string }>,
  ): Map<string, WebSocket> {
    const byNode = new Map<string, WebSocket>();
    const current = new Map(
      routing.filter((r) => r.status === "online").map((r) => [r.node_id, r.conn_id]),
    );
    for (const ws of this.ctx.getWebSockets()) {
      const att = attachmentOf(ws);
      if (att?.hello && current.get(att.nodeId) === att.connId) byNode.set(att.nodeId, ws);
    }
    return byNode;
  }

  /** Wakes RPC callers whose batches have no open command left. */
  private settled(batchIds: readonly string[]): void {
    for (const batchId of batchIds) {
      const waiter = this.waiters.get(batchId);
      if (!waiter) continue;
      waiter.open -= 1;
      if (waiter.open <= 0) {
        this.waiters.delete(batchId);
        waiter.resolve();
      }
    }
  }

  /** Writes a node state change to D1 (versioned, so late writes cannot undo newer ones). */
  private async mirror(row: NodeStateRow, patch: NodeStatePatch, nowMs: number): Promise<void> {
    const stateVersion = this.store.nextStateVersion(row.node_id);
    try {
      await writeNodeState(
        openDb(this.env.DB),
        {
          tenantId: this.store.tenant() ?? "",
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

  /** While a node stays connected, D1's last-seen time is refreshed now and then, not per frame. */
  private async refreshLastSeen(row: NodeStateRow, nowMs: number): Promise<void> {
    this.store.setD1Seen(row.node_id, nowMs);
    await this.mirror(row, { lastSeenAtMs: nowMs }, nowMs);
  }

  private async offline(row: NodeStateRow, connId: string | null, nowMs: number): Promise<void> {
    if (this.store.markOffline(row.node_id, connId)) {
      this.stepRollouts(row.node_id, () => ({
        type: "node-offline",
        atMs: nowMs,
        nodeId: row.node_id,
      }));
      await this.mirror(row, { status: "offline", lastSeenAtMs: row.last_seen_ms ?? nowMs }, nowMs);
    }
  }

  private async dropConnection(ws: WebSocket): Promise<void> {
    const att = attachmentOf(ws);
    if (!att) return;
    const row = this.store.node(att.nodeId);
    if (row) await this.offline(row, att.connId, Date.now());
  }

  /** Refuses a frame: nothing was stored; the node is told why and the socket closed. */
  private async refuseAndDrop(
    ws: WebSocket,
    att: SocketAttachment,
    refusal: FrameRefusal,
  ): Promise<void> {
    this.refuse(ws, refusal);
    const row = this.store.node(att.nodeId);
    if (row) await this.offline(row, att.connId, Date.now());
  }

  private refuse(ws: WebSocket, refusal: FrameRefusal): void {
    this.trySend(ws, { type: "error", error: refusal.error });
    try {
      ws.close(refusal.closeCode, refusal.error.code);
    } catch {
      // already closing
    }
  }

  private trySend(ws: WebSocket, frame: ControlFrame): boolean {
    return this.trySendText(ws, JSON.stringify(frame));
  }

  private trySendText(ws: WebSocket, text: string): boolean {
    try {
      ws.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** Records that the node was heard from (written behind, with the acks and reports). */
  private touch(nodeId: string, nowMs: number): void {
    this.writes.touch(nodeId, nowMs);
  }

  /** Arms the alarm for the next deadline or sweep, unless an earlier one is set already. */
  private async scheduleAlarm(nowMs: number): Promise<void> {
    const candidates: number[] = [];
    const deadline = this.store.nextDeadline();
    if (deadline !== null) candidates.push(deadline);
    const jobDeadline = this.verifyJobs.nextDeadline();
    if (jobDeadline !== null) candidates.push(jobDeadline);
    const rolloutWake = this.engine.nextWake(nowMs, FLEET_OBJECT_LIMITS.sweepIntervalMaxMs);
    if (rolloutWake !== null) candidates.push(rolloutWake);
    if (this.ctx.getWebSockets().length > 0 || this.store.onlineCount() > 0) {
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

function attachmentOf(ws: WebSocket): SocketAttachment | null {
  return (ws.deserializeAttachment() as SocketAttachment | null) ?? null;
}

/** Assignments go to workload nodes, verification jobs to verifiers. */
function roleRefusal(
  command: CommandBody,
  role: ConnectIdentity["role"],
): { code: string; message: string } | null {
  if (command.op === "verify" && role !== "verifier") {
    return { code: "wrong_role", message: "verify jobs go to verifier nodes" };
  }
  if (command.op === "assign" && role !== "node") {
    return { code: "wrong_role", message: "assignments go to nodes of role node" };
  }
  return null;
}

function liveView(row: NodeStateRow): Omit<NodeLive, "lastTelemetry"> {
  return {
    nodeId: row.node_id,
    role: row.role,
    labels: JSON.parse(row.labels_json),
    status: row.status,
    connectedAtMs: row.connected_at_ms,
    lastSeenAtMs: row.last_seen_ms,
    agentVersion: row.agent_version,
    dryRun: row.dry_run === 1,
    running: row.running_json === null ? null : (JSON.parse(row.running_json) as Running),
    facts: row.facts_json === null ? null : JSON.parse(row.facts_json),
  };
}

function countByStatus(results: readonly CommandResult[]): Record<CommandStatus, number> {
  const counts: Record<CommandStatus, number> = {
    sent: 0,
    acked: 0,
    failed: 0,
    timed_out: 0,
    offline: 0,
  };
  for (const r of results) counts[r.status] += 1;
  return counts;
}
