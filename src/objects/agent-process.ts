/**
 * AgentProcess: one Durable Object per agent process, the authority for its state. It holds
 * the process control block, its append-only event log and its conversation in SQLite, steps
 * the kernel state machine, and runs the agent loop one step per alarm (see agent-loop.ts).
 *
 * Callers address it with `processStub(env, processId)` and talk RPC. Every caller-facing
 * method takes the caller's tenant: a process of another tenant answers like a missing one.
 */

import { DurableObject } from "cloudflare:workers";
import type { Envelope } from "../bus/envelope.js";
import type { Env } from "../env.js";
import { KernelError } from "../kernel/errors.js";
import {
  applyEvent,
  createRecord,
  type SpawnInit,
  type Stepped,
} from "../kernel/process/lifecycle.js";
import type { ProcessEventRecord, ProcessRecord } from "../kernel/process/record.js";
import {
  isNoopTerminate,
  isTerminal,
  type ProcessEvent,
  type ProcessState,
} from "../kernel/process/state.js";
import type { ScriptedTurn } from "../llm/scripted.js";
import { openDb } from "../store/db.js";
import { upsertProcessIndex } from "../store/process-index.js";
import { type LoopHost, returnLease, runStep, tryWake } from "./agent-loop.js";
import {
  type CallerSyscall,
  type CallerSyscallResult,
  gateCallerSyscall,
} from "./caller-syscall.js";
import {
  ackMessage,
  attachMailbox,
  type DeliveryResult,
  deliver,
  listMailbox,
  type MailboxPage,
} from "./mailbox.js";
import type { MailboxMessage } from "./mailbox-store.js";
import { writeProcessEndMemory } from "./memory-end.js";
import { ProcessStore } from "./process-store.js";
import { type PurgeResult, purgeObjectStorage } from "./purge.js";
import { schedulerStub } from "./scheduler.js";
import type { Lease } from "./scheduler-types.js";
import { serveWorkspace, type WorkspaceReply, type WorkspaceRequest } from "./workspace.js";

/** Signals a caller may send through the API. */
export type ProcessSignal = "pause" | "resume" | "terminate";

/** A spawn as the object receives it: the kernel's init plus how the process should start. */
export interface ProcessSpawn extends SpawnInit {
  /** Assistant turns for the `scripted` model. */
  script?: ScriptedTurn[] | undefined;
  /** Start suspended, in `paused`, until resumed. */
  paused?: boolean | undefined;
}

export type SpawnResult =
  | { ok: true; record: ProcessRecord; created: boolean }
  | { ok: false; code: "conflict" };

export type SignalResult =
  | { ok: true; record: ProcessRecord; changed: boolean }
  | { ok: false; code: "not_found" }
  | { ok: false; code: "illegal_transition"; state: ProcessState; detail: string };

export interface EventPage {
  events: ProcessEventRecord[];
  /** Sequence number to pass as `afterSeq` for the next page, or null at the end. */
  nextAfterSeq: number | null;
}

/**
 * The RPC surface of an AgentProcess. Callers use `processStub()` rather than the raw stub so
 * the types stay plain (workerd's RPC type mapping recurses forever on JSON-valued fields).
 */
export interface AgentProcessRpc {
  spawn(init: ProcessSpawn): Promise<SpawnResult>;
  get(tenantId: string): Promise<ProcessRecord | null>;
  signal(
    tenantId: string,
    signal: ProcessSignal,
    reason: string | null,
    actor: string,
  ): Promise<SignalResult>;
  events(tenantId: string, afterSeq: number, limit: number): Promise<EventPage | null>;
  /** From the pool scheduler: the process may now leave `created`. */
  onAdmitted(): Promise<void>;
  /** From the pool scheduler: a lease for the next step. */
  onLeaseGranted(lease: Lease): Promise<void>;
  /** From the pool scheduler: the process must end (its budget is spent). */
  onSchedulerEnd(reason: string): Promise<void>;
  /** From a child process: it ended. */
  childExited(tenantId: string, childId: string): Promise<void>;
  /** From the human gate: a person decided one of this process's approval requests. */
  approvalDecided(tenantId: string, approvalId: string): Promise<void>;
  /** A client holding this process's agent key makes a system call as the process. */
  callerSyscall(tenantId: string, call: CallerSyscall): Promise<CallerSyscallResult>;
  /** A child spawned by a client acting as this process: `wait` can find it. */
  adoptChild(tenantId: string, childId: string): Promise<void>;
  /** This process's workspace: files, keys and shares (see workspace.ts for the requests). */
  workspace(tenantId: string, req: WorkspaceRequest): Promise<WorkspaceReply>;
  /** From the bus consumer: put one envelope in this process's mailbox (deduplicated by id). */
  busDeliver(tenantId: string, envelope: Envelope): Promise<DeliveryResult>;
  /** A page of this process's unread messages in order of arrival; null when not visible. */
  busMailbox(tenantId: string, afterSeq: number, limit: number): Promise<MailboxPage | null>;
  /** Acknowledges (removes) one message: the message, `missing`, or null when not visible. */
  busAck(tenantId: string, messageId: string): Promise<MailboxMessage | "missing" | null>;
  /** Wipes this ended process's storage (purge.ts); a live process is refused. */
  purge(tenantId: string): Promise<PurgeResult>;
}

