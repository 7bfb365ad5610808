/**
 * Commands to nodes, as the Fleet object's `sendCommand` and `commandResults` serve them: a
 * target resolved to node ids, one command per node recorded and sent on its socket (or settled
 * at once as `failed` or `offline`), and the RPC caller woken when every command of its batch has
 * settled (an ack, or the alarm's deadline). Separate from the object because the batch waiters
 * live in memory and are settled from two other places — the frame handler's acks and the
 * alarm's timeouts — through `settled`, which is the only way in.
 */

import { newId } from "../kernel/ids.js";
import { FLEET_OBJECT_LIMITS } from "../schedcp/fleet/limits.js";
import { matchesSelector, type NodeTarget, NodeTargetSchema } from "../schedcp/fleet/targets.js";
import { type CommandBody, CommandBodySchema } from "../schedcp/protocol/index.js";
import { helloedSockets, trySendText } from "./fleet-sockets.js";
import type { FleetStore } from "./fleet-store.js";
import type {
  CommandOptions,
  CommandResult,
  CommandStatus,
  ConnectIdentity,
  SendCommandReply,
} from "./fleet-types.js";
import type { WriteBehind } from "./fleet-writes.js";

/** What the dispatcher needs of the Fleet object. */
export interface CommandHost {
  store: FleetStore;
  writes: WriteBehind;
  /** Every socket the object holds (`ctx.getWebSockets()`). */
  sockets(): WebSocket[];
  scheduleAlarm(nowMs: number): Promise<void>;
}

interface BatchWaiter {
  open: number;
  resolve: () => void;
}

export class CommandDispatcher {
  /** RPC callers waiting for every command of a batch to settle, by batch id. */
  private readonly waiters = new Map<string, BatchWaiter>();

  constructor(private readonly host: CommandHost) {}

  /**
   * Sends a command to every node of the target and, unless `options.wait` is false, waits
   * until each has settled. The caller has checked the tenant.
   *
   * @example await commands.send({ nodeIds: ["n1"] }, { op: "revert", assignmentId: null, reason: "rollback" })
   */
  async send(
    target: NodeTarget,
    body: CommandBody,
    options: CommandOptions = {},
  ): Promise<SendCommandReply> {
    const { store, writes } = this.host;
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
    const routing = store.nodes.routing();
    const roles = new Map(routing.map((r) => [r.node_id, r.role]));
    const sockets = helloedSockets(this.host.sockets(), routing);
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
        store.commands.insert({
          ...base,
          status: "failed",
          error_json: JSON.stringify(wrongRole),
          settled_at_ms: nowMs,
        });
        continue;
      }
      const frame = `{"type":"command","commandId":"${commandId}","deadlineAtMs":${deadlineAtMs},"body":${bodyJson}}`;
      if (!ws || !trySendText(ws, frame)) {
        store.commands.insert({
          ...base,
          status: "offline",
          error_json: JSON.stringify({ code: "offline", message: "the node is not connected" }),
          settled_at_ms: nowMs,
        });
        continue;
      }
      store.commands.insert({ ...base, status: "sent", error_json: null, settled_at_ms: null });
      open += 1;
    }
    // Registered before the first await, so no ack can slip past it.
    const done =
      open > 0 && options.wait !== false
        ? new Promise<void>((resolve) => this.waiters.set(batchId, { open, resolve }))
        : Promise.resolve();
    if (open > 0) await this.host.scheduleAlarm(nowMs);
    await done;
    writes.flush();
    const results = store.commands.batchResults(batchId);
    return { ok: true, batchId, results, counts: countByStatus(results) };
  }

  /**
   * Where the named commands stand (acks written behind are flushed first).
   *
   * @example commands.results(["cmd_01"]) // [{ commandId: "cmd_01", status: "acked", … }]
   */
  results(commandIds: string[]): CommandResult[] {
    this.host.writes.flush();
    return this.host.store.commands.results(
      commandIds.slice(0, FLEET_OBJECT_LIMITS.commandTargetsMax),
    );
  }

  /**
   * Wakes RPC callers whose batches have no open command left (one settled command per id).
   *
   * @example commands.settled(store.commands.timeOutDue(Date.now()))
   */
  settled(batchIds: readonly string[]): void {
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

  /**
   * Resolves a target to node ids (explicit ids as given, deduplicated; or the selector's).
   *
   * @example commands.resolveTarget({ selector: { labels: { zone: "a" } } }) // ["n1", "n2"]
   */
  resolveTarget(target: NodeTarget): string[] {
    if ("nodeIds" in target) return [...new Set(target.nodeIds)];
    return this.host.store.nodes
      .routing()
      .filter((row) => matchesSelector(JSON.parse(row.labels_json), row.role, target.selector))
      .map((row) => row.node_id);
  }
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
