/**
 * The deterministic discrete-event simulator behind `bench/sched` (BENCH-SCHED §2). It drives a
 * policy from src/kernel/scheduler and a CapacityLimiter from src/kernel/capacity exactly the way
 * the Scheduler Durable Object does — enqueue on a lease request, pick when capacity is free,
 * charge when the call ends — against a hosted-API provider model (backend model A).
 *
 * With `engine` set it drives a self-hosted engine instead (backend model B, `sim-engine.ts`):
 * the same policy chooses which sequences run in each iteration's batch. A sequence runs for a
 * token quantum, is then charged for that partial service and queued again with what it still
 * has to produce, so preemption is `charge` + `enqueue`, with no policy code of its own.
 *
 * Here: arrivals, each program's progress through its stages and branches, and the queue's
 * bookkeeping (backlog per tenant, queued per class, inversions) around the policy. The backends
 * are drivers behind one `BackendHost`: the hosted API with the kernel's client stack
 * (`sim-api.ts`: limiter, provider, 429s, retries, held lanes) and the engine (`sim-engine.ts`).
 * Configuration and result types: `sim-types.ts`; the result's metrics: `sim-summary.ts`.
 *
 * Determinism: an integer-µs virtual clock, an event queue ordered by (time, sequence), and
 * seeded random streams, one per concern. Workload randomness is keyed by program, and failure
 * draws by (program, call, attempt), so all policies face the same programs and the same 502s.
 * No Node built-ins here: the determinism test runs this file inside workerd.
 */

import { createRng, deriveSeed, type Rng } from "../../src/kernel/capacity/random.js";
import {
  type Decision,
  type SchedPolicy,
  type SchedTask,
  ZERO_USAGE,
} from "../../src/kernel/scheduler/types.js";
import { baseLatencyUs } from "./backend.js";
import { exponential, weightedIndex } from "./dist.js";
import { callAloneUs, engineWorkUs } from "./engine.js";
import { EventQueue, type SimEvent } from "./events.js";
import { EventHash } from "./hash.js";
import { WindowedSeries } from "./metrics.js";
import { HostedApiDriver } from "./sim-api.js";
import { EngineDriver } from "./sim-engine.js";
import {
  type BackendHost,
  type Call,
  EventKind,
  type Program,
  type ProgramStatus,
  US_PER_MS,
} from "./sim-records.js";
import { summariseRun } from "./sim-summary.js";
import type { Oracle, SimConfig, SimResult } from "./sim-types.js";
import { generateProgram, type ProgramSpec, type StepSpec } from "./workload.js";

/** Runs one simulation to completion. */
export function runSim(config: SimConfig): SimResult {
  return new Simulation(config).run();
}

class Simulation {
  private readonly events = new EventQueue();
  private readonly hash = new EventHash();
  private readonly policy: SchedPolicy;
  private readonly programs: Program[] = [];
  private readonly byId = new Map<string, Program>();
  private readonly calls = new Map<string, Call>();
  private readonly queuedByClass: number[];
  private readonly queuedByTenant: number[];
  private readonly backlogSinceUs: number[];
  private readonly service: WindowedSeries;
  private readonly backlog: WindowedSeries;
  private readonly arrivalRngs: Rng[] = [];
  private readonly arrivalCount: number[] = [];
  private readonly burstOnUntilUs: number[] = [];
  private readonly agentRuns: number[] = [];
  private nowUs = 0;
  private inversions = 0;
  private readonly maxWaitByClassUs: number[];
  private wastedTokens = 0;
  private eventCount = 0;
  /** The backend: a self-hosted engine (model B) or the hosted API (model A). */
  private readonly engine: EngineDriver | null;
  private readonly api: HostedApiDriver | null;

