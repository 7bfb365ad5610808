import { describe, expect, it } from "vitest";
import { ProgramFcfs } from "../../bench/sched/program-fcfs";
import { createRng } from "../../src/kernel/capacity/random";
import { KernelError } from "../../src/kernel/errors";
import {
  BudgetLedger,
  createAtlasPolicy,
  createCompositePolicy,
  createFairPlasPolicy,
  createFcfsPolicy,
  createMlfqPolicy,
  createPlasPolicy,
  createPolicy,
  createPriorityPolicy,
  createRoundRobinPolicy,
  createTokenBudgetPolicy,
  createVtcPolicy,
  DEFAULT_POLICY,
  type Decision,
  IndexedHeap,
  MAX_THREADS_PER_PROGRAM,
  POLICY_NAMES,
  PolicyConfigSchema,
  type SchedPolicy,
  type SchedTask,
  switchPolicy,
  ZERO_USAGE,
} from "../../src/kernel/scheduler";
import { PoolConfigSchema } from "../../src/kernel/scheduler/pool-config";
import { PromotedLane } from "../../src/kernel/scheduler/promoted-lane";

let nextId = 0;
function task(overrides: Partial<SchedTask> = {}): SchedTask {
  nextId++;
  return {
    taskId: `task-${nextId}`,
    processId: `proc-${nextId}`,
    tenantId: "ten-a",
    priority: 1,
    enqueuedAtMs: 0,
    inputTokens: 100,
    maxOutputTokens: 100,
    budgetTokens: null,
    spentTokens: 0,
    ...overrides,
  };
}

function enqueueAll(policy: SchedPolicy, tasks: SchedTask[], nowMs = 0): void {
  for (const t of tasks) expect(policy.enqueue(t, nowMs)).toEqual({ ok: true });
}

/** Picks until empty, returning task ids; each pick is charged as a completed call. */
function pickAll(policy: SchedPolicy, nowMs = 0): string[] {
  const order: string[] = [];
  for (let d = policy.pick(nowMs); d; d = policy.pick(nowMs)) {
    order.push(d.task.taskId);
    policy.charge(d.task, { inputTokens: d.task.inputTokens, outputTokens: 0, runMs: 0 }, nowMs);
  }
  return order;
}

function run(d: Decision | null): Extract<Decision, { kind: "run" }> {
  if (d?.kind === "run") return d;
  throw new Error(`expected a run decision, got ${JSON.stringify(d)}`);
}

describe("IndexedHeap", () => {
  it("pops in key order and removes and re-keys by id", () => {
    const heap = new IndexedHeap<{ id: string; key: number }>(
      (a, b) => a.key < b.key,
      (x) => x.id,
    );
    const rng = createRng(7);
    const keys = Array.from({ length: 200 }, (_, i) => ({ id: `k${i}`, key: rng.nextFloat() }));
    for (const k of keys) heap.push(k);
    heap.remove("k10");
    const k20 = heap.get("k20") as { id: string; key: number };
    k20.key = -1;
    heap.update("k20");
    const popped: number[] = [];
    for (let x = heap.pop(); x; x = heap.pop()) popped.push(x.key);
    expect(popped).toHaveLength(199);
    expect(popped[0]).toBe(-1);
    expect(popped).toEqual([...popped].sort((a, b) => a - b));
  });

  it("visitWhile visits exactly the items within a bound of the minimum, minimum first", () => {
    const heap = new IndexedHeap<{ id: string; key: number }>(
      (a, b) => a.key < b.key,
      (x) => x.id,
    );
    const rng = createRng(11);
    for (let i = 0; i < 300; i++)
      heap.push({ id: `k${i}`, key: Math.floor(rng.nextFloat() * 1e6) });
    const min = heap.peek()?.key as number;
    const seen: number[] = [];
    heap.visitWhile(
      (x) => x.key <= min + 100_000,
      (x) => seen.push(x.key),
      1_000,
    );
    const expected = heap.values().filter((x) => x.key <= min + 100_000).length;
    expect(seen[0]).toBe(min);
    expect(seen).toHaveLength(expected);
    expect(seen.every((k) => k <= min + 100_000)).toBe(true);
    const capped: number[] = [];
    heap.visitWhile(
      () => true,
      (x) => capped.push(x.key),
      5,
    );
    expect(capped).toHaveLength(5);
  });
});

describe("fcfs", () => {
  it("runs requests in the order processes asked, ties by arrival at the policy", () => {
    const p = createFcfsPolicy();
    const a = task({ enqueuedAtMs: 20 });
    const b = task({ enqueuedAtMs: 10 });
    const c = task({ enqueuedAtMs: 10 });
    enqueueAll(p, [a, b, c]);
    expect(pickAll(p)).toEqual([b.taskId, c.taskId, a.taskId]);
  });

  it("refuses a duplicate id and a request beyond maxQueued", () => {
    const p = createFcfsPolicy({ maxQueued: 2 });
    const a = task();
    enqueueAll(p, [a]);
    expect(p.enqueue(a, 0)).toEqual({ ok: false, reason: "duplicate" });
    enqueueAll(p, [task()]);
    expect(p.enqueue(task(), 0)).toEqual({ ok: false, reason: "queue_full" });
  });

  it("rejects a malformed request as invalid_argument", () => {
    const p = createFcfsPolicy();
    expect(() => p.enqueue(task({ inputTokens: -1 }), 0)).toThrow(KernelError);
    expect(() => p.enqueue(task({ priority: 3 }), 0)).toThrow(KernelError);
    expect(() => p.enqueue(task({ threadId: "" }), 0)).toThrow(KernelError);
    expect(p.enqueue(task({ threadId: "0.3" }), 0)).toEqual({ ok: true });
  });
});

