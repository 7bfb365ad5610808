/**
 * Backend model A inside the simulation: a hosted API reached through the kernel's client stack
 * (BENCH-SCHED §2; the provider's latency, limits and 429s are in `backend.ts`).
 *
 * The driver does what the Scheduler Durable Object does around a model call: it picks when
 * the pool's `CapacityLimiter` has room, holds a pick the tokens/min bucket cannot cover yet as
 * the head, sends it to the provider, and on the answer charges the policy and releases the
 * permit. A 429 pauses the whole pool and the rate-limited call goes first when the pause ends;
 * a 502 is retried with jittered backoff; the storm's `naive` client resends after a fixed
 * delay instead. With `holdLanes` (S6's baseline) the permit stays held through the tool wait
 * after the call. The event loop (`sim.ts`) owns programs and the queue's bookkeeping and
 * reaches the driver through `dispatch` and the events it raised; the driver reaches it through
 * `ApiHost`.
 */

import { nextRetry, resolveRetryOptions } from "../../src/kernel/capacity/backoff.js";
import { CapacityLimiter, type Permit } from "../../src/kernel/capacity/limiter.js";
import { createRng, deriveSeed, type Rng } from "../../src/kernel/capacity/random.js";
import { type Decision, type SchedTask, ZERO_USAGE } from "../../src/kernel/scheduler/types.js";
import { baseLatencyUs, Provider, slowdownFactor } from "./backend.js";
import { type BackendHost, type Call, EventKind, US_PER_MS } from "./sim-records.js";
import type { SimConfig } from "./sim-types.js";

/** What the hosted-API driver needs from the event loop beyond what every backend does. */
export interface ApiHost extends BackendHost {
  /** Raise an event of the loop's queue; the loop hands API events back to the driver. */
  schedule(atUs: number, kind: EventKind, programIdx: number, ref?: unknown): void;
  /** A picked request is back at the head (a 429): it counts as queued again. */
  backInQueue(task: SchedTask): void;
  /** Tokens spent on a failed attempt. */
  wasted(tokens: number): void;
  /** A call ran out of attempts: its program fails. */
  failed(call: Call): void;
}

/** What the driver counted, for the result row. */
export interface ApiCounts {
  retries: number;
  rateLimited: number;
  /** Lane-time held by calls, and the part of it spent in tool waits (`holdLanes`). */
  laneHeldUs: number;
  laneIdleUs: number;
}

/** A lane held through a tool wait, given back when the wait ends. */
interface HeldLane {
  permit: Permit;
  usedTokens: number;
}

/** The hosted-API path of a run; see the file comment. */
export class HostedApiDriver {
  private readonly limiter: CapacityLimiter;
  private readonly provider: Provider;
  private readonly jitter: Rng;
  private readonly retryOptions;
  private readonly failSeed: number;
  /** Picked but waiting for tokens/min: sent before anything else is picked. */
  private head: Extract<Decision, { kind: "run" }> | null = null;
  private wakeAtUs = Number.POSITIVE_INFINITY;
  private readonly counts: ApiCounts = {
    retries: 0,
    rateLimited: 0,
    laneHeldUs: 0,
    laneIdleUs: 0,
  };

  constructor(
    private readonly host: ApiHost,
    private readonly c: SimConfig,
  ) {
    this.jitter = createRng(deriveSeed(c.seed, "jitter"));
    this.failSeed = deriveSeed(c.seed, "failures");
    const limits =
      c.client.mode === "kernel"
        ? c.client.limits
        : { ...c.client.limits, requestsPerMin: 100_000_000, tokensPerMin: 10_000_000_000 };
    this.limiter = new CapacityLimiter(limits, 0, this.jitter);
    this.provider = new Provider(c.backend, 0);
    this.retryOptions = resolveRetryOptions(c.client.retry);
  }

  /** Picked and waiting for tokens/min (or for a 429's pause to end). */
  isHead(taskId: string): boolean {
    return this.head?.task.taskId === taskId;
  }

  /** Takes the head away if it belongs to an ended program, and returns it. */
  dropHead(processId: string): SchedTask | null {
    if (!this.head || this.head.task.processId !== processId) return null;
    const task = this.head.task;
    this.head = null;
    return task;
  }

