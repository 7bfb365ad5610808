/**
 * Token budgets: an admission layer that composes with any policy, and the `token-budget` policy
 * that also orders requests by remaining budget.
 *
 * The layer guarantees a process never spends more than its budget by more than one quantum:
 *  - a lease is granted at most `min(asked, quantumTokens, free − input)` output tokens, where
 *    free = budget − spent − reserved, and that many tokens are reserved until the lease ends;
 *  - the caller must pass the granted `maxOutputTokens` to the model, and charge real usage;
 *  - a request that does not fit is parked while the process has other leases in flight (they
 *    may leave room), and otherwise ends the process as `budget_exhausted`.
 * Overspend can then only come from a model using more input tokens than the request declared,
 * at most one lease's worth, which is what "bounded by one quantum" means here.
 */

import { z } from "zod";
import { BudgetLedger, LedgerStateSchema } from "./budget-ledger.js";
import {
  assertTask,
  MaxQueuedSchema,
  openState,
  PolicyStateSchema,
  queueRefusal,
  SchedTaskSchema,
  sealState,
} from "./common.js";
import { HeapQueuePolicy } from "./heap-queue.js";
import {
  type Decision,
  type EnqueueResult,
  type PolicyState,
  SCHED_LIMITS,
  type SchedPolicy,
  type SchedTask,
  type Usage,
} from "./types.js";

export const BudgetGateOptionsSchema = z.object({
  /** Most output tokens one lease may be granted: the bound on overspend. */
  quantumTokens: z.number().int().min(1).max(SCHED_LIMITS.maxTokensPerTask).default(4_096),
  /**
   * Smallest useful grant: below it a request waits for the process's in-flight leases rather
   * than run truncated. A process with nothing in flight still gets whatever is left.
   */
  minGrantTokens: z.number().int().min(1).max(SCHED_LIMITS.maxTokensPerTask).default(256),
  maxQueued: MaxQueuedSchema,
});
export type BudgetGateOptions = z.input<typeof BudgetGateOptionsSchema>;

type Verdict = "run" | "park" | "end";

const GateStateSchema = z.object({
  ledger: LedgerStateSchema,
  parked: z.array(SchedTaskSchema),
  ending: z.array(SchedTaskSchema),
  inner: PolicyStateSchema,
});

/** Budget admission in front of any policy (the "token-budget layer"). */
export class TokenBudgetGate implements SchedPolicy {
  readonly ledger = new BudgetLedger();
  private readonly options: z.output<typeof BudgetGateOptionsSchema>;
  private readonly parked = new Map<string, SchedTask[]>();
  private readonly parkedIds = new Map<string, string>();
  private ending: SchedTask[] = [];

  constructor(
    readonly name: string,
    readonly inner: SchedPolicy,
    options: BudgetGateOptions = {},
  ) {
    this.options = BudgetGateOptionsSchema.parse(options);
  }

  get quantumTokens(): number {
    return this.options.quantumTokens;
  }

  enqueue(task: SchedTask, nowMs: number): EnqueueResult {
    assertTask(task);
    const known =
      this.parkedIds.has(task.taskId) || this.ending.some((t) => t.taskId === task.taskId);
    const refusal = queueRefusal(this.size(), known, this.options.maxQueued);
    if (refusal) return { ok: false, reason: refusal };
    this.ledger.observe(task);
    const verdict = this.verdict(task);
    if (verdict === "end") return { ok: false, reason: "budget_exhausted" };
    if (verdict === "park") {
      this.park(task);
      return { ok: true };
    }
    return this.inner.enqueue(task, nowMs);
  }

  pick(nowMs: number): Decision | null {
    const ended = this.ending.shift();
    if (ended) return { kind: "end", task: ended, reason: "budget_exhausted" };
    // Each parked request is parked once per settle of its process, so this loop is bounded.
    for (let d = this.inner.pick(nowMs); d; d = this.inner.pick(nowMs)) {
      if (d.kind === "end") return d;
      const verdict = this.verdict(d.task);
      if (verdict === "end") return { kind: "end", task: d.task, reason: "budget_exhausted" };
      if (verdict === "park") {
        this.park(d.task);
        continue;
      }
      const free = this.ledger.free(d.task.processId) - d.task.inputTokens;
      const grant = Math.min(d.maxOutputTokens, this.options.quantumTokens, free);
      this.ledger.reserve(d.task, d.task.inputTokens + grant);
      return { kind: "run", task: d.task, maxOutputTokens: grant };
    }
    return null;
  }

  charge(task: SchedTask, usage: Usage, nowMs: number): void {
    this.ledger.settle(task, usage.inputTokens + usage.outputTokens);
    this.inner.charge(task, usage, nowMs);
    const waiting = this.parked.get(task.processId);
    if (!waiting) return;
    this.parked.delete(task.processId);
    for (const t of waiting) {
      this.parkedIds.delete(t.taskId);
      const verdict = this.verdict(t);
      if (verdict === "end") this.ending.push(t);
      else if (verdict === "park" || !this.inner.enqueue(t, nowMs).ok) this.park(t);
    }
  }

  remove(taskId: string): SchedTask | null {
    const processId = this.parkedIds.get(taskId);
    if (processId !== undefined) {
      this.parkedIds.delete(taskId);
      const list = this.parked.get(processId) ?? [];
      const at = list.findIndex((t) => t.taskId === taskId);
      const [task] = list.splice(at, 1);
      if (list.length === 0) this.parked.delete(processId);
      return task ?? null;
    }
    const at = this.ending.findIndex((t) => t.taskId === taskId);
    if (at >= 0) return this.ending.splice(at, 1)[0] ?? null;
    return this.inner.remove(taskId);
  }