describe("round-robin", () => {
  it("rotates one lease per process per turn", () => {
    const p = createRoundRobinPolicy();
    const [a1, a2, a3] = [1, 2, 3].map(() => task({ processId: "A" }));
    const b1 = task({ processId: "B" });
    const [c1, c2] = [1, 2].map(() => task({ processId: "C" }));
    enqueueAll(p, [a1, a2, a3, b1, c1, c2] as SchedTask[]);
    expect(pickAll(p)).toEqual([a1, b1, c1, a2, c2, a3].map((t) => (t as SchedTask).taskId));
  });

  it("skips a process whose only request was withdrawn, and sends a returning one to the back", () => {
    const p = createRoundRobinPolicy();
    const a = task({ processId: "A" });
    const b = task({ processId: "B" });
    const c = task({ processId: "C" });
    enqueueAll(p, [a, b, c]);
    expect(p.remove(a.taskId)?.taskId).toBe(a.taskId);
    const a2 = task({ processId: "A" });
    enqueueAll(p, [a2]);
    expect(pickAll(p)).toEqual([b.taskId, c.taskId, a2.taskId]);
    expect(p.size()).toBe(0);
  });
});

describe("priority", () => {
  it("strict priority always serves the lower class first, even against a much older batch request", () => {
    const p = createPriorityPolicy({ agingMs: null });
    const batch = task({ priority: 2, enqueuedAtMs: 0 });
    const interactive = task({ priority: 0, enqueuedAtMs: 1_000_000 });
    enqueueAll(p, [batch, interactive]);
    expect(pickAll(p)).toEqual([interactive.taskId, batch.taskId]);
  });

  it("aging prevents starvation: a batch request beats fresh interactive ones after 2·agingMs", () => {
    const agingMs = 1_000;
    const aging = createPriorityPolicy({ agingMs });
    const strict = createPriorityPolicy({ agingMs: null });
    const batch = task({ priority: 2, enqueuedAtMs: 0 });
    aging.enqueue(batch, 0);
    strict.enqueue({ ...batch }, 0);
    // An endless stream of interactive work: one new p0 request every 100 ms, one pick each.
    let agedAtMs: number | null = null;
    for (let nowMs = 0; nowMs <= 10_000; nowMs += 100) {
      const fresh = task({ priority: 0, enqueuedAtMs: nowMs });
      aging.enqueue(fresh, nowMs);
      strict.enqueue({ ...fresh }, nowMs);
      const d = run(aging.pick(nowMs));
      if (d.task.taskId === batch.taskId && agedAtMs === null) agedAtMs = nowMs;
      expect(run(strict.pick(nowMs)).task.taskId).not.toBe(batch.taskId);
    }
    // Its key 2·agingMs + 0 ties with a p0 request queued at 2·agingMs; the earlier one wins.
    expect(agedAtMs).toBe(2 * agingMs);
  });
});

describe("mlfq", () => {
  it("demotes a process after it consumed T tokens and boosts everyone every boostMs", () => {
    const p = createMlfqPolicy({ levelsTokens: [1_000, 10_000], boostMs: 60_000 });
    const heavy = task({ processId: "heavy", enqueuedAtMs: 0 });
    enqueueAll(p, [heavy], 0);
    const first = run(p.pick(0));
    // 400 in + 400 out (×2) = 1,200 weighted tokens ≥ 1,000: demoted to level 1.
    p.charge(first.task, { inputTokens: 400, outputTokens: 400, runMs: 10 }, 10);
    const heavyNext = task({ processId: "heavy", enqueuedAtMs: 100 });
    const light = task({ processId: "light", enqueuedAtMs: 200 });
    enqueueAll(p, [heavyNext, light], 200);
    expect(run(p.pick(300)).task.taskId).toBe(light.taskId);
    expect(run(p.pick(300)).task.taskId).toBe(heavyNext.taskId);

    // After the boost, the demoted process competes at the top again, by arrival order.
    const heavyAgain = task({ processId: "heavy", enqueuedAtMs: 400 });
    enqueueAll(p, [heavyAgain], 400);
    const lateLight = task({ processId: "light2", enqueuedAtMs: 60_500 });
    enqueueAll(p, [lateLight], 60_500);
    expect(run(p.pick(60_500)).task.taskId).toBe(heavyAgain.taskId);
  });

  it("without a boost the demoted request waits behind later light ones", () => {
    const p = createMlfqPolicy({ levelsTokens: [1_000], boostMs: 1_000_000 });
    enqueueAll(p, [task({ processId: "heavy" })], 0);
    const d = run(p.pick(0));
    p.charge(d.task, { inputTokens: 2_000, outputTokens: 0, runMs: 10 }, 10);
    const heavy = task({ processId: "heavy", enqueuedAtMs: 20 });
    const light = task({ processId: "light", enqueuedAtMs: 30 });
    enqueueAll(p, [heavy, light], 30);
    expect(pickAll(p, 40)).toEqual([light.taskId, heavy.taskId]);
  });
});