  constructor(private readonly c: SimConfig) {
    const oracle: Oracle = {
      remainingWorkUs: (id) => this.byId.get(id)?.remainingWorkUs ?? 0,
    };
    this.policy = c.makePolicy(oracle);
    const tenants = c.tenantWeights.length;
    this.queuedByClass = [0, 0, 0];
    this.maxWaitByClassUs = [0, 0, 0];
    this.queuedByTenant = new Array(tenants).fill(0);
    this.backlogSinceUs = new Array(tenants).fill(0);
    this.service = new WindowedSeries(tenants, c.windowUs);
    this.backlog = new WindowedSeries(tenants, c.windowUs);
    const host = this.backendHost();
    this.engine = c.engine
      ? new EngineDriver(
          {
            ...host,
            scheduleTick: (atUs, generation) =>
              this.events.push(atUs, EventKind.EngineTick, generation),
            requeue: (call) => this.enqueue(call),
          },
          c.engine.params,
          c.engine.decodeTokenUs,
          c.client.maxOutputTokens,
          { fromUs: c.measureFromUs, toUs: c.durationUs },
        )
      : null;
    this.api = c.engine
      ? null
      : new HostedApiDriver(
          {
            ...host,
            schedule: (atUs, kind, programIdx, ref) =>
              this.events.push(atUs, kind, programIdx, ref),
            backInQueue: (task) => this.requeued(task),
            wasted: (tokens) => {
              this.wastedTokens += tokens;
            },
            failed: (call) => {
              this.calls.delete(call.task.taskId);
              this.endProgram(call.prog, "failed");
            },
          },
          c,
        );
  }

  /** What either backend driver may do to the run. */
  private backendHost(): BackendHost {
    return {
      policy: this.policy,
      hash: this.hash,
      nowUs: () => this.nowUs,
      pickNext: (nowMs) => this.pickNext(nowMs),
      call: (taskId) => this.calls.get(taskId),
      leftQueue: (task) => this.dequeued(task),
      waited: (priority, waitUs) => this.waited(priority, waitUs),
      served: (tenant, weighted, fromUs, toUs) => this.service.add(tenant, weighted, fromUs, toUs),
      discard: (call, used) => this.discard(call, used),
      finished: (call) => this.finished(call),
    };
  }

  run(): SimResult {
    this.scheduleArrivals();
    let truncated = false;
    for (let e = this.events.pop(); e; e = this.events.pop()) {
      if (++this.eventCount > this.c.maxEvents) {
        truncated = true;
        break;
      }
      this.nowUs = e.timeUs;
      this.hash.int(e.timeUs);
      this.hash.int(e.kind);
      this.hash.int(e.a);
      this.handle(e);
    }
    for (let t = 0; t < this.queuedByTenant.length; t++) {
      if ((this.queuedByTenant[t] as number) > 0) {
        this.backlog.add(
          t,
          this.nowUs - (this.backlogSinceUs[t] as number),
          this.backlogSinceUs[t] as number,
          this.nowUs,
        );
      }
    }
    return this.summarise(truncated);
  }

  private handle(e: SimEvent): void {
    switch (e.kind) {
      case EventKind.Arrival:
        this.arrive(e.a);
        break;
      case EventKind.AgentStart:
        this.agentStarts(e.a);
        break;
      case EventKind.CallEnd:
        this.api?.callEnded(e.ref as Call);
        break;
      case EventKind.LaneRelease:
        this.api?.laneReleased(e.ref);
        break;
      case EventKind.StepReady: {
        const { prog, branch } = e.ref as { prog: Program; branch: number };
        if (prog.status === "running") this.stepReady(prog, branch);
        break;
      }
      case EventKind.Retry: {
        const call = e.ref as Call;
        if (call.prog.status === "running") this.enqueue(call);
        break;
      }
      case EventKind.Wake:
        this.api?.woke(e.timeUs);
        break;
      case EventKind.EngineTick:
        this.engine?.tick(e.a);
        break;
    }
    this.dispatch();
  }

  // ── Arrivals ────────────────────────────────────────────────────────────────────────────

  private scheduleArrivals(): void {
    const a = this.c.arrivals;
    if (a.kind === "closed") {
      const rng = createRng(deriveSeed(this.c.seed, "arrivals"));
      for (let i = 0; i < a.agents; i++) {
        this.agentRuns.push(0);
        // Staggered over the first 10 s so agents do not start in lockstep.
        this.events.push(Math.floor(rng.nextFloat() * 10_000_000), EventKind.AgentStart, i);
      }
      return;
    }
    if (a.kind === "batch") {
      const rng = createRng(deriveSeed(this.c.seed, "arrivals"));
      for (let t = 0; t < a.tenantShares.length; t++) this.arrivalCount.push(0);
      for (let i = 0; i < a.programs; i++)
        this.events.push(0, EventKind.Arrival, weightedIndex(rng, a.tenantShares));
      return;
    }
    for (let t = 0; t < a.tenantShares.length; t++) {
      this.arrivalRngs.push(createRng(deriveSeed(this.c.seed, `arrivals/${t}`)));
      this.arrivalCount.push(0);
      this.burstOnUntilUs.push(-1);
      this.scheduleNextArrival(t, 0);
    }
  }

