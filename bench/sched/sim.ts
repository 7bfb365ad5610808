/**
 * The deterministic discrete-event simulator behind `bench/sched` (BENCH-SCHED §2). It drives a
 * policy from src/kernel/scheduler and a CapacityLimiter from src/kernel/capacity exactly the way
 * the Scheduler Durable Object does — enqueue on a lease request, pick when capacity is free,
 * charge when the call ends — against a hosted-API provider model (backend model A).
 *
 * With `engine` set it drives a self-hosted engine instead (backend model B, `engine.ts`): the
 * same policy chooses which sequences run in each iteration's batch. A sequence runs for a token
 * quantum, is then charged for that partial service and queued again with what it still has to
 * produce; the policy picks the next batch members at every iteration boundary where a slot is
 * free or a quantum ended, so preemption is `charge` + `enqueue`, with no policy code of its own.
 *
 * Determinism: an integer-µs virtual clock, an event queue ordered by (time, sequence), and
 * seeded random streams, one per concern. Workload randomness is keyed by program, and failure
 * draws by (program, call, attempt), so all policies face the same programs and the same 502s.
 * No Node built-ins here: the determinism test runs this file inside workerd.
 */

import {
  nextRetry,
  type RetryOptions,
  resolveRetryOptions,
} from "../../src/kernel/capacity/backoff.js";
import {
  type CapacityConfig,
  CapacityLimiter,
  type Permit,
} from "../../src/kernel/capacity/limiter.js";
import { createRng, deriveSeed, type Rng } from "../../src/kernel/capacity/random.js";
import { IndexedHeap } from "../../src/kernel/scheduler/heap.js";
import type { Decision, SchedPolicy, SchedTask } from "../../src/kernel/scheduler/types.js";
import { type BackendParams, baseLatencyUs, Provider, slowdownFactor } from "./backend.js";
import { exponential } from "./dist.js";
import {
  cachedPromptTokens,
  callAloneUs,
  type EngineParams,
  engineWorkUs,
  iterationUs,
} from "./engine.js";
import { EventQueue, type SimEvent } from "./events.js";
import { EventHash } from "./hash.js";
import { fairness, mean, percentile, WindowedSeries } from "./metrics.js";
import {
  generateProgram,
  PROGRAM_KINDS,
  type ProgramSpec,
  type StepSpec,
  type WorkloadParams,
} from "./workload.js";

export interface BurstModel {
  tenant: number;
  /** Arrival rate while on, relative to the tenant's mean rate. */
  factor: number;
  meanOnUs: number;
}

export type ArrivalModel =
  | {
      kind: "open";
      programsPerSec: number;
      tenantShares: readonly number[];
      burst: BurstModel | null;
    }
  | { kind: "closed"; agents: number; agentTenants: readonly number[] };

export interface ClientParams {
  /** kernel: CapacityLimiter with pool backoff and jittered retry; naive: resend after a fixed delay. */
  mode: "kernel" | "naive";
  /** The limits the client is configured with (may be wrong about the provider's). */
  limits: CapacityConfig;
  retry: RetryOptions;
  /** 429s one call may meet before its program fails (kernel mode). */
  maxRateLimitRetries: number;
  naiveRetryDelayMs: number;
  maxOutputTokens: number;
}

/** What only the SRPT oracle may ask. */
export interface Oracle {
  remainingWorkUs(processId: string): number;
}

export interface SimConfig {
  scenario: string;
  seed: number;
  /** Offered load ρ (open loop) or number of agents (closed loop); reported as is. */
  load: number;
  policy: string;
  makePolicy: (oracle: Oracle) => SchedPolicy;
  workload: WorkloadParams;
  tenantWeights: readonly number[];
  arrivals: ArrivalModel;
  /** Arrivals stop at this time; the run then drains. */
  durationUs: number;
  /** Programs arriving in [measureFromUs, measureToUs) are measured. */
  measureFromUs: number;
  measureToUs: number;
  backend: BackendParams;
  client: ClientParams;
  windowUs: number;
  /** A run that exceeds this many events is cut short (and says so). */
  maxEvents: number;
  /**
   * Backend model B: run the calls on a self-hosted engine instead of the hosted API (`backend`
   * and `client` are then unused). `decodeTokenUs` is the engine time per token at a full batch,
   * what the SRPT oracle counts work in.
   */
  engine?: { params: EngineParams; decodeTokenUs: number };
}