describe("token budget", () => {
  it("orders requests by remaining budget, smallest first", () => {
    const p = createTokenBudgetPolicy({ agingTokensPerSec: 0 });
    const roomy = task({ budgetTokens: 100_000 });
    const tight = task({ budgetTokens: 5_000 });
    const none = task({ budgetTokens: null });
    enqueueAll(p, [none, roomy, tight]);
    expect(pickAll(p)).toEqual([tight.taskId, roomy.taskId, none.taskId]);
  });

  it("grants at most what is left, then signals budget_exhausted at zero", () => {
    const p = createTokenBudgetPolicy({ quantumTokens: 4_096 });
    const first = task({
      processId: "P",
      budgetTokens: 1_000,
      inputTokens: 300,
      maxOutputTokens: 4_000,
    });
    enqueueAll(p, [first]);
    const d = run(p.pick(0));
    expect(d.maxOutputTokens).toBe(700);
    p.charge(d.task, { inputTokens: 300, outputTokens: 700, runMs: 5 }, 5);
    const next = task({ processId: "P", budgetTokens: 1_000, spentTokens: 1_000 });
    expect(p.enqueue(next, 10)).toEqual({ ok: false, reason: "budget_exhausted" });
  });

  it("caps a grant at one quantum", () => {
    const p = createTokenBudgetPolicy({ quantumTokens: 256 });
    enqueueAll(p, [task({ budgetTokens: 1_000_000, maxOutputTokens: 4_000 })]);
    expect(run(p.pick(0)).maxOutputTokens).toBe(256);
  });

  it("parks a parallel request while siblings hold the budget, then ends the process if nothing is left", () => {
    const p = createTokenBudgetPolicy({ minGrantTokens: 100 });
    const budget = { processId: "P", budgetTokens: 1_000, inputTokens: 400, maxOutputTokens: 500 };
    const a = task(budget);
    const b = task(budget);
    enqueueAll(p, [a, b]);
    const da = run(p.pick(0));
    expect(da.maxOutputTokens).toBe(500); // reserves 900 of 1,000
    expect(p.pick(0)).toBeNull(); // b parked: 100 left < 400 input
    expect(p.size()).toBe(1);
    p.charge(da.task, { inputTokens: 400, outputTokens: 500, runMs: 5 }, 5);
    expect(p.pick(5)).toEqual({ kind: "end", task: b, reason: "budget_exhausted" });
  });

  it("a parked request runs once a sibling settles for less than it reserved", () => {
    const p = createTokenBudgetPolicy({ minGrantTokens: 100 });
    const budget = { processId: "P", budgetTokens: 1_000, inputTokens: 400, maxOutputTokens: 500 };
    const [a, b] = [task(budget), task(budget)];
    enqueueAll(p, [a, b]);
    const da = run(p.pick(0));
    expect(p.pick(0)).toBeNull();
    p.charge(da.task, { inputTokens: 400, outputTokens: 10, runMs: 5 }, 5);
    const db = run(p.pick(5));
    expect(db.task.taskId).toBe(b.taskId);
    expect(db.maxOutputTokens).toBe(190);
  });

  it("never lets a process spend beyond its budget plus one quantum (randomised)", () => {
    const rng = createRng(11);
    const quantumTokens = 512;
    for (let trial = 0; trial < 50; trial++) {
      const p = createTokenBudgetPolicy({ quantumTokens, minGrantTokens: 1 });
      const budgetTokens = 1_000 + Math.floor(rng.nextFloat() * 20_000);
      let spent = 0;
      let ended = false;
      const inFlight: Extract<Decision, { kind: "run" }>[] = [];
      for (let step = 0; step < 400 && !ended; step++) {
        if (rng.nextFloat() < 0.6) {
          const t = task({
            processId: "P",
            budgetTokens,
            spentTokens: spent,
            inputTokens: 1 + Math.floor(rng.nextFloat() * 300),
            maxOutputTokens: 2_000,
          });
          const r = p.enqueue(t, step);
          if (!r.ok) ended = r.reason === "budget_exhausted";
        }
        const d = p.pick(step);
        if (d?.kind === "end") ended = true;
        if (d?.kind === "run") inFlight.push(d);
        if (inFlight.length > 0 && rng.nextFloat() < 0.5) {
          const done = inFlight.shift() as Extract<Decision, { kind: "run" }>;
          // The model may stop early but never exceeds the granted maximum.
          const out = Math.floor(rng.nextFloat() * (done.maxOutputTokens + 1));
          spent += done.task.inputTokens + out;
          p.charge(
            done.task,
            { inputTokens: done.task.inputTokens, outputTokens: out, runMs: 1 },
            step,
          );
        }
        expect(spent).toBeLessThanOrEqual(budgetTokens + quantumTokens);
      }
    }
  });
});

describe("budget ledger", () => {
  it("forgets only the ended process's reservations, and keeps them across export", () => {
    const ledger = new BudgetLedger();
    const a1 = task({ processId: "a", budgetTokens: 1_000 });
    const a2 = task({ processId: "a", budgetTokens: 1_000 });
    const b1 = task({ processId: "b", budgetTokens: 1_000 });
    ledger.reserve(a1, 100);
    ledger.reserve(a2, 200);
    ledger.reserve(b1, 300);
    const copy = new BudgetLedger();
    copy.importState(JSON.parse(JSON.stringify(ledger.exportState())));
    for (const l of [ledger, copy]) {
      l.forget("a");
      expect(l.exportState().reservations.map((r) => r.taskId)).toEqual([b1.taskId]);
      expect(l.free("b")).toBe(700);
      l.settle(b1, 250);
      expect(l.exportState().reservations).toEqual([]);
      expect(l.free("b")).toBe(750);
    }
  });
});