  /** Poisson arrivals per tenant; a bursting tenant is on/off, at `factor`× its mean rate while on. */
  private scheduleNextArrival(tenant: number, fromUs: number): void {
    const a = this.c.arrivals;
    if (a.kind !== "open") return;
    const rng = this.arrivalRngs[tenant] as Rng;
    const ratePerUs = (a.programsPerSec * (a.tenantShares[tenant] as number)) / 1_000_000;
    if (ratePerUs <= 0) return;
    let t = fromUs;
    const burst = a.burst && a.burst.tenant === tenant ? a.burst : null;
    if (!burst) {
      t += Math.max(1, Math.round(exponential(rng, 1 / ratePerUs)));
    } else {
      const onRatePerUs = ratePerUs * burst.factor;
      const meanOffUs = burst.meanOnUs * (burst.factor - 1);
      for (;;) {
        if (t >= (this.burstOnUntilUs[tenant] as number)) {
          t += Math.round(exponential(rng, meanOffUs));
          this.burstOnUntilUs[tenant] = t + Math.round(exponential(rng, burst.meanOnUs));
        }
        const next = t + Math.max(1, Math.round(exponential(rng, 1 / onRatePerUs)));
        if (next < (this.burstOnUntilUs[tenant] as number)) {
          t = next;
          break;
        }
        t = this.burstOnUntilUs[tenant] as number;
      }
    }
    if (t < this.c.durationUs) this.events.push(t, EventKind.Arrival, tenant);
  }

  private arrive(tenant: number): void {
    const n = this.arrivalCount[tenant] as number;
    this.arrivalCount[tenant] = n + 1;
    this.startProgram(`${tenant}.${n}`, tenant, -1);
    this.scheduleNextArrival(tenant, this.nowUs);
  }

  /** A closed-loop agent starts its next program (keyed by agent and run, not by timing). */
  private agentStarts(agent: number): void {
    if (this.c.arrivals.kind !== "closed") return;
    const tenants = this.c.arrivals.agentTenants;
    const run = this.agentRuns[agent] as number;
    this.agentRuns[agent] = run + 1;
    this.startProgram(`a${agent}.${run}`, tenants[agent % tenants.length] as number, agent);
  }

  private startProgram(key: string, tenant: number, agent: number): void {
    const spec = generateProgram(this.c.seed, key, tenant, this.c.workload, this.c.backend);
    const idx = this.programs.length;
    const prog: Program = {
      idx,
      id: `p${idx}`,
      spec,
      agent,
      arrivalUs: this.nowUs,
      endUs: -1,
      status: "running",
      stage: -1,
      pendingBranches: 0,
      branchStep: [],
      spentTokens: 0,
      queued: new Set(),
      inFlight: 0,
      remainingWorkUs: this.c.engine
        ? engineWorkUs(spec, this.c.engine.params, this.c.engine.decodeTokenUs)
        : spec.workUs,
      admittedCalls: 0,
      isolatedUs: this.isolatedUs(spec),
    };
    this.programs.push(prog);
    this.byId.set(prog.id, prog);
    this.startStage(prog, 0);
  }

  /** Critical path of a program with every call at its idle-backend latency. */
  private isolatedUs(spec: ProgramSpec): number {
    const engine = this.c.engine?.params;
    let total = 0;
    let first = true;
    for (const stage of spec.stages) {
      let longest = 0;
      for (const branch of stage) {
        let t = 0;
        for (const s of branch) {
          t += s.gapUs;
          t += engine
            ? callAloneUs(engine, s.prefillTokens, s.decodeTokens, first)
            : baseLatencyUs(s.prefillTokens, s.decodeTokens, this.c.backend);
          first = false;
        }
        longest = Math.max(longest, t);
      }
      total += longest;
    }
    return total;
  }

  // ── Program progress ───────────────────────────────────────────────────────────────────

