/**
 * The synthetic multi-agent workload (BENCH-SCHED §3). Each program is generated whole when it
 * arrives, from its own random streams keyed by (seed, concern, program key), so every policy
 * sees exactly the same programs, and a program's shape does not depend on any other program.
 */

import { createRng, deriveSeed, type Rng } from "../../src/kernel/capacity/random.js";
import { type BackendParams, baseLatencyUs } from "./backend.js";
import { clampInt, intBetween, lognormal, lognormalMean, weightedIndex } from "./dist.js";

export const PROGRAM_KINDS = ["chat", "react", "mcts", "coding"] as const;
export type ProgramKind = (typeof PROGRAM_KINDS)[number];

/**
 * One model call and the tool (or approval) time that follows it. On a branch's last step a
 * non-zero gap is a denied approval: the branch ends once the human has answered.
 */
export interface StepSpec {
  prefillTokens: number;
  decodeTokens: number;
  gapUs: number;
}

/** A program: stages run one after another; each stage's branches run in parallel. */
export interface ProgramSpec {
  key: string;
  kind: ProgramKind;
  tenant: number;
  priority: number;
  stages: StepSpec[][][];
  calls: number;
  needTokens: number;
  outputTokens: number;
  budgetTokens: number;
  /** Sum of idle-provider call latencies: what the SRPT oracle knows and no policy does. */
  workUs: number;
}

export interface WorkloadParams {
  /** Share of each program kind, in PROGRAM_KINDS order. */
  mix: readonly number[];
  priorityShares: readonly number[];
  underBudgetFraction: number;
  /**
   * Human-in-the-loop stalls: 1% of tool calls hang until the timeout reaps them, 5% wait for a
   * person's approval (10% of those denied). Default true. BENCH-SCHED gives them their own
   * scenario (S6, tool-heavy and HITL stalls), so S1 turns them off: no order of model calls
   * can shorten a wait for a person.
   */
  hitl?: boolean;
}

/** Limits of the generated shapes (BENCH-SCHED §3 table). */
export const WORKLOAD_LIMITS = {
  contextTokens: 128_000,
  codingPrefillMaxTokens: 60_000,
  maxOutputTokens: 4_096,
  toolTimeoutUs: 60_000_000,
  maxGapUs: 600_000_000,
} as const;

const BUDGET_FACTOR = 1.5;
const UNDER_BUDGET_FACTOR = 0.5;

type ToolKind = "generic" | "http_fetch" | "sandbox_exec";

/** One tool call after a model call: how long it takes, and whether a human denied it. */
interface ToolGap {
  gapUs: number;
  /** A destructive call the human denied: that branch of the program ends (BENCH-SCHED §3). */
  denied: boolean;
}

/**
 * Tool time: lognormal (generic: median 400 ms, P99 15 s); with `hitl`, 1% hang and are reaped
 * at the timeout, and 5% wait for an approval (median 30 s), of which 10% are denied. Without
 * `hitl` the same draws are made and dropped, so tool durations stay those of the same seed.
 */
function toolGap(rng: Rng, kind: ToolKind, hitl: boolean): ToolGap {
  const hangs = rng.nextFloat() < 0.01;
  if (hangs && hitl) return { gapUs: WORKLOAD_LIMITS.toolTimeoutUs, denied: false };
  let ms: number;
  if (kind === "http_fetch") ms = lognormal(rng, 300, 1.0);
  else if (kind === "sandbox_exec") ms = lognormal(rng, 3_000, 1.0);
  else ms = lognormal(rng, 400, Math.log(15_000 / 400) / 2.326);
  // A destructive call waits for a human (median 30 s); a denial ends that branch.
  let denied = false;
  if (rng.nextFloat() < 0.05) {
    const waitMs = lognormal(rng, 30_000, 1.0);
    const deny = rng.nextFloat() < 0.1;
    if (hitl) {
      ms += waitMs;
      denied = deny;
    }
  }
  return { gapUs: Math.min(WORKLOAD_LIMITS.maxGapUs, Math.round(ms * 1_000)), denied };
}

function chat(shape: Rng, tokens: Rng): StepSpec[][][] {
  const turns = clampInt(lognormalMean(shape, 6.7, 0.8), 1, 80);
  const steps: StepSpec[] = [];
  let history = 0;
  for (let i = 0; i < turns; i++) {
    const user = clampInt(lognormalMean(tokens, 256, 0.8), 8, 8_192);
    const decode = clampInt(lognormalMean(tokens, 277, 0.9), 1, WORKLOAD_LIMITS.maxOutputTokens);
    steps.push({
      prefillTokens: Math.min(WORKLOAD_LIMITS.contextTokens, history + user),
      decodeTokens: decode,
      gapUs: 0,
    });
    history += user + decode;
  }
  return [[steps]];
}

function react(shape: Rng, tokens: Rng, tools: Rng, hitl: boolean): StepSpec[][][] {
  const calls = clampInt(lognormalMean(shape, 10.8, 0.6), 1, 70);
  const steps: StepSpec[] = [];
  for (let i = 0; i < calls; i++) {
    const prefillTokens = clampInt(lognormalMean(tokens, 735, 0.5), 32, 32_000);
    const decodeTokens = clampInt(
      lognormalMean(tokens, 34, 0.6),
      1,
      WORKLOAD_LIMITS.maxOutputTokens,
    );
    const tool =
      i + 1 < calls
        ? toolGap(tools, tools.nextFloat() < 0.5 ? "http_fetch" : "generic", hitl)
        : null;
    steps.push({ prefillTokens, decodeTokens, gapUs: tool?.gapUs ?? 0 });
    if (tool?.denied) break;
  }
  return [[steps]];
}