describe("vtc", () => {
  /** Serves one request at a time to completion; returns weighted service per tenant. */
  function serve(p: SchedPolicy, steps: number, refill: (nowMs: number) => void) {
    const service: Record<string, number> = {};
    const rng = createRng(3);
    const gaps: number[] = [];
    for (let nowMs = 0; nowMs < steps; nowMs++) {
      refill(nowMs);
      const d = run(p.pick(nowMs));
      const out = Math.floor(rng.nextFloat() * 200);
      p.charge(d.task, { inputTokens: d.task.inputTokens, outputTokens: out, runMs: 1 }, nowMs);
      const w = d.task.tenantId === "noisy" ? 1 : 2;
      service[d.task.tenantId] =
        (service[d.task.tenantId] ?? 0) + (d.task.inputTokens + 2 * out) / w;
      gaps.push(Math.abs((service.noisy ?? 0) - (service.quiet ?? 0)));
    }
    return { service, maxGap: Math.max(...gaps) };
  }

  it("keeps weighted service within the VTC bound against a noisy tenant", () => {
    const p = createVtcPolicy({ tenantWeights: { noisy: 1, quiet: 2 } });
    // The noisy tenant floods; the quiet one always has exactly one request waiting.
    for (let i = 0; i < 500; i++)
      p.enqueue(task({ tenantId: "noisy", inputTokens: 50 + (i % 200) }), 0);
    p.enqueue(task({ tenantId: "quiet", inputTokens: 200 }), 0);
    const { service, maxGap } = serve(p, 400, (nowMs) => {
      if (p.size() < 500 || nowMs % 2 === 0)
        p.enqueue(task({ tenantId: "quiet", inputTokens: 200 }), nowMs);
    });
    // One request costs at most 250 + 2·199 = 648 weighted tokens; the bound is 2 × that / min weight.
    expect(maxGap).toBeLessThanOrEqual((2 * 648) / 1);
    expect(service.quiet ?? 0).toBeGreaterThan(0);
    const fcfs = createFcfsPolicy();
    for (let i = 0; i < 500; i++)
      fcfs.enqueue(task({ tenantId: "noisy", inputTokens: 50 + (i % 200) }), 0);
    fcfs.enqueue(task({ tenantId: "quiet", inputTokens: 200 }), 0);
    // The same load under FCFS drifts far outside that bound: this is what VTC prevents.
    expect(serve(fcfs, 400, () => {}).maxGap).toBeGreaterThan(10 * 648);
  });

  it("lifts a returning tenant to the backlog's minimum so idle time is not banked", () => {
    const p = createVtcPolicy();
    for (let i = 0; i < 50; i++) p.enqueue(task({ tenantId: "busy", inputTokens: 1_000 }), 0);
    for (let i = 0; i < 20; i++) {
      const d = run(p.pick(i));
      p.charge(d.task, { inputTokens: 1_000, outputTokens: 0, runMs: 1 }, i);
    }
    const busyCounter = p.counterOf("busy");
    expect(busyCounter).toBe(20_000);
    p.enqueue(task({ tenantId: "idle", inputTokens: 1_000 }), 20);
    expect(p.counterOf("idle")).toBe(busyCounter);
    // From equal counters the two alternate instead of the newcomer running 20 in a row.
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      if (p.size() < 40) p.enqueue(task({ tenantId: "idle", inputTokens: 1_000 }), 21 + i);
      const d = run(p.pick(21 + i));
      p.charge(d.task, { inputTokens: 1_000, outputTokens: 0, runMs: 1 }, 21 + i);
      order.push(d.task.tenantId);
    }
    expect(order.filter((t) => t === "idle").length).toBeLessThanOrEqual(2);
  });
});

describe("plas", () => {
  it("orders by the program's attained service, not by arrival", () => {
    const p = createPlasPolicy({ levelsTokens: [1_000, 10_000] });
    enqueueAll(p, [task({ processId: "long" })]);
    const d = run(p.pick(0));
    p.charge(d.task, { inputTokens: 5_000, outputTokens: 0, runMs: 100 }, 100);
    const longNext = task({ processId: "long", enqueuedAtMs: 100 });
    const short = task({ processId: "short", enqueuedAtMs: 200 });
    enqueueAll(p, [longNext, short], 200);
    expect(pickAll(p, 200)).toEqual([short.taskId, longNext.taskId]);
  });

  it("promotes a request that starved for β × its program's service time", () => {
    const p = createPlasPolicy({ levelsTokens: [1_000], starvationRatio: 2, minStarvationMs: 0 });
    enqueueAll(p, [task({ processId: "long" })]);
    const d = run(p.pick(0));
    p.charge(d.task, { inputTokens: 5_000, outputTokens: 0, runMs: 1_000 }, 1_000);
    const starving = task({ processId: "long", enqueuedAtMs: 1_000 });
    enqueueAll(p, [starving], 1_000);
    // Fresh short programs keep arriving; the long one is due at 1,000 + 2 × 1,000 ms.
    let servedAtMs = -1;
    for (let nowMs = 1_000; nowMs <= 5_000 && servedAtMs < 0; nowMs += 250) {
      enqueueAll(p, [task({ processId: `short-${nowMs}`, enqueuedAtMs: nowMs })], nowMs);
      const next = run(p.pick(nowMs));
      if (next.task.taskId === starving.taskId) servedAtMs = nowMs;
    }
    expect(servedAtMs).toBe(3_000);
    expect(p.promotedCount).toBe(1);
  });
});

/**
 * Queues four heavy programs' requests h1–h4 (level 1), which starve from t = 0 to 1,000, then
 * six fresh light ones l1–l6 at 1,000.
 */
function starvedThenFresh(p: SchedPolicy): void {
  const heavy = ["h1", "h2", "h3", "h4"];
  for (const id of heavy) {
    enqueueAll(p, [task({ processId: id })]);
    const d = run(p.pick(0));
    p.charge(d.task, { inputTokens: 5_000, outputTokens: 0, runMs: 100 }, 0);
  }
  // Due for promotion at 0 + β × 100 ms of service.
  for (const id of heavy) enqueueAll(p, [task({ processId: id, taskId: id })], 0);
  const light = ["l1", "l2", "l3", "l4", "l5", "l6"];
  for (const id of light) enqueueAll(p, [task({ processId: id, taskId: id })], 1_000);
}