  private startStage(prog: Program, stage: number): void {
    const branches = prog.spec.stages[stage];
    if (!branches) {
      this.endProgram(prog, "exited");
      return;
    }
    prog.stage = stage;
    prog.pendingBranches = branches.length;
    prog.branchStep = new Array(branches.length).fill(0);
    for (let b = 0; b < branches.length && prog.status === "running"; b++)
      this.advanceBranch(prog, b);
  }

  /** Issues the branch's current step as a lease request. */
  private advanceBranch(prog: Program, branch: number): void {
    const steps = prog.spec.stages[prog.stage]?.[branch] as StepSpec[];
    const at = prog.branchStep[branch] as number;
    const step = steps[at] as StepSpec;
    const task: SchedTask = {
      taskId: `${prog.id}/${prog.stage}.${branch}.${at}`,
      processId: prog.id,
      tenantId: `t${prog.spec.tenant}`,
      priority: prog.spec.priority,
      enqueuedAtMs: Math.floor(this.nowUs / US_PER_MS),
      inputTokens: step.prefillTokens,
      maxOutputTokens: this.c.client.maxOutputTokens,
      budgetTokens: prog.spec.budgetTokens,
      spentTokens: prog.spentTokens,
      // A branch of a tree-search level is a thread of its program (ATLAS follows them).
      threadId: `${prog.stage}.${branch}`,
    };
    const call: Call = {
      prog,
      branch,
      step,
      task,
      attempts: 0,
      rateLimits: 0,
      queuedAtUs: this.nowUs,
      permit: null,
      grant: 0,
      startUs: 0,
      outputTokens: 0,
      failed: false,
      generated: 0,
      outputCap: step.decodeTokens,
      cachedTokens: 0,
      resident: false,
      evicted: false,
    };
    this.calls.set(task.taskId, call);
    this.enqueue(call);
  }

  private stepDone(call: Call): void {
    const prog = call.prog;
    prog.branchStep[call.branch] = (prog.branchStep[call.branch] as number) + 1;
    if (call.step.gapUs > 0) {
      this.events.push(this.nowUs + call.step.gapUs, EventKind.StepReady, prog.idx, {
        prog,
        branch: call.branch,
      });
      return;
    }
    this.stepReady(prog, call.branch);
  }

  /**
   * The tool (or approval) after a branch's step is over: issue its next step, or end the
   * branch (its last step, or a denied approval), starting the next stage after the last one.
   */
  private stepReady(prog: Program, branch: number): void {
    const steps = prog.spec.stages[prog.stage]?.[branch] as StepSpec[];
    if ((prog.branchStep[branch] as number) < steps.length) {
      this.advanceBranch(prog, branch);
      return;
    }
    prog.pendingBranches--;
    if (prog.pendingBranches === 0) this.startStage(prog, prog.stage + 1);
  }

  private endProgram(prog: Program, status: Exclude<ProgramStatus, "running">): void {
    if (prog.status !== "running") return;
    prog.status = status;
    prog.endUs = this.nowUs;
    for (const taskId of prog.queued) {
      const task = this.policy.remove(taskId);
      if (task) this.dequeued(task);
      if (!this.isPicked(taskId)) this.calls.delete(taskId);
    }
    prog.queued.clear();
    const head = this.api?.dropHead(prog.id);
    if (head) this.unpick(head);
    for (const task of this.engine?.dropWaiting(prog.id) ?? []) this.unpick(task);
    if (prog.inFlight === 0) this.retire(prog);
    if (prog.agent >= 0 && this.nowUs < this.c.durationUs) {
      this.events.push(this.nowUs, EventKind.AgentStart, prog.agent);
    }
  }

  /** Picked but not yet sent or admitted. */
  private isPicked(taskId: string): boolean {
    return (this.api?.isHead(taskId) ?? false) || (this.engine?.isWaiting(taskId) ?? false);
  }

  /** A picked request of an ended program: give back what the pick reserved. */
  private unpick(task: SchedTask): void {
    this.policy.charge(task, ZERO_USAGE, this.nowMs());
    this.dequeued(task);
    this.calls.delete(task.taskId);
  }

  /** Last call of an ended program returned: the policy may forget it. */
  private retire(prog: Program): void {
    this.policy.forget(prog.id);
    this.byId.delete(prog.id);
  }

  // ── The Scheduler's job: enqueue, pick, dispatch, charge ───────────────────────────────

  private nowMs(): number {
    return Math.floor(this.nowUs / US_PER_MS);
  }

