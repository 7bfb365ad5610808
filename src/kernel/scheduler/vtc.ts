/**
 * Weighted fair share across tenants with virtual token counters (VTC, Sheng et al. 2024).
 * Each tenant has a counter of the service it received, in weighted tokens (input ×1, output ×2)
 * divided by its weight; the backlogged tenant with the smallest counter runs next. Input is
 * charged when a request is dispatched and output when it completes, as VTC charges decode
 * tokens as they are produced (a hosted API only reports them at the end).
 *
 * Lift rule: a tenant that becomes backlogged again has its counter raised to the smallest
 * counter among backlogged tenants (or, if none, to that of the last tenant that left), so idle
 * time is not banked as credit to monopolise capacity later.
 *
 * Within a tenant, a child policy orders its requests (FCFS unless told otherwise).
 *
 * Slack (`slackTokens` > 0): every backlogged tenant whose counter is within the slack of the
 * smallest may run, and among them the one whose next request is most urgent by the children's
 * `peekRank` does (ties: the less served). Strict VTC alternates tenants request by request,
 * which makes a short program in one tenant wait behind long ones in the others; with slack the
 * children's order (PLAS, say) holds across tenants while no backlogged tenant falls more than
 * the slack plus one request behind its share. Children without `peekRank` rank equal, which
 * is strict VTC again.
 */

import { z } from "zod";
import { KernelError } from "../errors.js";
import {
  assertTask,
  MaxQueuedSchema,
  openState,
  PolicyStateSchema,
  queueRefusal,
  ServiceWeightOptions,
  sealState,
} from "./common.js";
import { FcfsPolicy } from "./fcfs.js";
import { IndexedHeap } from "./heap.js";
import type {
  Decision,
  EnqueueResult,
  PolicyFactory,
  PolicyState,
  SchedPolicy,
  SchedTask,
  Usage,
} from "./types.js";

export const VtcOptionsSchema = z.object({
  /** Share weight per tenant id; a tenant with weight 2 receives twice the service of weight 1. */
  tenantWeights: z.record(z.string(), z.number().positive().max(1_000_000)).default({}),
  defaultWeight: z.number().positive().max(1_000_000).default(1),
  /** Counter lead (weighted tokens ÷ weight) within which a tenant may still run; 0: strict. */
  slackTokens: z.number().min(0).max(1_000_000_000).default(0),
  ...ServiceWeightOptions,
  maxQueued: MaxQueuedSchema,
});
export type VtcOptions = z.input<typeof VtcOptionsSchema>;

/** Most tenants one decision with slack compares: a bound on its cost with many tenants. */
export const MAX_SLACK_CANDIDATES = 64;

interface Tenant {
  tenantId: string;
  /** Weighted tokens received, divided by the tenant's weight. */
  counter: number;
  /** First-seen order: breaks counter ties deterministically. */
  seq: number;
  weight: number;
  child: SchedPolicy;
}

const StateSchema = z.object({
  lastLeftCounter: z.number(),
  nextTenantSeq: z.number().int().min(0),
  tenants: z.array(
    z.object({
      tenantId: z.string(),
      counter: z.number(),
      seq: z.number().int().min(0),
      child: PolicyStateSchema,
    }),
  ),
  queued: z.array(z.object({ taskId: z.string(), tenantId: z.string() })),
  processes: z.array(z.object({ processId: z.string(), tenantId: z.string() })),
});

const lessServed = (a: Tenant, b: Tenant) =>
  a.counter < b.counter || (a.counter === b.counter && a.seq < b.seq);

/** VTC fair share across tenants. */
export class VtcPolicy implements SchedPolicy {
  readonly name = "vtc";
  private readonly options: z.output<typeof VtcOptionsSchema>;
  private readonly tenants = new Map<string, Tenant>();
  private readonly backlogged = new IndexedHeap<Tenant>(lessServed, (t) => t.tenantId);
  private readonly tenantOfTask = new Map<string, string>();
  private readonly tenantOfProcess = new Map<string, string>();
  private lastLeftCounter = 0;
  private nextTenantSeq = 0;

  constructor(
    options: VtcOptions = {},
    private readonly inner: PolicyFactory = () => new FcfsPolicy(),
  ) {
    this.options = VtcOptionsSchema.parse(options);
  }

  /** A tenant's virtual counter (weighted tokens / weight), or 0 if unseen. */
  counterOf(tenantId: string): number {
    return this.tenants.get(tenantId)?.counter ?? 0;
  }

  enqueue(task: SchedTask, nowMs: number): EnqueueResult {
    assertTask(task);
    const refusal = queueRefusal(
      this.tenantOfTask.size,
      this.tenantOfTask.has(task.taskId),
      this.options.maxQueued,
    );
    if (refusal) return { ok: false, reason: refusal };
    const tenant = this.tenant(task.tenantId);
    const returning = !this.backlogged.has(tenant.tenantId);
    const result = tenant.child.enqueue(task, nowMs);
    if (!result.ok) return result;
    this.tenantOfTask.set(task.taskId, tenant.tenantId);
    this.tenantOfProcess.set(task.processId, tenant.tenantId);
    if (returning) {
      const floor = this.backlogged.peek()?.counter ?? this.lastLeftCounter;
      tenant.counter = Math.max(tenant.counter, floor);
      this.backlogged.push(tenant);
    }
    return result;
  }