describe("plas promoted lane", () => {
  const options = { levelsTokens: [1_000], starvationRatio: 1, minStarvationMs: 0 };

  it("Autellix's rule: every promoted request goes before every fresh one (FIFO)", () => {
    const p = createPlasPolicy(options);
    starvedThenFresh(p);
    expect(pickAll(p, 1_000)).toEqual(["h1", "h2", "h3", "h4", "l1", "l2", "l3", "l4", "l5", "l6"]);
    expect(p.promotedCount).toBe(4);
  });

  it("with promotedTurnPicks = 3, starved requests get one pick in 3, oldest first", () => {
    const p = createPlasPolicy({ ...options, promotedTurnPicks: 3 });
    starvedThenFresh(p);
    expect(pickAll(p, 1_000)).toEqual(["h1", "l1", "l2", "h2", "l3", "l4", "h3", "l5", "l6", "h4"]);
    expect(p.promotedCount).toBe(4);
  });

  it("ranks a promoted request on its turn as the top queue would, else the level head", () => {
    const p = createPlasPolicy({ ...options, promotedTurnPicks: 3 });
    starvedThenFresh(p);
    // h1's turn: level 0, queued at 0.
    expect(p.peekRank(1_000)).toBe(0);
    expect(run(p.pick(1_000)).task.taskId).toBe("h1");
    // Not the lane's turn: the light head, level 0, queued at 1,000.
    expect(p.peekRank(1_000)).toBe(1_000);
    expect(run(p.pick(1_000)).task.taskId).toBe("l1");
  });

  it("keeps the lane and its turn across export and import", () => {
    const p = createPlasPolicy({ ...options, promotedTurnPicks: 3 });
    starvedThenFresh(p);
    expect([run(p.pick(1_000)).task.taskId, run(p.pick(1_000)).task.taskId]).toEqual(["h1", "l1"]);
    const restored = createPlasPolicy({ ...options, promotedTurnPicks: 3 });
    restored.importState(JSON.parse(JSON.stringify(p.exportState())));
    expect(restored.exportState()).toEqual(p.exportState());
    const rest = ["l2", "h2", "l3", "l4", "h3", "l5", "l6", "h4"];
    expect(pickAll(restored, 1_000)).toEqual(rest);
    expect(pickAll(p, 1_000)).toEqual(rest);
  });

  it("a withdrawn promoted request leaves the lane too", () => {
    const p = createPlasPolicy({ ...options, promotedTurnPicks: 3 });
    starvedThenFresh(p);
    p.peekRank(1_000);
    expect(p.remove("h1")?.taskId).toBe("h1");
    expect(pickAll(p, 1_000)).toEqual(["h2", "l1", "l2", "h3", "l3", "l4", "h4", "l5", "l6"]);
  });

  it("refuses a turn of less than one pick", () => {
    expect(
      PolicyConfigSchema.safeParse({ name: "plas", options: { promotedTurnPicks: 0 } }).success,
    ).toBe(false);
    expect(() => new PromotedLane(0, () => false, String)).toThrow(RangeError);
  });
});

describe("plas class weights and rank", () => {
  it("counts a class's service ÷ its weight, so p0 keeps its queue longer than p2", () => {
    const p = createPlasPolicy({ levelsTokens: [1_000], classWeights: [4, 2, 1] });
    for (const [processId, priority] of [
      ["batch", 2],
      ["interactive", 0],
    ] as const) {
      enqueueAll(p, [task({ processId, priority })]);
      const d = run(p.pick(0));
      p.charge(d.task, { inputTokens: 3_000, outputTokens: 0, runMs: 1 }, 0);
    }
    // 3,000 tokens: 750 for p0 (still level 0), 3,000 for p2 (level 1).
    const batch = task({ processId: "batch", priority: 2, taskId: "batch" });
    const interactive = task({ processId: "interactive", priority: 0, taskId: "interactive" });
    enqueueAll(p, [batch, interactive]);
    expect(pickAll(p)).toEqual(["interactive", "batch"]);
  });

  it("ranks the head it would pick: level first, then the oldest, null when empty", () => {
    const p = createPlasPolicy({ levelsTokens: [1_000], minStarvationMs: 60_000 });
    expect(p.peekRank(0)).toBeNull();
    enqueueAll(p, [task({ processId: "heavy" })]);
    const d = run(p.pick(0));
    p.charge(d.task, { inputTokens: 5_000, outputTokens: 0, runMs: 1 }, 0);
    const q = createPlasPolicy({ levelsTokens: [1_000], minStarvationMs: 60_000 });
    enqueueAll(p, [task({ processId: "heavy" })], 10);
    enqueueAll(q, [task({ processId: "fresh" })], 20);
    // A level-1 head ranks after a level-0 head, whatever their ages.
    expect(p.peekRank(30) as number).toBeGreaterThan(q.peekRank(30) as number);
    enqueueAll(p, [task({ processId: "light" })], 30);
    // Now p's head is the level-0 request queued at 30: after q's, queued at 20.
    expect(p.peekRank(30) as number).toBeGreaterThan(q.peekRank(30) as number);
    expect(p.peekRank(30)).toBe(30);
    expect(run(p.pick(30)).task.processId).toBe("light");
  });
});