/**
 * The stub of process `processId`'s object (one object per process, addressed by its id).
 *
 * @example await processStub(env, "proc_…").get(tenantId)
 */
export function processStub(env: Pick<Env, "AGENT_PROCESS">, processId: string): AgentProcessRpc {
  return env.AGENT_PROCESS.get(
    env.AGENT_PROCESS.idFromName(processId),
  ) as unknown as AgentProcessRpc;
}

/** Delay before retrying a D1 index write that failed; the alarm retries until it lands. */
const INDEX_RETRY_DELAY_MS = 1_000;

export class AgentProcess extends DurableObject<Env> implements AgentProcessRpc, LoopHost {
  readonly store: ProcessStore;
  /** The model call in flight, so terminate can abort it. */
  inflight: AbortController | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ProcessStore(ctx.storage.sql);
    attachMailbox(this, ctx.storage.sql);
  }

  // -------------------------------------------------------------------------------------------
  // Caller-facing RPC

  /**
   * Creates the process, or returns it unchanged when it already exists (a replayed spawn
   * reaches the same object by id and must not create a second process).
   */
  async spawn(init: ProcessSpawn): Promise<SpawnResult> {
    const existing = this.store.load();
    if (existing) {
      // Ids are random, so only a bug or a forged id lands here; never reveal the other record.
      if (existing.tenantId !== init.tenantId) return { ok: false, code: "conflict" };
      return { ok: true, record: existing, created: false };
    }
    const nowMs = Date.now();
    const { script, paused, ...kernelInit } = init;
    let stepped: Stepped = createRecord(kernelInit, nowMs);
    if (paused) {
      const p = applyEvent(stepped.record, "pause", {
        nowMs,
        actor: init.actor,
        reason: "spawned paused",
      });
      stepped = { record: p.record, events: [...stepped.events, ...p.events] };
    }
    this.ctx.storage.transactionSync(() => {
      this.store.insert(stepped.record);
      this.store.appendEvents(stepped.events);
      this.store.putKv("systemPrompt", init.systemPrompt);
      if (script) this.store.putKv("script", script);
    });
    if (!paused) await this.requestAdmission();
    const record = this.store.load()!;
    await this.syncIndex(record);
    return { ok: true, record, created: true };
  }

  /** The record, or null when there is none for this tenant. */
  async get(tenantId: string): Promise<ProcessRecord | null> {
    const record = this.store.load();
    return record && record.tenantId === tenantId ? record : null;
  }

  /**
   * Applies a caller's signal. Terminate takes effect at once (aborting a model call in
   * flight); a pause that arrives mid-step waits for the step boundary; terminating an ended
   * process is a no-op, not an error.
   */
  async signal(
    tenantId: string,
    signal: ProcessSignal,
    reason: string | null,
    actor: string,
  ): Promise<SignalResult> {
    const record = this.store.load();
    if (!record || record.tenantId !== tenantId) return { ok: false, code: "not_found" };
    const status = { state: record.status, pausedFrom: record.pausedFrom };
    if (isNoopTerminate(status, signal)) return { ok: true, record, changed: false };
    if (signal === "pause" && record.status === "running" && !record.pendingPause) {
      const next = {
        ...record,
        pendingPause: { reason, actor },
        note: "pause requested: takes effect at the end of this step",
      };
      this.store.save(next);
      return { ok: true, record: next, changed: true };
    }
    let stepped: Stepped;
    try {
      stepped = applyEvent(record, signal, { nowMs: Date.now(), actor, reason });
    } catch (error) {
      if (error instanceof KernelError && error.code === "illegal_transition") {
        return {
          ok: false,
          code: "illegal_transition",
          state: record.status,
          detail: error.message,
        };
      }
      throw error;
    }
    const next = await this.commit(stepped);
    await this.afterSignal(record, next);
    return { ok: true, record: this.store.load() ?? next, changed: true };
  }

  /** A page of the event log in order, after `afterSeq`; null when the process is not visible. */
  async events(tenantId: string, afterSeq: number, limit: number): Promise<EventPage | null> {
    const record = this.store.load();
    if (!record || record.tenantId !== tenantId) return null;
    const { events, more } = this.store.events(afterSeq, limit);
    const last = events[events.length - 1];
    return { events, nextAfterSeq: more && last ? last.seq : null };
  }

  // -------------------------------------------------------------------------------------------
  // Notices from the scheduler and from children

  async onAdmitted(): Promise<void> {
    await this.requestAdmission();
  }

  async onLeaseGranted(lease: Lease): Promise<void> {
    const record = this.store.load();
    if (record?.status !== "ready") {
      // Nothing to run it for (paused or ended meanwhile): give the capacity back at once.
      await returnLease(this.env, lease);
      return;
    }
    this.store.putKv("lease", lease);
    await this.ctx.storage.setAlarm(Date.now());
  }

  async onSchedulerEnd(reason: string): Promise<void> {
    const record = this.store.load();
    if (
      !record ||
      isTerminal(record.status) ||
      record.status === "paused" ||
      record.status === "created"
    )
      return;
    await this.end(record, "exhaust", reason);
  }

  async childExited(tenantId: string, childId: string): Promise<void> {
    const record = this.store.load();
    if (!record || record.tenantId !== tenantId) return;
    const exited = this.store.getKv<string[]>("exitedChildren") ?? [];
    if (!exited.includes(childId)) this.store.putKv("exitedChildren", [...exited, childId]);
    const on = record.waitingOn;
    if (
      record.status === "waiting" &&
      on?.kind === "child" &&
      (on.processId === null || on.processId === childId)
    ) {
      await this.ctx.storage.setAlarm(Date.now());
    }
  }

  async approvalDecided(tenantId: string, approvalId: string): Promise<void> {
    const record = this.store.load();
    if (!record || record.tenantId !== tenantId) return;
    const on = record.waitingOn;
    if (record.status === "waiting" && on?.kind === "approval" && on.approvalId === approvalId) {
      await this.ctx.storage.setAlarm(Date.now());
    }
  }

  async callerSyscall(tenantId: string, call: CallerSyscall): Promise<CallerSyscallResult> {
    return gateCallerSyscall(this, tenantId, call);
  }

  async adoptChild(tenantId: string, childId: string): Promise<void> {
    const record = this.store.load();
    if (!record || record.tenantId !== tenantId) return;
    const children = this.store.getKv<string[]>("children") ?? [];
    if (!children.includes(childId)) this.store.putKv("children", [...children, childId]);
  }

  async workspace(tenantId: string, req: WorkspaceRequest): Promise<WorkspaceReply> {
    return serveWorkspace(
      { storage: this.ctx.storage, env: this.env, load: () => this.store.load() },
      tenantId,
      req,
    );
  }

  async busDeliver(tenantId: string, envelope: Envelope): Promise<DeliveryResult> {
    return deliver(this, tenantId, envelope);
  }

  async busMailbox(tenantId: string, afterSeq: number, limit: number): Promise<MailboxPage | null> {
    return listMailbox(this, tenantId, afterSeq, limit);
  }

  async busAck(tenantId: string, messageId: string): Promise<MailboxMessage | "missing" | null> {
    return ackMessage(this, tenantId, messageId);
  }

  async purge(tenantId: string): Promise<PurgeResult> {
    return purgeObjectStorage(this.ctx.storage, this.store, tenantId);
  }

  // -------------------------------------------------------------------------------------------
  // The alarm drives everything that happens without a caller: steps, wake-ups, index retries.

  override async alarm(): Promise<void> {
    const record = this.store.load();
    if (!record) return;
    if (this.store.indexedVersion() < record.version) await this.syncIndex(record);
    // Steps run only inside this handler, one at a time; `running` seen here means the object
    // died mid-step. The step never committed, so it runs again from the last persisted one.
    if (record.status === "running") await this.recoverInterruptedStep(record);
    if (this.store.load()?.status === "waiting") await tryWake(this);
    if (this.store.load()?.status === "ready") await runStep(this);
  }

  // -------------------------------------------------------------------------------------------
  // LoopHost: what the agent loop needs from its object

  get processEnv(): Env {
    return this.env;
  }

  /** Persists a transition and its events in one transaction, then mirrors it into D1. */
  async commit(stepped: Stepped, extra?: () => void): Promise<ProcessRecord> {
    this.ctx.storage.transactionSync(() => {
      this.store.save(stepped.record);
      this.store.appendEvents(stepped.events);
      extra?.();
    });
    await this.syncIndex(stepped.record);
    return stepped.record;
  }

  /** Ends a live process (exhaust or fail) and does what every ending needs. */
  async end(
    record: ProcessRecord,
    event: Extract<ProcessEvent, "exhaust" | "fail">,
    reason: string,
  ): Promise<ProcessRecord> {
    const nowMs = Date.now();
    let current = record;
    // budget_exhausted is reachable from ready, running and waiting only.
    const effective =
      event === "exhaust" && (current.status === "created" || current.status === "paused")
        ? "fail"
        : event;
    const stepped = applyEvent(current, effective, { nowMs, actor: "kernel", reason });
    current = await this.commit({
      record: { ...stepped.record, note: reason },
      events: stepped.events,
    });
    await this.afterEnd(current);
    return current;
  }

  async setAlarmAt(atMs: number): Promise<void> {
    await this.ctx.storage.setAlarm(atMs);
  }

  /** What happens when a process reaches a terminal state, however it got there. */
  async afterEnd(record: ProcessRecord): Promise<void> {
    this.inflight?.abort();
    this.store.deleteKv("lease");
    await schedulerStub(this.env, record.pool).release(record.pool, record.id);
    // Long-term memory: an exit with a result is remembered for the agent type (opt out: label memory=off).
    await writeProcessEndMemory(this.env, record);
    if (record.parentId) {
      const parentId = record.parentId;
      this.ctx.waitUntil(
        processStub(this.env, parentId)
          .childExited(record.tenantId, record.id)
          .catch((error) => console.error("child exit notice failed", record.id, error)),
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private async recoverInterruptedStep(record: ProcessRecord): Promise<void> {
    const nowMs = Date.now();
    const stepped = applyEvent(record, "yield", {
      nowMs,
      actor: "kernel",
      reason: `step ${record.stats.steps + 1} was interrupted; running it again`,
    });
    let next = stepped;
    if (record.pendingPause) {
      const p = applyEvent(stepped.record, "pause", {
        nowMs,
        actor: record.pendingPause.actor,
        reason: record.pendingPause.reason,
      });
      next = { record: p.record, events: [...stepped.events, ...p.events] };
    }
    await this.commit(next, () => this.store.putKv("readySinceMs", nowMs));
  }

  /** Asks the pool scheduler to admit a process that sits in `created`. */
  private async requestAdmission(): Promise<void> {
    const before = this.store.load();
    if (before?.status !== "created") return;
    const reply = await schedulerStub(this.env, before.pool).admit(
      before.pool,
      before.id,
      before.tenantId,
    );
    const record = this.store.load();
    if (record?.status !== "created") return; // paused or terminated meanwhile
    const nowMs = Date.now();
    if (reply.kind === "admitted") {
      const stepped = applyEvent(record, "admit", { nowMs, actor: "kernel", reason: null });
      await this.commit({ record: { ...stepped.record, note: null }, events: stepped.events }, () =>
        this.store.putKv("readySinceMs", nowMs),
      );
      await this.ctx.storage.setAlarm(nowMs);
    } else if (reply.kind === "queued") {
      await this.commit({
        record: { ...record, note: reply.note, version: record.version + 1 },
        events: [],
      });
    } else {
      await this.end(record, "fail", reply.note);
    }
  }

  /** Effects of a caller's signal beyond the state change itself. */
  private async afterSignal(before: ProcessRecord, after: ProcessRecord): Promise<void> {
    const nowMs = Date.now();
    if (isTerminal(after.status)) {
      await this.afterEnd(after);
      return;
    }
    if (after.status === "paused") {
      // Stop competing for capacity while paused: withdraw the queued request, return a lease.
      await schedulerStub(this.env, after.pool).cancel(after.pool, after.id);
      const lease = this.store.getKv<Lease>("lease");
      if (lease) {
        this.store.deleteKv("lease");
        await returnLease(this.env, lease);
      }
      return;
    }
    if (before.status === "paused") {
      if (after.status === "created") await this.requestAdmission();
      else if (after.status === "ready") {
        this.store.putKv("readySinceMs", nowMs);
        await this.ctx.storage.setAlarm(nowMs);
      } else if (after.status === "waiting") await this.ctx.storage.setAlarm(nowMs);
    }
  }

  /**
   * Mirrors the record into D1. The object's own storage already holds the truth, so a failed
   * index write does not fail the call: the alarm retries it until the index catches up.
   */
  private async syncIndex(record: ProcessRecord): Promise<void> {
    try {
      await upsertProcessIndex(openDb(this.env.DB), record);
      this.store.markIndexed(record.version);
    } catch (error) {
      console.error("process index write failed; retrying by alarm", record.id, error);
      await this.ctx.storage.setAlarm(Date.now() + INDEX_RETRY_DELAY_MS);
    }
  }
}