/** What the engine did in a model-B run. */
export interface EngineStats {
  iterations: number;
  /** Time-weighted running sequences while the engine was busy, after warm-up and before arrivals stop. */
  meanBatch: number;
  maxBatch: number;
  /** Share of that steady period with at least one sequence running. */
  busyShare: number;
  /** Quanta that ended with tokens still to produce (the sequence went back to the policy). */
  quantumEnds: number;
  /** ... of which the policy did not pick again at once: KV dropped, recomputed on resume. */
  preemptions: number;
  recomputedTokens: number;
  /** Boundaries where the policy's pick did not fit the free KV (it waited at the head). */
  kvStalls: number;
  peakKvTokens: number;
}

export interface SimResult {
  scenario: string;
  seed: number;
  policy: string;
  load: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  tokenLatencyMs: number;
  /** P95 of program token latency: BENCH-SCHED §7's S1 gate reads this one. */
  p95TokenLatencyMs: number;
  throughput: number;
  jain: number;
  inversions: number;
  failureRate: number;
  overspendTokens: number;
  eventLogHash: string;
  extras: {
    measured: number;
    completed: number;
    failed: number;
    budgetExhausted: number;
    budgetViolations: number;
    p99ByClassMs: number[];
    /** P95 completion per program kind (chat, react, mcts, coding); NaN for none. */
    p95ByKindMs: number[];
    /**
     * P95 of the measured programs' completion time on an idle backend (calls at their idle
     * latency, tool and approval time as drawn, parallel branches not slowing each other). Every
     * program takes at least that long, so no policy's p95 can be below it.
     */
    p95IsolatedMs: number;
    /**
     * P95 over the measured programs of their token latency on an idle backend (isolated
     * completion time / output tokens): how low p95 token latency could go if no program ever
     * waited for or shared the backend.
     */
    p95IsolatedTokenLatencyMs: number;
    maxWaitByClassMs: number[];
    fairWindows: number;
    maxServiceGap: number;
    rateLimited: number;
    retries: number;
    wastedTokens: number;
    events: number;
    makespanS: number;
    truncated: boolean;
    /** Model-B runs only. */
    engine?: EngineStats;
  };
}

enum Kind {
  Arrival = 0,
  CallEnd = 1,
  StepReady = 2,
  Retry = 3,
  Wake = 4,
  AgentStart = 5,
  EngineTick = 6,
}

type Status = "running" | "exited" | "failed" | "budget_exhausted";

interface Program {
  idx: number;
  id: string;
  spec: ProgramSpec;
  agent: number;
  arrivalUs: number;
  endUs: number;
  status: Status;
  stage: number;
  pendingBranches: number;
  branchStep: number[];
  spentTokens: number;
  queued: Set<string>;
  inFlight: number;
  remainingWorkUs: number;
  /** Engine mode: calls admitted so far (the first one only hits the system prompt in cache). */
  admittedCalls: number;
  /** Completion time on an idle backend: a lower bound for this program. */
  isolatedUs: number;
}

interface Call {
  prog: Program;
  branch: number;
  step: StepSpec;
  task: SchedTask;
  attempts: number;
  rateLimits: number;
  queuedAtUs: number;
  permit: Permit | null;
  grant: number;
  startUs: number;
  outputTokens: number;
  failed: boolean;
  /** Engine mode: tokens produced so far over all quanta. */
  generated: number;
  /** Engine mode: the most this call may produce (its length, cut by the budget's grants). */
  outputCap: number;
  /** Engine mode: prompt tokens served from the prefix cache, fixed at first admission. */
  cachedTokens: number;
  /** Engine mode: its quantum just ended and its KV is still in place. */
  resident: boolean;
  /** Engine mode: preempted; its KV must be recomputed when it resumes. */
  evicted: boolean;
}

/** Engine mode: a picked request waiting for KV, and how often later ones went around it. */
interface Waiting {
  d: Extract<Decision, { kind: "run" }>;
  skips: number;
}

/** A call running on the engine for one quantum. */
interface Segment {
  call: Call;
  taskId: string;
  /** Iteration count when it joined; it produces one token per iteration from then on. */
  joinD: number;
  /** Iteration count at which its quantum (or its output) ends. */
  endD: number;
  kvTokens: number;
  inputTokens: number;
  startUs: number;
  order: number;
}

/** The engine's current run of identical iterations (or a single prefill iteration). */
interface Stretch {
  startUs: number;
  startD: number;
  iterUs: number;
  endD: number;
}