describe("vtc with slack", () => {
  /** Tenant a's program has consumed much (PLAS level 1); b's programs are fresh. */
  function setup(slackTokens: number): SchedPolicy {
    const p = createVtcPolicy({ tenantWeights: { a: 1, b: 1 }, slackTokens }, () =>
      createPlasPolicy({ levelsTokens: [1_000] }),
    );
    enqueueAll(p, [task({ tenantId: "a", processId: "long" })]);
    const d = run(p.pick(0));
    p.charge(d.task, { inputTokens: 5_000, outputTokens: 0, runMs: 1 }, 0);
    // Both tenants back to equal counters: b arrives (lift rule) while a is idle.
    for (let i = 0; i < 6; i++) p.enqueue(task({ tenantId: "a", processId: "long" }), 1);
    for (let i = 0; i < 6; i++) p.enqueue(task({ tenantId: "b", processId: `short${i}` }), 1);
    return p;
  }

  it("runs the most urgent request among tenants within the slack, then restores the share", () => {
    const order = (p: SchedPolicy) => {
      const tenants: string[] = [];
      for (let i = 0; i < 8; i++) {
        const d = run(p.pick(2));
        tenants.push(d.task.tenantId);
        p.charge(d.task, { inputTokens: 100, outputTokens: 0, runMs: 1 }, 2);
      }
      return tenants.join("");
    };
    // Strict VTC alternates; with 250 tokens of slack b's fresh programs (level 0) run first
    // until b leads a by more than the slack, then a catches up.
    expect(order(setup(0))).toBe("abababab");
    expect(order(setup(250))).toBe("bbbababa");
  });

  it("keeps weighted service within the slack plus the VTC bound against a noisy tenant", () => {
    const slackTokens = 2_000;
    const p = createVtcPolicy({ tenantWeights: { noisy: 1, quiet: 2 }, slackTokens }, () =>
      createPlasPolicy(),
    );
    const rng = createRng(3);
    for (let i = 0; i < 500; i++)
      p.enqueue(task({ tenantId: "noisy", processId: "n", inputTokens: 50 + (i % 200) }), 0);
    const service: Record<string, number> = { noisy: 0, quiet: 0 };
    let maxGap = 0;
    for (let nowMs = 0; nowMs < 400; nowMs++) {
      if (p.size() < 500 || nowMs % 2 === 0)
        p.enqueue(task({ tenantId: "quiet", inputTokens: 200 }), nowMs);
      const d = run(p.pick(nowMs));
      const out = Math.floor(rng.nextFloat() * 200);
      p.charge(d.task, { inputTokens: d.task.inputTokens, outputTokens: out, runMs: 1 }, nowMs);
      const w = d.task.tenantId === "noisy" ? 1 : 2;
      service[d.task.tenantId] =
        (service[d.task.tenantId] ?? 0) + (d.task.inputTokens + 2 * out) / w;
      maxGap = Math.max(maxGap, Math.abs((service.noisy ?? 0) - (service.quiet ?? 0)));
    }
    expect(service.quiet ?? 0).toBeGreaterThan(0);
    expect(maxGap).toBeLessThanOrEqual(slackTokens + 2 * 648);
  });
});

describe("fair-plas", () => {
  it("is the default policy of a pool", () => {
    expect(DEFAULT_POLICY).toBe("fair-plas");
    expect(PoolConfigSchema.parse({}).policy.name).toBe("fair-plas");
  });

  it("gives starved programs one pick in 4, not the top queue (Autellix's rule on request)", () => {
    const plas = { levelsTokens: [1_000], starvationRatio: 1, minStarvationMs: 0 };
    const p = createFairPlasPolicy({ plas });
    starvedThenFresh(p);
    expect(pickAll(p, 1_000)).toEqual(["h1", "l1", "l2", "l3", "h2", "l4", "l5", "l6", "h3", "h4"]);
    const autellix = createFairPlasPolicy({ plas: { ...plas, promotedTurnPicks: null } });
    starvedThenFresh(autellix);
    expect(pickAll(autellix, 1_000).slice(0, 4)).toEqual(["h1", "h2", "h3", "h4"]);
  });

  it("puts a short program of another tenant before a long one, and still ends budgets", () => {
    const p = createFairPlasPolicy({ tenantWeights: { a: 1, b: 1 } });
    enqueueAll(p, [task({ tenantId: "a", processId: "long" })]);
    const d = run(p.pick(0));
    p.charge(d.task, { inputTokens: 20_000, outputTokens: 0, runMs: 1 }, 0);
    const long = task({ tenantId: "a", processId: "long", taskId: "long-2" });
    const short = task({ tenantId: "b", processId: "short", taskId: "short-1", enqueuedAtMs: 5 });
    enqueueAll(p, [long, short], 5);
    expect(run(p.pick(5)).task.taskId).toBe("short-1");
    const broke = task({ processId: "broke", budgetTokens: 50, spentTokens: 50 });
    expect(p.enqueue(broke, 6)).toEqual({ ok: false, reason: "budget_exhausted" });
  });
});