  /** Sends picks while the limiter has room; otherwise wakes up when it will. */
  dispatch(): void {
    for (;;) {
      const nowMs = this.nowMs();
      if (!this.head) {
        const free = this.limiter.check(0, nowMs);
        if (!free.ok) {
          this.wakeAt(free.retryAtMs);
          return;
        }
        const d = this.host.pickNext(nowMs);
        if (!d) return;
        if (d.kind === "end") continue;
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
      this.host.leftQueue(d.task);
      this.send(d.task, d.maxOutputTokens, acquired.permit);
    }
  }

  /** The wake-up raised at `timeUs` fired (a later one may have replaced it). */
  woke(timeUs: number): void {
    if (timeUs >= this.wakeAtUs) this.wakeAtUs = Number.POSITIVE_INFINITY;
  }

  /** A lane held through a tool wait is free again. */
  laneReleased(ref: unknown): void {
    const { permit, usedTokens } = ref as HeldLane;
    this.limiter.release(permit, usedTokens, this.nowMs());
  }

  /** The provider answered (or failed part-way). */
  callEnded(call: Call): void {
    const host = this.host;
    const prog = call.prog;
    const nowUs = host.nowUs();
    const nowMs = this.nowMs();
    const used = call.task.inputTokens + call.outputTokens;
    prog.inFlight--;
    prog.spentTokens += used;
    this.provider.finish(call.outputTokens, nowMs);
    this.counts.laneHeldUs += nowUs - call.startUs;
    const holdUs =
      this.c.client.holdLanes && !call.failed && prog.status === "running" ? call.step.gapUs : 0;
    if (holdUs > 0) {
      // The step's tool runs with the lane still held; raised before the step's StepReady at
      // the same instant, so the lane is free again when the next call queues.
      this.counts.laneHeldUs += holdUs;
      this.counts.laneIdleUs += holdUs;
      const held: HeldLane = { permit: call.permit as Permit, usedTokens: used };
      host.schedule(nowUs + holdUs, EventKind.LaneRelease, prog.idx, held);
    } else {
      this.limiter.release(call.permit as Permit, used, nowMs);
    }
    const runMs = Math.round((nowUs - call.startUs) / US_PER_MS);
    host.policy.charge(
      call.task,
      { inputTokens: call.task.inputTokens, outputTokens: call.outputTokens, runMs },
      nowMs,
    );
    host.served(
      prog.spec.tenant,
      call.task.inputTokens + 2 * call.outputTokens,
      call.startUs,
      nowUs,
    );
    call.permit = null;

    if (prog.status !== "running") {
      host.discard(call, used);
      return;
    }
    if (!call.failed) {
      this.limiter.onSuccess();
      prog.remainingWorkUs -= baseLatencyUs(
        call.step.prefillTokens,
        call.step.decodeTokens,
        this.c.backend,
      );
      host.finished(call);
      return;
    }
    host.wasted(used);
    if (this.c.client.mode === "naive") {
      this.retryNaive(call);
      return;
    }
    // 429s do not use up the transient-failure attempts: they have their own bound.
    const attempts = call.attempts - call.rateLimits;
    const decision = nextRetry(attempts, 502, null, this.retryOptions, this.jitter);
    if (!decision.retry) {
      host.failed(call);
      return;
    }
    this.counts.retries++;
    host.schedule(nowUs + decision.delayMs * US_PER_MS, EventKind.Retry, prog.idx, call);
  }

  /** What the driver counted. */
  summary(): ApiCounts {
    return { ...this.counts };
  }

  private nowMs(): number {
    return Math.floor(this.host.nowUs() / US_PER_MS);
  }

  private wakeAt(retryAtMs: number | null): void {
    if (retryAtMs === null) return; // a release will call dispatch again
    const atUs = Math.max(this.host.nowUs() + 1, retryAtMs * US_PER_MS);
    if (atUs < this.wakeAtUs) {
      this.wakeAtUs = atUs;
      this.host.schedule(atUs, EventKind.Wake, -1);
    }
  }

  private send(task: SchedTask, grant: number, permit: Permit): void {
    const host = this.host;
    const call = host.call(task.taskId) as Call;
    const prog = call.prog;
    const nowUs = host.nowUs();
    const nowMs = this.nowMs();
    host.waited(task.priority, nowUs - call.queuedAtUs);
    call.attempts++;
    const answer = this.provider.admit(task.inputTokens, nowMs);
    if (!answer.ok) {
      this.counts.rateLimited++;
      this.limiter.release(permit, 0, nowMs);
      call.rateLimits++;
      if (this.c.client.mode === "naive") {
        host.policy.charge(task, ZERO_USAGE, nowMs);
        this.retryNaive(call);
        return;
      }
      this.limiter.onRateLimited(answer.retryAfterMs, nowMs);
      if (call.rateLimits > this.c.client.maxRateLimitRetries) {
        host.policy.charge(task, ZERO_USAGE, nowMs);
        host.failed(call);
        return;
      }
      // The policy already chose this call: it goes first when the pause ends, keeping its
      // grant and reservation, instead of queueing again behind whatever came since.
      this.counts.retries++;
      this.head = { kind: "run", task, maxOutputTokens: grant };
      host.backInQueue(task);
      call.queuedAtUs = nowUs;
      return;
    }
    call.permit = permit;
    call.grant = grant;
    call.startUs = nowUs;
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
    host.hash.int(prog.idx);
    host.hash.int(durationUs);
    host.schedule(nowUs + durationUs, EventKind.CallEnd, prog.idx, call);
  }

  private retryNaive(call: Call): void {
    if (call.attempts >= this.retryOptions.maxAttempts) {
      this.host.failed(call);
      return;
    }
    this.counts.retries++;
    this.host.schedule(
      this.host.nowUs() + this.c.client.naiveRetryDelayMs * US_PER_MS,
      EventKind.Retry,
      call.prog.idx,
      call,
    );
  }
}