  private enqueue(call: Call): void {
    const prog = call.prog;
    call.task.spentTokens = prog.spentTokens;
    call.queuedAtUs = this.nowUs;
    const result = this.policy.enqueue(call.task, this.nowMs());
    if (!result.ok) {
      this.calls.delete(call.task.taskId);
      this.endProgram(prog, result.reason === "budget_exhausted" ? "budget_exhausted" : "failed");
      return;
    }
    prog.queued.add(call.task.taskId);
    this.queuedByClass[call.task.priority] = (this.queuedByClass[call.task.priority] as number) + 1;
    this.backlogUp(prog.spec.tenant);
    this.engine?.queued();
  }

  /** Bookkeeping for a request that left the queue (picked or removed). */
  private dequeued(task: SchedTask): void {
    const prog = this.byId.get(task.processId);
    prog?.queued.delete(task.taskId);
    this.queuedByClass[task.priority] = (this.queuedByClass[task.priority] as number) - 1;
    if (prog) this.backlogDown(prog.spec.tenant);
  }

  /** A request the policy already chose is waiting again (at the API driver's head). */
  private requeued(task: SchedTask): void {
    this.queuedByClass[task.priority] = (this.queuedByClass[task.priority] as number) + 1;
    const prog = this.byId.get(task.processId);
    if (prog) this.backlogUp(prog.spec.tenant);
  }

  private backlogUp(tenant: number): void {
    const n = this.queuedByTenant[tenant] as number;
    if (n === 0) this.backlogSinceUs[tenant] = this.nowUs;
    this.queuedByTenant[tenant] = n + 1;
  }

  private backlogDown(tenant: number): void {
    const n = (this.queuedByTenant[tenant] as number) - 1;
    this.queuedByTenant[tenant] = n;
    if (n === 0) {
      const since = this.backlogSinceUs[tenant] as number;
      this.backlog.add(tenant, this.nowUs - since, since, this.nowUs);
    }
  }

  private dispatch(): void {
    this.engine?.kick();
    this.api?.dispatch();
  }

  /**
   * The policy's next decision, with what every pick needs: the event log records it, an `end`
   * ends its program, a `run` is checked for a priority inversion.
   */
  private pickNext(nowMs: number): Decision | null {
    const d = this.policy.pick(nowMs);
    if (!d) return null;
    this.hash.int(this.byId.get(d.task.processId)?.idx ?? -1);
    this.hash.int(d.task.enqueuedAtMs);
    if (d.kind === "end") {
      this.dequeued(d.task);
      this.calls.delete(d.task.taskId);
      const prog = this.byId.get(d.task.processId);
      if (prog) this.endProgram(prog, "budget_exhausted");
      return d;
    }
    this.countInversion(d.task.priority);
    return d;
  }

  private countInversion(priority: number): void {
    // The picked request already left the queue counts: anything still queued above it?
    for (let c = 0; c < priority; c++) {
      if ((this.queuedByClass[c] as number) > 0) {
        this.inversions++;
        return;
      }
    }
  }

  private waited(priority: number, waitUs: number): void {
    if (waitUs > (this.maxWaitByClassUs[priority] as number))
      this.maxWaitByClassUs[priority] = waitUs;
  }

  /** A call of a program that already ended came back: its tokens were wasted. */
  private discard(call: Call, usedTokens: number): void {
    this.wastedTokens += usedTokens;
    this.calls.delete(call.task.taskId);
    if (call.prog.inFlight === 0) this.retire(call.prog);
  }

  private finished(call: Call): void {
    this.calls.delete(call.task.taskId);
    this.stepDone(call);
  }

  // ── Results ─────────────────────────────────────────────────────────────────────────────

  private summarise(truncated: boolean): SimResult {
    const result = summariseRun({
      config: this.c,
      programs: this.programs,
      inversions: this.inversions,
      maxWaitByClassUs: this.maxWaitByClassUs,
      service: this.service,
      backlog: this.backlog,
      wastedTokens: this.wastedTokens,
      events: this.eventCount,
      api: this.api?.summary() ?? null,
      truncated,
      engine: this.engine?.summary() ?? null,
    });
    // Every reported number is folded in too, so no metric can change with the hash unchanged.
    this.hash.text(JSON.stringify(result));
    result.eventLogHash = this.hash.digest();
    return result;
  }
}