describe("atlas", () => {
  /** Runs one request of `processId` on `threadId` and charges it `tokens` of input. */
  function serve(p: SchedPolicy, processId: string, threadId: string | undefined, tokens: number) {
    const t = task({ processId, ...(threadId === undefined ? {} : { threadId }) });
    enqueueAll(p, [t]);
    const d = run(p.pick(0));
    expect(d.task.taskId).toBe(t.taskId);
    p.charge(d.task, { inputTokens: tokens, outputTokens: 0, runMs: 100 }, 0);
  }

  it("ranks a program that fans out by its longest thread, where PLAS counts every thread", () => {
    const levelsTokens = [5_000, 10_000];
    const atlas = createAtlasPolicy({ levelsTokens });
    const plas = createPlasPolicy({ levelsTokens });
    for (const p of [atlas, plas]) {
      // A tree search ran four parallel branches of 3,000 tokens each (12,000 in all, 3,000
      // deep); a chain of calls ran 8,000 tokens.
      enqueueAll(
        p,
        ["0.0", "0.1", "0.2", "0.3"].map((threadId) => task({ processId: "tree", threadId })),
      );
      for (let d = p.pick(0); d; d = p.pick(0)) {
        p.charge(d.task, { inputTokens: 3_000, outputTokens: 0, runMs: 100 }, 0);
      }
      serve(p, "chain", undefined, 8_000);
    }
    const next = () => [
      task({ processId: "chain", taskId: "chain-next" }),
      task({ processId: "tree", taskId: "tree-next", threadId: "1.0" }),
    ];
    enqueueAll(atlas, next());
    enqueueAll(plas, next());
    // The tree's next level forks from its longest path (3,000: level 0); the chain is at 8,000.
    expect(pickAll(atlas)).toEqual(["tree-next", "chain-next"]);
    expect(pickAll(plas)).toEqual(["chain-next", "tree-next"]);
  });

  it("continues a thread from its own path, and a new thread from the program's longest", () => {
    const p = createAtlasPolicy({ levelsTokens: [1_000, 2_000, 3_000] });
    serve(p, "tree", "a", 2_500); // a: 2,500
    serve(p, "tree", "b", 500); // b forks at 2,500 → 3,000
    serve(p, "other", undefined, 1_500); // level 1
    enqueueAll(p, [
      task({ processId: "tree", taskId: "a2", threadId: "a" }), // 2,500: level 2
      task({ processId: "tree", taskId: "b2", threadId: "b" }), // 3,000: level 3
      task({ processId: "tree", taskId: "c1", threadId: "c" }), // forks at 3,000: level 3
      task({ processId: "other", taskId: "o2" }),
    ]);
    expect(pickAll(p)).toEqual(["o2", "a2", "b2", "c1"]);
  });

  it("is exactly PLAS for requests that name no thread", () => {
    const atlas = createAtlasPolicy({ levelsTokens: [1_000, 4_000] });
    const plas = createPlasPolicy({ levelsTokens: [1_000, 4_000] });
    const rng = createRng(5);
    const order: string[][] = [[], []];
    for (let i = 0; i < 400; i++) {
      const proc = `p${Math.floor(rng.nextFloat() * 8)}`;
      const input = Math.floor(rng.nextFloat() * 900);
      const pickNow = rng.nextFloat() < 0.5;
      [atlas, plas].forEach((p, k) => {
        p.enqueue(task({ processId: proc, taskId: `t${i}`, enqueuedAtMs: i }), i);
        if (!pickNow) return;
        const d = run(p.pick(i));
        order[k]?.push(d.task.taskId);
        p.charge(d.task, { inputTokens: input, outputTokens: 0, runMs: 10 }, i);
      });
    }
    expect(order[0]?.length).toBeGreaterThan(100);
    expect(order[0]).toEqual(order[1]);
  });

  it("remembers at most MAX_THREADS_PER_PROGRAM threads of a program", () => {
    const p = createAtlasPolicy();
    for (let i = 0; i < MAX_THREADS_PER_PROGRAM + 10; i++) serve(p, "wide", `t${i}`, 1);
    const state = p.exportState().data as { programs: { threads?: unknown[] }[] };
    expect(state.programs[0]?.threads?.length).toBe(MAX_THREADS_PER_PROGRAM);
  });
});

describe("composite", () => {
  it("shares between tenants before priority, so one tenant's p0 flood cannot starve another's p2", () => {
    const p = createCompositePolicy({ tenantWeights: { a: 1, b: 1 }, agingMs: null });
    for (let i = 0; i < 20; i++) p.enqueue(task({ tenantId: "a", priority: 0 }), 0);
    for (let i = 0; i < 5; i++) p.enqueue(task({ tenantId: "b", priority: 2 }), 0);
    const tenants: string[] = [];
    for (let i = 0; i < 10; i++) {
      const d = run(p.pick(0));
      tenants.push(d.task.tenantId);
      p.charge(d.task, { inputTokens: d.task.inputTokens, outputTokens: 0, runMs: 1 }, 0);
    }
    // Equal weights and request sizes: the two tenants alternate despite b's batch class.
    expect(tenants).toEqual(["a", "b", "a", "b", "a", "b", "a", "b", "a", "b"]);
    // With classes outermost (strict), the same queue serves all of a's p0 work first.
    const q = createCompositePolicy({ nesting: "class-first", agingMs: null });
    for (let i = 0; i < 20; i++) q.enqueue(task({ tenantId: "a", priority: 0 }), 0);
    for (let i = 0; i < 5; i++) q.enqueue(task({ tenantId: "b", priority: 2 }), 0);
    const firstTwenty: string[] = [];
    for (let i = 0; i < 20; i++) firstTwenty.push(run(q.pick(0)).task.tenantId);
    expect(new Set(firstTwenty)).toEqual(new Set(["a"]));
  });

  it("class-first nesting serves the interactive class first across tenants", () => {
    const p = createCompositePolicy({ nesting: "class-first", agingMs: null });
    const batch = task({ tenantId: "a", priority: 2 });
    const interactive = task({ tenantId: "b", priority: 0, enqueuedAtMs: 10 });
    enqueueAll(p, [batch, interactive]);
    expect(pickAll(p, 10)[0]).toBe(interactive.taskId);
  });
});