  pick(nowMs: number): Decision | null {
    const tenant = this.options.slackTokens > 0 ? this.mostUrgent(nowMs) : this.backlogged.peek();
    if (!tenant) return null;
    const decision = tenant.child.pick(nowMs);
    if (!decision) {
      throw new KernelError("conflict", `tenant ${tenant.tenantId} is backlogged with no requests`);
    }
    this.tenantOfTask.delete(decision.task.taskId);
    if (decision.kind === "run") {
      tenant.counter += (this.options.inputWeight * decision.task.inputTokens) / tenant.weight;
    }
    this.settleBacklog(tenant);
    return decision;
  }

  charge(task: SchedTask, usage: Usage, nowMs: number): void {
    const tenant = this.tenant(task.tenantId);
    const { inputWeight, outputWeight } = this.options;
    // Input was charged at dispatch from the estimate; correct it with what was really used.
    const extraInput = usage.inputTokens - task.inputTokens;
    tenant.counter +=
      (outputWeight * usage.outputTokens + inputWeight * extraInput) / tenant.weight;
    this.backlogged.update(tenant.tenantId);
    tenant.child.charge(task, usage, nowMs);
  }

  remove(taskId: string): SchedTask | null {
    const tenantId = this.tenantOfTask.get(taskId);
    if (tenantId === undefined) return null;
    this.tenantOfTask.delete(taskId);
    const tenant = this.tenants.get(tenantId) as Tenant;
    const task = tenant.child.remove(taskId);
    this.settleBacklog(tenant);
    return task;
  }

  forget(processId: string): void {
    const tenantId = this.tenantOfProcess.get(processId);
    if (tenantId === undefined) return;
    this.tenantOfProcess.delete(processId);
    this.tenants.get(tenantId)?.child.forget(processId);
  }

  size(): number {
    return this.tenantOfTask.size;
  }

  drain(): SchedTask[] {
    const tasks: SchedTask[] = [];
    for (const t of this.tenants.values()) tasks.push(...t.child.drain());
    this.backlogged.clear();
    this.tenantOfTask.clear();
    return tasks;
  }

  exportState(): PolicyState {
    return sealState(this.name, {
      lastLeftCounter: this.lastLeftCounter,
      nextTenantSeq: this.nextTenantSeq,
      tenants: [...this.tenants.values()].map((t) => ({
        tenantId: t.tenantId,
        counter: t.counter,
        seq: t.seq,
        child: t.child.exportState(),
      })),
      queued: [...this.tenantOfTask].map(([taskId, tenantId]) => ({ taskId, tenantId })),
      processes: [...this.tenantOfProcess].map(([processId, tenantId]) => ({
        processId,
        tenantId,
      })),
    });
  }

  importState(state: PolicyState): void {
    const data = openState(state, this.name, StateSchema);
    this.tenants.clear();
    this.backlogged.clear();
    this.tenantOfTask.clear();
    this.tenantOfProcess.clear();
    for (const saved of data.tenants) {
      const child = this.inner();
      child.importState(saved.child);
      const tenant: Tenant = {
        tenantId: saved.tenantId,
        counter: saved.counter,
        seq: saved.seq,
        weight: this.weightOf(saved.tenantId),
        child,
      };
      this.tenants.set(tenant.tenantId, tenant);
      if (child.size() > 0) this.backlogged.push(tenant);
    }
    for (const q of data.queued) this.tenantOfTask.set(q.taskId, q.tenantId);
    for (const p of data.processes) this.tenantOfProcess.set(p.processId, p.tenantId);
    this.lastLeftCounter = data.lastLeftCounter;
    this.nextTenantSeq = data.nextTenantSeq;
  }

  private tenant(tenantId: string): Tenant {
    let tenant = this.tenants.get(tenantId);
    if (!tenant) {
      tenant = {
        tenantId,
        counter: 0,
        seq: this.nextTenantSeq++,
        weight: this.weightOf(tenantId),
        child: this.inner(),
      };
      this.tenants.set(tenantId, tenant);
    }
    return tenant;
  }

  /** Among tenants within the slack of the least served, the one with the most urgent head. */
  private mostUrgent(nowMs: number): Tenant | undefined {
    const least = this.backlogged.peek();
    if (!least) return undefined;
    const bound = least.counter + this.options.slackTokens;
    let best = least;
    let bestRank = least.child.peekRank?.(nowMs) ?? 0;
    this.backlogged.visitWhile(
      (t) => t.counter <= bound,
      (t) => {
        if (t === least) return;
        const rank = t.child.peekRank?.(nowMs) ?? 0;
        if (rank < bestRank || (rank === bestRank && lessServed(t, best))) {
          best = t;
          bestRank = rank;
        }
      },
      MAX_SLACK_CANDIDATES,
    );
    return best;
  }

  private weightOf(tenantId: string): number {
    return this.options.tenantWeights[tenantId] ?? this.options.defaultWeight;
  }

  /** Re-keys a tenant after its counter or queue changed; an emptied tenant leaves the backlog. */
  private settleBacklog(tenant: Tenant): void {
    if (tenant.child.size() > 0) {
      this.backlogged.update(tenant.tenantId);
    } else if (this.backlogged.remove(tenant.tenantId)) {
      this.lastLeftCounter = tenant.counter;
    }
  }
}

/**
 * Creates a VTC fair-share policy.
 *
 * @example createVtcPolicy({ tenantWeights: { ten_a: 1, ten_b: 4 } })
 */
export function createVtcPolicy(options: VtcOptions = {}, inner?: PolicyFactory): VtcPolicy {
  return new VtcPolicy(options, inner);
}