function mcts(shape: Rng, tokens: Rng, tools: Rng, hitl: boolean): StepSpec[][][] {
  const levels = intBetween(shape, 3, 6);
  const stages: StepSpec[][][] = [];
  for (let l = 0; l < levels; l++) {
    const fanOut = intBetween(shape, 4, 8);
    const branches: StepSpec[][] = [];
    for (let b = 0; b < fanOut; b++) {
      const depth = intBetween(shape, 4, 8);
      const steps: StepSpec[] = [];
      for (let s = 0; s < depth; s++) {
        const tool =
          s + 1 < depth && tools.nextFloat() < 0.5 ? toolGap(tools, "generic", hitl) : null;
        steps.push({
          prefillTokens: clampInt(lognormalMean(tokens, 467, 0.5), 32, 32_000),
          decodeTokens: clampInt(
            lognormalMean(tokens, 73, 0.7),
            1,
            WORKLOAD_LIMITS.maxOutputTokens,
          ),
          gapUs: tool?.gapUs ?? 0,
        });
        if (tool?.denied) break;
      }
      branches.push(steps);
    }
    stages.push(branches);
  }
  return stages;
}

function coding(shape: Rng, tokens: Rng, tools: Rng, hitl: boolean): StepSpec[][][] {
  const calls = intBetween(shape, 30, 300);
  const steps: StepSpec[] = [];
  let context = 4_000;
  for (let i = 0; i < calls; i++) {
    const decode = clampInt(lognormal(tokens, 600, 0.5), 200, 2_000);
    const tool =
      i + 1 < calls
        ? toolGap(tools, tools.nextFloat() < 0.6 ? "sandbox_exec" : "generic", hitl)
        : null;
    steps.push({
      prefillTokens: Math.min(WORKLOAD_LIMITS.codingPrefillMaxTokens, context),
      decodeTokens: decode,
      gapUs: tool?.gapUs ?? 0,
    });
    if (tool?.denied) break;
    context += decode + clampInt(lognormalMean(tokens, 400, 0.8), 0, 8_000);
  }
  return [[steps]];
}

/**
 * Generates program `key` of `tenant`.
 *
 * @example generateProgram(1, "0.17", 0, params, DEFAULT_BACKEND)
 */
export function generateProgram(
  seed: number,
  key: string,
  tenant: number,
  params: WorkloadParams,
  backend: BackendParams,
): ProgramSpec {
  const shape = createRng(deriveSeed(seed, `shape/${key}`));
  const tokens = createRng(deriveSeed(seed, `tokens/${key}`));
  const tools = createRng(deriveSeed(seed, `tools/${key}`));
  const kind = PROGRAM_KINDS[weightedIndex(shape, params.mix)] as ProgramKind;
  const priority = weightedIndex(shape, params.priorityShares);
  const underBudget = shape.nextFloat() < params.underBudgetFraction;
  const hitl = params.hitl ?? true;
  let stages: StepSpec[][][];
  if (kind === "chat") stages = chat(shape, tokens);
  else if (kind === "react") stages = react(shape, tokens, tools, hitl);
  else if (kind === "mcts") stages = mcts(shape, tokens, tools, hitl);
  else stages = coding(shape, tokens, tools, hitl);

  let calls = 0;
  let needTokens = 0;
  let outputTokens = 0;
  let workUs = 0;
  for (const stage of stages) {
    for (const branch of stage) {
      for (const s of branch) {
        calls++;
        needTokens += s.prefillTokens + s.decodeTokens;
        outputTokens += s.decodeTokens;
        workUs += baseLatencyUs(s.prefillTokens, s.decodeTokens, backend);
      }
    }
  }
  const factor = underBudget ? UNDER_BUDGET_FACTOR : BUDGET_FACTOR;
  return {
    key,
    kind,
    tenant,
    priority,
    stages,
    calls,
    needTokens,
    outputTokens,
    budgetTokens: Math.floor(needTokens * factor),
    workUs,
  };
}

/**
 * Programs in the calibration sample. Sizes are heavy-tailed (a coding agent asks millions of
 * tokens), so a small sample's mean is low: S1's hosted-API mix asks 364,109 tokens per program
 * over 4,000 programs, 375,584 over 40,000, 381,896 over 200,000 and 379,737 over 400,000, and
 * 4,000 made every load level about 4% higher than its label. ~4 s per workload, once per run.
 */
export const CALIBRATION_PROGRAMS = 200_000;

/** Mean idle-provider work (µs of call time) and tokens per program, from a fixed calibration sample. */
export function calibrate(
  params: WorkloadParams,
  backend: BackendParams,
  samples = CALIBRATION_PROGRAMS,
): { workUs: number; tokens: number; calls: number } {
  let workUs = 0;
  let tokens = 0;
  let calls = 0;
  for (let i = 0; i < samples; i++) {
    // A fixed seed: capacity (and so each load level) must not move with the run's seed.
    const p = generateProgram(0x5eed, `calibration/${i}`, 0, params, backend);
    workUs += p.workUs;
    tokens += p.needTokens;
    calls += p.calls;
  }
  return { workUs: workUs / samples, tokens: tokens / samples, calls: calls / samples };
}