describe("undoing a pick", () => {
  it("a zero charge then enqueue puts a request back with its budget and fair share untouched", () => {
    const weights = { tenantWeights: { a: 1, b: 1 } };
    const p = createCompositePolicy({ ...weights, minGrantTokens: 100 });
    const base = { processId: "P", tenantId: "a", budgetTokens: 1_000, inputTokens: 400 };
    const first = task({ ...base, maxOutputTokens: 500 });
    enqueueAll(p, [first, task({ tenantId: "b" })]);
    // Picked, but the pool cannot send it yet: undo and re-queue, several times over.
    for (let i = 0; i < 3; i++) {
      const d = run(p.pick(i));
      p.charge(d.task, ZERO_USAGE, i);
      p.enqueue(d.task, i);
    }
    // Had the undone picks stuck, tenant a would be owed nothing and its request parked.
    const d = run(p.pick(10));
    expect(d.task.tenantId).toBe("a");
    expect(d.maxOutputTokens).toBe(500);
  });
});

describe("registry and state", () => {
  it("parses pool policy choices and refuses unknown names and options", () => {
    expect(
      PolicyConfigSchema.parse({ name: "vtc", options: { tenantWeights: { a: 2 } } }),
    ).toMatchObject({
      name: "vtc",
      options: { tenantWeights: { a: 2 }, inputWeight: 1, outputWeight: 2 },
    });
    expect(PolicyConfigSchema.parse({ name: "fcfs" })).toMatchObject({ name: "fcfs" });
    expect(PolicyConfigSchema.safeParse({ name: "lottery" }).success).toBe(false);
    expect(
      PolicyConfigSchema.safeParse({ name: "plas", options: { starvationRatio: -1 } }).success,
    ).toBe(false);
  });

  /** Drives a policy with a seeded mix of enqueues, picks and charges; returns the decisions. */
  function drive(p: SchedPolicy, seed: number, steps: number, startMs: number): string[] {
    const rng = createRng(seed);
    const out: string[] = [];
    for (let i = 0; i < steps; i++) {
      const nowMs = startMs + i * 700;
      const r = rng.nextFloat();
      if (r < 0.55) {
        const proc = Math.floor(rng.nextFloat() * 12);
        p.enqueue(
          {
            taskId: `s${seed}-${i}`,
            processId: `proc-${proc}`,
            tenantId: `ten-${proc % 3}`,
            priority: proc % 3,
            enqueuedAtMs: nowMs,
            inputTokens: 50 + Math.floor(rng.nextFloat() * 3_000),
            maxOutputTokens: 1_000,
            budgetTokens: proc % 4 === 0 ? 20_000 : null,
            spentTokens: 0,
            ...(i % 3 === 0 ? { threadId: `b${i % 4}` } : {}),
          },
          nowMs,
        );
      } else {
        const d = p.pick(nowMs);
        out.push(
          d ? `${d.kind}:${d.task.taskId}:${d.kind === "run" ? d.maxOutputTokens : ""}` : "none",
        );
        if (d?.kind === "run") {
          const usage = {
            inputTokens: d.task.inputTokens,
            outputTokens: Math.floor(rng.nextFloat() * d.maxOutputTokens),
            runMs: 500,
          };
          p.charge(d.task, usage, nowMs);
        }
      }
    }
    return out;
  }

  for (const name of POLICY_NAMES) {
    it(`${name}: exported state survives JSON and resumes with identical decisions`, () => {
      const options =
        name === "vtc" || name === "composite" ? { tenantWeights: { "ten-0": 1, "ten-1": 2 } } : {};
      const original = createPolicy(name, options);
      drive(original, 1, 300, 0);
      expect(original.size()).toBeGreaterThan(0);
      const saved = JSON.parse(JSON.stringify(original.exportState()));
      const restored = createPolicy(name, options);
      restored.importState(saved);
      expect(restored.size()).toBe(original.size());
      expect(restored.exportState()).toEqual(original.exportState());
      // Same future inputs ⇒ same decisions, including MLFQ boosts and PLAS promotions.
      expect(drive(restored, 2, 300, 210_000)).toEqual(drive(original, 2, 300, 210_000));
    });
  }

  it("refuses state exported by a different policy", () => {
    const state = createPolicy("fcfs").exportState();
    expect(() => createPolicy("plas").importState(state)).toThrow(KernelError);
    expect(() => createPolicy("fcfs").importState({ ...state, data: { queue: "nope" } })).toThrow(
      KernelError,
    );
  });

  it("switchPolicy moves every queued request to the new policy, oldest first", () => {
    const from = createPolicy("plas");
    enqueueAll(from, [
      task({ enqueuedAtMs: 30 }),
      task({ enqueuedAtMs: 10 }),
      task({ enqueuedAtMs: 20 }),
    ]);
    const to = createPolicy("fcfs");
    expect(switchPolicy(from, to, 40)).toEqual([]);
    expect(from.size()).toBe(0);
    const times: number[] = [];
    for (let d = to.pick(40); d; d = to.pick(40)) times.push(d.task.enqueuedAtMs);
    expect(times).toEqual([10, 20, 30]);
  });
});

describe("bench/sched experiment program-fcfs", () => {
  it("serves the oldest program first, and dates a forgotten program anew", () => {
    const p = new ProgramFcfs();
    const a2 = task({ taskId: "a2", processId: "A", enqueuedAtMs: 20 });
    enqueueAll(p, [
      task({ taskId: "a1", processId: "A", enqueuedAtMs: 0 }),
      task({ taskId: "b1", processId: "B", enqueuedAtMs: 10 }),
      a2,
    ]);
    expect(p.enqueue(a2, 20)).toEqual({ ok: false, reason: "duplicate" });
    // Call-level FCFS would give a1, b1, a2.
    expect(pickAll(p)).toEqual(["a1", "a2", "b1"]);
    p.forget("A");
    enqueueAll(p, [
      task({ taskId: "a3", processId: "A", enqueuedAtMs: 30 }),
      task({ taskId: "b2", processId: "B", enqueuedAtMs: 40 }),
    ]);
    expect(pickAll(p)).toEqual(["b2", "a3"]);
  });
});