const segmentBefore = (a: Segment, b: Segment) =>
  a.endD < b.endD || (a.endD === b.endD && a.order < b.order);

const US_PER_MS = 1_000;

/** Runs one simulation to completion. */
export function runSim(config: SimConfig): SimResult {
  return new Simulation(config).run();
}

class Simulation {
  private readonly events = new EventQueue();
  private readonly hash = new EventHash();
  private readonly policy: SchedPolicy;
  private readonly limiter: CapacityLimiter;
  private readonly provider: Provider;
  private readonly jitter: Rng;
  private readonly retryOptions;
  private readonly programs: Program[] = [];
  private readonly byId = new Map<string, Program>();
  private readonly calls = new Map<string, Call>();
  private readonly queuedByClass: number[];
  private readonly queuedByTenant: number[];
  private readonly backlogSinceUs: number[];
  private readonly service: WindowedSeries;
  private readonly backlog: WindowedSeries;
  private readonly failSeed: number;
  private readonly arrivalRngs: Rng[] = [];
  private readonly arrivalCount: number[] = [];
  private readonly burstOnUntilUs: number[] = [];
  private readonly agentRuns: number[] = [];
  /** Picked but waiting for tokens/min: sent before anything else is picked. */
  private head: Extract<Decision, { kind: "run" }> | null = null;
  /**
   * Engine mode: picked but waiting for KV, oldest first. With no backfill it holds at most the
   * head, which blocks admission behind it; with backfill, up to `backfillLookahead` later picks
   * may be admitted around it.
   */
  private readonly room: Waiting[] = [];
  private wakeAtUs = Number.POSITIVE_INFINITY;
  private nowUs = 0;
  private inversions = 0;
  private readonly maxWaitByClassUs: number[];
  private retries = 0;
  private wastedTokens = 0;
  private rateLimitedSeen = 0;
  private eventCount = 0;
  // Engine mode (model B).
  private readonly engine: EngineParams | null;
  private readonly running = new IndexedHeap<Segment>(segmentBefore, (s) => s.taskId);
  private engineD = 0;
  private kvUsed = 0;
  private stretch: Stretch | null = null;
  private tickGen = 0;
  private segmentSeq = 0;
  /** Work was queued since the last boundary: worth cutting a stretch short for. */
  private engineDirty = false;
  private lastBoundaryUs = 0;
  private batchUs = 0;
  private busyUs = 0;
  private readonly engineStats: EngineStats = {
    iterations: 0,
    meanBatch: 0,
    maxBatch: 0,
    busyShare: 0,
    quantumEnds: 0,
    preemptions: 0,
    recomputedTokens: 0,
    kvStalls: 0,
    peakKvTokens: 0,
  };