  forget(processId: string): void {
    this.ledger.forget(processId);
    for (const t of this.parked.get(processId) ?? []) this.parkedIds.delete(t.taskId);
    this.parked.delete(processId);
    this.inner.forget(processId);
  }

  size(): number {
    return this.inner.size() + this.parkedIds.size + this.ending.length;
  }

  drain(): SchedTask[] {
    const tasks = [...this.ending, ...[...this.parked.values()].flat(), ...this.inner.drain()];
    this.ending = [];
    this.parked.clear();
    this.parkedIds.clear();
    return tasks;
  }

  exportState(): PolicyState {
    return sealState(this.name, {
      ledger: this.ledger.exportState(),
      parked: [...this.parked.values()].flat().map((t) => ({ ...t })),
      ending: this.ending.map((t) => ({ ...t })),
      inner: this.inner.exportState(),
    });
  }

  importState(state: PolicyState): void {
    const data = openState(state, this.name, GateStateSchema);
    this.ledger.importState(data.ledger);
    this.parked.clear();
    this.parkedIds.clear();
    for (const t of data.parked) this.park(t);
    this.ending = data.ending;
    this.inner.importState(data.inner);
  }

  private verdict(task: SchedTask): Verdict {
    const account = this.ledger.account(task.processId);
    if (!account || account.budgetTokens === null) return "run";
    const free = this.ledger.free(task.processId) - task.inputTokens;
    const wanted = Math.min(task.maxOutputTokens, this.options.minGrantTokens);
    if (free >= Math.max(1, wanted)) return "run";
    if (account.reservedTokens > 0) return "park";
    return free >= 1 ? "run" : "end";
  }

  private park(task: SchedTask): void {
    const list = this.parked.get(task.processId);
    if (list) list.push(task);
    else this.parked.set(task.processId, [task]);
    this.parkedIds.set(task.taskId, task.processId);
  }
}

/**
 * Puts budget admission in front of `inner`.
 *
 * @example withTokenBudget(createPlasPolicy(), { quantumTokens: 4096 })
 */
export function withTokenBudget(
  inner: SchedPolicy,
  options: BudgetGateOptions = {},
  name = `budget(${inner.name})`,
): TokenBudgetGate {
  return new TokenBudgetGate(name, inner, options);
}

export const TokenBudgetOptionsSchema = BudgetGateOptionsSchema.extend({
  /**
   * Priority a request gains per second of waiting, in tokens of remaining budget, so a process
   * with a large budget is not starved by a stream of small ones.
   */
  agingTokensPerSec: z.number().min(0).max(1_000_000_000).default(1_000),
  /** Remaining budgets above this (and no budget at all) sort as equal. */
  remainingCapTokens: z.number().int().min(1).default(10_000_000),
});
export type TokenBudgetOptions = z.input<typeof TokenBudgetOptionsSchema>;

interface OrderEntry {
  task: SchedTask;
  key: number;
  seq: number;
}

const OrderStateSchema = z.object({
  nextSeq: z.number().int().min(0),
  queue: z.array(z.object({ task: SchedTaskSchema, key: z.number(), seq: z.number().int() })),
});

const byKey = (a: OrderEntry, b: OrderEntry) => a.key < b.key || (a.key === b.key && a.seq < b.seq);

/**
 * Orders requests by their process's remaining budget, smallest first (with aging): a process
 * near the end of its budget is likely near the end of its work, so this approximates shortest
 * remaining work first. The key is fixed at enqueue; later spending does not re-sort the queue.
 */
export class RemainingBudgetOrder extends HeapQueuePolicy<OrderEntry> {
  readonly name = "budget-order";

  constructor(
    private readonly remainingOf: (task: SchedTask) => number,
    private readonly agingTokensPerSec: number,
    private readonly remainingCapTokens: number,
  ) {
    super(byKey);
  }

  enqueue(task: SchedTask, _nowMs: number): EnqueueResult {
    if (this.queue.has(task.taskId)) return { ok: false, reason: "duplicate" };
    const remaining = Math.min(Math.max(0, this.remainingOf(task)), this.remainingCapTokens);
    const key = remaining + (this.agingTokensPerSec * task.enqueuedAtMs) / 1_000;
    this.queue.push({ task, key, seq: this.nextSeq++ });
    return { ok: true };
  }

  exportState(): PolicyState {
    const queue = this.queue.values().map((e) => ({ ...e, task: { ...e.task } }));
    return sealState(this.name, { nextSeq: this.nextSeq, queue });
  }

  importState(state: PolicyState): void {
    const data = openState(state, this.name, OrderStateSchema);
    this.queue.clear();
    for (const e of data.queue) this.queue.push(e);
    this.nextSeq = data.nextSeq;
  }
}

/**
 * Creates the token-budget policy: budget admission plus ordering by remaining budget.
 *
 * @example
 * const policy = createTokenBudgetPolicy({ quantumTokens: 4096 });
 * const d = policy.pick(nowMs); // d.kind === "end" → the process ends as budget_exhausted
 */
export function createTokenBudgetPolicy(options: TokenBudgetOptions = {}): TokenBudgetGate {
  const parsed = TokenBudgetOptionsSchema.parse(options);
  let gate: TokenBudgetGate | null = null;
  const order = new RemainingBudgetOrder(
    (task) => gate?.ledger.free(task.processId) ?? Number.POSITIVE_INFINITY,
    parsed.agingTokensPerSec,
    parsed.remainingCapTokens,
  );
  gate = new TokenBudgetGate("token-budget", order, parsed);
  return gate;
}