  constructor(private readonly c: SimConfig) {
    const oracle: Oracle = {
      remainingWorkUs: (id) => this.byId.get(id)?.remainingWorkUs ?? 0,
    };
    this.policy = c.makePolicy(oracle);
    this.engine = c.engine?.params ?? null;
    this.jitter = createRng(deriveSeed(c.seed, "jitter"));
    this.failSeed = deriveSeed(c.seed, "failures");
    const limits =
      c.client.mode === "kernel"
        ? c.client.limits
        : { ...c.client.limits, requestsPerMin: 100_000_000, tokensPerMin: 10_000_000_000 };
    this.limiter = new CapacityLimiter(limits, 0, this.jitter);
    this.provider = new Provider(c.backend, 0);
    this.retryOptions = resolveRetryOptions(c.client.retry);
    const tenants = c.tenantWeights.length;
    this.queuedByClass = [0, 0, 0];
    this.maxWaitByClassUs = [0, 0, 0];
    this.queuedByTenant = new Array(tenants).fill(0);
    this.backlogSinceUs = new Array(tenants).fill(0);
    this.service = new WindowedSeries(tenants, c.windowUs);
    this.backlog = new WindowedSeries(tenants, c.windowUs);
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
      case Kind.Arrival:
        this.arrive(e.a);
        break;
      case Kind.AgentStart:
        this.agentStarts(e.a);
        break;
      case Kind.CallEnd:
        this.callEnded(e.ref as Call);
        break;
      case Kind.StepReady: {
        const { prog, branch } = e.ref as { prog: Program; branch: number };
        if (prog.status === "running") this.stepReady(prog, branch);
        break;
      }
      case Kind.Retry: {
        const call = e.ref as Call;
        if (call.prog.status === "running") this.enqueue(call);
        break;
      }
      case Kind.Wake:
        if (e.timeUs >= this.wakeAtUs) this.wakeAtUs = Number.POSITIVE_INFINITY;
        break;
      case Kind.EngineTick:
        if (e.a === this.tickGen && this.stretch) this.engineBoundary();
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
        this.events.push(Math.floor(rng.nextFloat() * 10_000_000), Kind.AgentStart, i);
      }
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
    if (t < this.c.durationUs) this.events.push(t, Kind.Arrival, tenant);
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
    const engine = this.engine;
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
    if (!this.engine) {
      prog.remainingWorkUs -= baseLatencyUs(
        call.step.prefillTokens,
        call.step.decodeTokens,
        this.c.backend,
      );
    }
    prog.branchStep[call.branch] = (prog.branchStep[call.branch] as number) + 1;
    if (call.step.gapUs > 0) {
      this.events.push(this.nowUs + call.step.gapUs, Kind.StepReady, prog.idx, {
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

  private endProgram(prog: Program, status: Exclude<Status, "running">): void {
    if (prog.status !== "running") return;
    prog.status = status;
    prog.endUs = this.nowUs;
    for (const taskId of prog.queued) {
      const task = this.policy.remove(taskId);
      if (task) this.dequeued(task);
      if (!this.isPicked(taskId)) this.calls.delete(taskId);
    }
    prog.queued.clear();
    if (this.head && this.head.task.processId === prog.id) {
      this.unpick(this.head.task);
      this.head = null;
    }
    for (let i = this.room.length - 1; i >= 0; i--) {
      const task = (this.room[i] as Waiting).d.task;
      if (task.processId !== prog.id) continue;
      this.unpick(task);
      this.room.splice(i, 1);
    }
    if (prog.inFlight === 0) this.retire(prog);
    if (prog.agent >= 0 && this.nowUs < this.c.durationUs) {
      this.events.push(this.nowUs, Kind.AgentStart, prog.agent);
    }
  }

  /** Picked but not yet sent or admitted. */
  private isPicked(taskId: string): boolean {
    return this.head?.task.taskId === taskId || this.room.some((w) => w.d.task.taskId === taskId);
  }

  /** A picked request of an ended program: give back what the pick reserved. */
  private unpick(task: SchedTask): void {
    this.policy.charge(task, { inputTokens: 0, outputTokens: 0, runMs: 0 }, this.nowMs());
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
    this.engineDirty = true;
  }

  /** Bookkeeping for a request that left the queue (picked or removed). */
  private dequeued(task: SchedTask): void {
    const prog = this.byId.get(task.processId);
    prog?.queued.delete(task.taskId);
    this.queuedByClass[task.priority] = (this.queuedByClass[task.priority] as number) - 1;
    if (prog) this.backlogDown(prog.spec.tenant);
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
    if (this.engine) {
      this.engineKick();
      return;
    }
    for (;;) {
      const nowMs = this.nowMs();
      if (!this.head) {
        const free = this.limiter.check(0, nowMs);
        if (!free.ok) {
          this.wakeAt(free.retryAtMs);
          return;
        }
        const d = this.policy.pick(nowMs);
        if (!d) return;
        this.hash.int(this.byId.get(d.task.processId)?.idx ?? -1);
        this.hash.int(d.task.enqueuedAtMs);
        if (d.kind === "end") {
          this.dequeued(d.task);
          this.calls.delete(d.task.taskId);
          const prog = this.byId.get(d.task.processId);
          if (prog) this.endProgram(prog, "budget_exhausted");
          continue;
        }
        this.countInversion(d.task.priority);
        // The head stays counted as queued (for backlog) until it is sent.
        this.head = d;
      }
      const d = this.head;
      const acquired = this.limiter.tryAcquire(d.task.inputTokens, nowMs);
      if (!acquired.ok) {
        this.wakeAt(acquired.retryAtMs);
        return;
      }
      this.head = null;
      this.dequeued(d.task);
      this.send(d.task, d.maxOutputTokens, acquired.permit);
    }
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

  private wakeAt(retryAtMs: number | null): void {
    if (retryAtMs === null) return; // a release will call dispatch again
    const atUs = Math.max(this.nowUs + 1, retryAtMs * US_PER_MS);
    if (atUs < this.wakeAtUs) {
      this.wakeAtUs = atUs;
      this.events.push(atUs, Kind.Wake, -1);
    }
  }

  private send(task: SchedTask, grant: number, permit: Permit): void {
    const call = this.calls.get(task.taskId) as Call;
    const prog = call.prog;
    const nowMs = this.nowMs();
    const waitUs = this.nowUs - call.queuedAtUs;
    if (waitUs > (this.maxWaitByClassUs[task.priority] as number))
      this.maxWaitByClassUs[task.priority] = waitUs;
    call.attempts++;
    const answer = this.provider.admit(task.inputTokens, nowMs);
    if (!answer.ok) {
      this.rateLimitedSeen++;
      this.limiter.release(permit, 0, nowMs);
      call.rateLimits++;
      if (this.c.client.mode === "naive") {
        this.policy.charge(task, { inputTokens: 0, outputTokens: 0, runMs: 0 }, nowMs);
        this.retryNaive(call);
        return;
      }
      this.limiter.onRateLimited(answer.retryAfterMs, nowMs);
      if (call.rateLimits > this.c.client.maxRateLimitRetries) {
        this.policy.charge(task, { inputTokens: 0, outputTokens: 0, runMs: 0 }, nowMs);
        this.calls.delete(task.taskId);
        this.endProgram(prog, "failed");
        return;
      }
      // The policy already chose this call: it goes first when the pause ends, keeping its
      // grant and reservation, instead of queueing again behind whatever came since.
      this.retries++;
      this.head = { kind: "run", task, maxOutputTokens: grant };
      this.queuedByClass[task.priority] = (this.queuedByClass[task.priority] as number) + 1;
      this.backlogUp(prog.spec.tenant);
      call.queuedAtUs = this.nowUs;
      return;
    }
    call.permit = permit;
    call.grant = grant;
    call.startUs = this.nowUs;
    call.outputTokens = Math.min(call.step.decodeTokens, grant);
    prog.inFlight++;
    const latencyUs = Math.round(
      baseLatencyUs(task.inputTokens, call.outputTokens, this.c.backend) *
        slowdownFactor(this.provider.inFlight, this.c.backend),
    );
    const failRng = createRng(
      deriveSeed(this.failSeed, `${prog.idx}/${task.taskId}/${call.attempts}`),
    );
    call.failed = failRng.nextFloat() < this.c.backend.failProbability;
    let durationUs = latencyUs;
    if (call.failed) {
      const fraction = failRng.nextFloat();
      durationUs = Math.max(1, Math.floor(latencyUs * fraction));
      call.outputTokens = Math.floor(call.outputTokens * fraction);
    }
    this.hash.int(prog.idx);
    this.hash.int(durationUs);
    this.events.push(this.nowUs + durationUs, Kind.CallEnd, prog.idx, call);
  }

  private retryNaive(call: Call): void {
    if (call.attempts >= this.retryOptions.maxAttempts) {
      this.calls.delete(call.task.taskId);
      this.endProgram(call.prog, "failed");
      return;
    }
    this.retries++;
    this.events.push(
      this.nowUs + this.c.client.naiveRetryDelayMs * US_PER_MS,
      Kind.Retry,
      call.prog.idx,
      call,
    );
  }

  private callEnded(call: Call): void {
    const prog = call.prog;
    const nowMs = this.nowMs();
    const used = call.task.inputTokens + call.outputTokens;
    prog.inFlight--;
    prog.spentTokens += used;
    this.provider.finish(call.outputTokens, nowMs);
    this.limiter.release(call.permit as Permit, used, nowMs);
    const runMs = Math.round((this.nowUs - call.startUs) / US_PER_MS);
    this.policy.charge(
      call.task,
      { inputTokens: call.task.inputTokens, outputTokens: call.outputTokens, runMs },
      nowMs,
    );
    const weighted = call.task.inputTokens + 2 * call.outputTokens;
    this.service.add(prog.spec.tenant, weighted, call.startUs, this.nowUs);
    call.permit = null;

    if (prog.status !== "running") {
      this.wastedTokens += used;
      this.calls.delete(call.task.taskId);
      if (prog.inFlight === 0) this.retire(prog);
      return;
    }
    if (!call.failed) {
      this.limiter.onSuccess();
      this.calls.delete(call.task.taskId);
      this.stepDone(call);
      return;
    }
    this.wastedTokens += used;
    if (this.c.client.mode === "naive") {
      this.retryNaive(call);
      return;
    }
    // 429s do not use up the transient-failure attempts: they have their own bound.
    const attempts = call.attempts - call.rateLimits;
    const decision = nextRetry(attempts, 502, null, this.retryOptions, this.jitter);
    if (!decision.retry) {
      this.calls.delete(call.task.taskId);
      this.endProgram(prog, "failed");
      return;
    }
    this.retries++;
    this.events.push(this.nowUs + decision.delayMs * US_PER_MS, Kind.Retry, prog.idx, call);
  }

  // ── Backend model B: the engine's batch, chosen by the policy ─────────────────────────

  /** After any event: start an idle engine, or end the current stretch at the next boundary. */
  private engineKick(): void {
    const p = this.engine as EngineParams;
    const s = this.stretch;
    if (!s) {
      if (this.room.length > 0 || this.policy.size() > 0) this.engineBoundary();
      return;
    }
    // New work can only join at an iteration boundary, and only if there is room for it (and,
    // with a head waiting for KV, only if it may go around it).
    if (!this.engineDirty || this.room.length > p.backfillLookahead) return;
    if (this.running.size >= p.maxBatch) return;
    if (this.kvUsed >= p.kvCapacityTokens) return;
    const next = Math.max(1, Math.ceil((this.nowUs - s.startUs) / s.iterUs));
    if (s.startD + next >= s.endD) return;
    this.scheduleTick(s, next);
  }

  private scheduleTick(s: Stretch, iterations: number): void {
    s.endD = s.startD + iterations;
    this.tickGen++;
    this.events.push(s.startUs + iterations * s.iterUs, Kind.EngineTick, this.tickGen);
  }

  /**
   * An iteration boundary: account the iterations run, settle the sequences whose output or
   * quantum ended (the latter go back to the policy), let the policy fill the batch, drop the
   * KV of preempted sequences, and time the next iteration(s).
   */
  private engineBoundary(): void {
    const p = this.engine as EngineParams;
    const st = this.engineStats;
    const nowMs = this.nowMs();
    // Batch statistics cover the steady part of the run: after warm-up, while arrivals go on.
    const elapsed =
      Math.min(this.nowUs, this.c.durationUs) - Math.max(this.lastBoundaryUs, this.c.measureFromUs);
    if (elapsed > 0) {
      this.batchUs += this.running.size * elapsed;
      if (this.running.size > 0) this.busyUs += elapsed;
    }
    this.lastBoundaryUs = this.nowUs;
    if (this.stretch) {
      this.engineD = this.stretch.endD;
      st.iterations += this.stretch.endD - this.stretch.startD;
      this.stretch = null;
    }

    const released: Call[] = [];
    for (
      let seg = this.running.peek();
      seg && seg.endD <= this.engineD;
      seg = this.running.peek()
    ) {
      this.running.pop();
      this.segmentEnded(seg, released, nowMs);
    }

    let prefillTokens = 0;
    let prefilling = 0;
    // Candidates in the order picked: the room first (oldest first), then new picks.
    let i = 0;
    while (this.running.size < p.maxBatch) {
      // Nothing more goes around a head that has been bypassed too often: it is next.
      if (i > 0 && (this.room[0] as Waiting).skips >= p.backfillMaxSkips) break;
      let w = this.room[i];
      if (!w) {
        // Pick more only while the room has space.
        if (this.room.length > p.backfillLookahead) break;
        const picked = this.policy.pick(nowMs);
        if (!picked) break;
        this.hash.int(this.byId.get(picked.task.processId)?.idx ?? -1);
        this.hash.int(picked.task.enqueuedAtMs);
        if (picked.kind === "end") {
          this.dequeued(picked.task);
          this.calls.delete(picked.task.taskId);
          const prog = this.byId.get(picked.task.processId);
          if (prog) this.endProgram(prog, "budget_exhausted");
          i = 0;
          continue;
        }
        this.countInversion(picked.task.priority);
        w = { d: picked, skips: 0 };
        this.room.push(w);
      }
      const d = w.d;
      const call = this.calls.get(d.task.taskId) as Call;
      const cap =
        call.generated === 0
          ? Math.min(call.step.decodeTokens, d.maxOutputTokens)
          : Math.min(call.outputCap, call.generated + d.maxOutputTokens);
      const tokens = Math.max(1, Math.min(p.quantumTokens, cap - call.generated));
      const kv = call.step.prefillTokens + call.generated + tokens;
      if (this.running.size > 0 && kv > p.kvCapacityTokens - this.kvUsed) {
        // It waits for KV: at the head it blocks admission behind it, as an engine's FCFS
        // admission does, unless the engine backfills around it.
        st.kvStalls++;
        i++;
        continue;
      }
      this.room.splice(i, 1);
      if (i > 0) (this.room[0] as Waiting).skips++;
      this.dequeued(d.task);
      call.outputCap = Math.max(cap, call.generated + 1);
      const prefill = this.admit(call, d.task, tokens, kv);
      if (prefill > 0) {
        prefillTokens += prefill;
        prefilling++;
      }
    }
    for (const call of released) {
      if (!call.resident || this.calls.get(call.task.taskId) !== call) continue;
      // Its quantum ended and the policy chose others: preempted, its KV is gone.
      call.resident = false;
      call.evicted = true;
      st.preemptions++;
    }
    this.engineDirty = false;

    const n = this.running.size;
    st.maxBatch = Math.max(st.maxBatch, n);
    st.peakKvTokens = Math.max(st.peakKvTokens, this.kvUsed);
    this.hash.int(n);
    this.hash.int(this.kvUsed);
    if (n === 0) return; // idle until work is queued
    const first = this.running.peek() as Segment;
    const s: Stretch = {
      startUs: this.nowUs,
      startD: this.engineD,
      iterUs: iterationUs(p, n - prefilling, prefillTokens),
      endD: this.engineD,
    };
    this.stretch = s;
    // A prefill iteration is timed alone; after it the batch decodes in identical iterations.
    this.scheduleTick(s, prefillTokens > 0 ? 1 : first.endD - this.engineD);
  }

  /** Puts a picked call into the batch for one quantum; returns the prompt tokens it prefills. */
  private admit(call: Call, task: SchedTask, tokens: number, kv: number): number {
    const prog = call.prog;
    const waitUs = this.nowUs - call.queuedAtUs;
    if (waitUs > (this.maxWaitByClassUs[task.priority] as number))
      this.maxWaitByClassUs[task.priority] = waitUs;
    const p = this.engine as EngineParams;
    let prefill = 0;
    if (call.resident) {
      // Picked again as its quantum ended: it keeps decoding with its KV.
    } else if (call.generated === 0) {
      call.cachedTokens = cachedPromptTokens(p, call.step.prefillTokens, prog.admittedCalls === 0);
      prog.admittedCalls++;
      prefill = call.step.prefillTokens - call.cachedTokens;
      prog.remainingWorkUs -= prefill * p.perPrefillTokenUs;
    } else {
      prefill = call.step.prefillTokens - call.cachedTokens + call.generated;
      this.engineStats.recomputedTokens += prefill;
    }
    call.resident = false;
    call.evicted = false;
    const seg: Segment = {
      call,
      taskId: task.taskId,
      joinD: this.engineD,
      endD: this.engineD + tokens,
      kvTokens: kv,
      inputTokens: task.inputTokens,
      startUs: this.nowUs,
      order: this.segmentSeq++,
    };
    this.running.push(seg);
    this.kvUsed += kv;
    prog.inFlight++;
    this.hash.int(prog.idx);
    this.hash.int(tokens);
    this.hash.int(prefill);
    return prefill;
  }

  /** A running quantum ended at this boundary: charge it, then finish the call or re-queue it. */
  private segmentEnded(seg: Segment, released: Call[], nowMs: number): void {
    const call = seg.call;
    const prog = call.prog;
    const produced = seg.endD - seg.joinD;
    this.kvUsed -= seg.kvTokens;
    call.generated += produced;
    prog.inFlight--;
    const used = seg.inputTokens + produced;
    prog.spentTokens += used;
    prog.remainingWorkUs -= produced * (this.c.engine?.decodeTokenUs ?? 0);
    const runMs = Math.round((this.nowUs - seg.startUs) / US_PER_MS);
    this.policy.charge(
      call.task,
      { inputTokens: seg.inputTokens, outputTokens: produced, runMs },
      nowMs,
    );
    this.service.add(prog.spec.tenant, seg.inputTokens + 2 * produced, seg.startUs, this.nowUs);
    if (prog.status !== "running") {
      this.wastedTokens += used;
      this.calls.delete(call.task.taskId);
      if (prog.inFlight === 0) this.retire(prog);
      return;
    }
    if (call.generated >= call.outputCap) {
      call.outputTokens = call.generated;
      this.calls.delete(call.task.taskId);
      this.stepDone(call);
      return;
    }
    // Quantum over with tokens to go: back to the policy, as the rest of the same request.
    this.engineStats.quantumEnds++;
    call.task = {
      ...call.task,
      inputTokens: 0,
      maxOutputTokens: Math.max(1, this.c.client.maxOutputTokens - call.generated),
    };
    call.resident = true;
    released.push(call);
    this.enqueue(call);
  }

  // ── Results ─────────────────────────────────────────────────────────────────────────────

  private summarise(truncated: boolean): SimResult {
    const c = this.c;
    const measured = this.programs.filter(
      (p) => p.arrivalUs >= c.measureFromUs && p.arrivalUs < c.measureToUs,
    );
    const completed = measured.filter((p) => p.status === "exited");
    const jctMs = completed.map((p) => (p.endUs - p.arrivalUs) / US_PER_MS);
    const jct = (p: Program) => (p.endUs - p.arrivalUs) / US_PER_MS;
    const p95ByKindMs = PROGRAM_KINDS.map((kind) =>
      round(percentile(completed.filter((p) => p.spec.kind === kind).map(jct), 0.95), 1),
    );
    const p95IsolatedMs = percentile(
      completed.map((p) => p.isolatedUs / US_PER_MS),
      0.95,
    );
    const p95IsolatedTokenLatencyMs = percentile(
      completed.map((p) => p.isolatedUs / US_PER_MS / Math.max(1, p.spec.outputTokens)),
      0.95,
    );
    const tokenLatency = completed.map(
      (p) => (p.endUs - p.arrivalUs) / US_PER_MS / Math.max(1, p.spec.outputTokens),
    );
    const failed = measured.filter((p) => p.status === "failed").length;
    const exhausted = measured.filter((p) => p.status === "budget_exhausted").length;
    let overspend = 0;
    let violations = 0;
    for (const p of this.programs) {
      const over = p.spentTokens - p.spec.budgetTokens;
      if (over > 0) {
        violations++;
        overspend = Math.max(overspend, over);
      }
    }
    const p99ByClassMs = [0, 1, 2].map((k) =>
      percentile(
        completed
          .filter((p) => p.spec.priority === k)
          .map((p) => (p.endUs - p.arrivalUs) / US_PER_MS),
        0.99,
      ),
    );
    const makespanUs = Math.max(1, ...this.programs.map((p) => p.endUs));
    const allCompleted = this.programs.filter((p) => p.status === "exited").length;
    const fair = fairness(this.service, this.backlog, c.tenantWeights);
    const ended = completed.length + failed;
    const result: SimResult = {
      scenario: c.scenario,
      seed: c.seed,
      policy: c.policy,
      load: c.load,
      p50Ms: round(percentile(jctMs, 0.5), 1),
      p95Ms: round(percentile(jctMs, 0.95), 1),
      p99Ms: round(percentile(jctMs, 0.99), 1),
      tokenLatencyMs: round(mean(tokenLatency), 3),
      p95TokenLatencyMs: round(percentile(tokenLatency, 0.95), 3),
      throughput: round((allCompleted / makespanUs) * 60_000_000, 3),
      jain: round(fair.jain, 4),
      inversions: this.inversions,
      failureRate: round(ended === 0 ? 0 : failed / ended, 4),
      overspendTokens: overspend,
      eventLogHash: "",
      extras: {
        measured: measured.length,
        completed: completed.length,
        failed,
        budgetExhausted: exhausted,
        budgetViolations: violations,
        p99ByClassMs: p99ByClassMs.map((v) => round(v, 1)),
        p95ByKindMs,
        p95IsolatedMs: round(p95IsolatedMs, 1),
        p95IsolatedTokenLatencyMs: round(p95IsolatedTokenLatencyMs, 3),
        maxWaitByClassMs: this.maxWaitByClassUs.map((v) => round(v / US_PER_MS, 1)),
        fairWindows: fair.windows,
        maxServiceGap: round(fair.maxServiceGap, 1),
        rateLimited: this.rateLimitedSeen,
        retries: this.retries,
        wastedTokens: this.wastedTokens,
        events: this.eventCount,
        makespanS: round(makespanUs / 1_000_000, 1),
        truncated,
      },
    };
    if (this.engine) {
      const st = this.engineStats;
      result.extras.engine = {
        ...st,
        meanBatch: round(this.busyUs === 0 ? 0 : this.batchUs / this.busyUs, 2),
        busyShare: round(this.busyUs / Math.max(1, c.durationUs - c.measureFromUs), 4),
      };
    }
    // Every reported number is folded in too, so no metric can change with the hash unchanged.
    this.hash.text(JSON.stringify(result));
    result.eventLogHash = this.hash.digest();
    return result;
  }
}

function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
