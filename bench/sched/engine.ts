/**
 * Backend model B (BENCH-SCHED §2): a self-hosted engine with continuous batching, as vLLM or
 * SGLang run it. This file holds the engine's physics and its capacity calibration; the
 * simulator (`sim.ts`) drives it and lets the policy under test choose the batch.
 *
 *  - Iterations. Every running sequence produces one token per iteration. An iteration lasts
 *    T_iter = α + δ·n_decode + γ·prefill_tokens, where n_decode counts the sequences that are
 *    decoding and prefill_tokens the prompt tokens computed in that iteration (the sequences
 *    that joined at its start; their prefill yields their first token). No chunked prefill.
 *  - Batch. At most `maxBatch` (B, vLLM's max_num_seqs) sequences run. A sequence admitted for a
 *    quantum reserves KV for its whole context plus the tokens it may produce in that quantum,
 *    so the KV cache (capacity in tokens) never overflows mid-quantum and no engine-side
 *    eviction is needed: every preemption is a scheduling decision.
 *  - Preemption. At an iteration boundary where a sequence has produced `quantumTokens` since it
 *    was admitted, it goes back to the policy (charged for its partial service, re-queued with
 *    what it still has to produce). If the policy picks it again at once it keeps running with
 *    its KV; if not, its KV is dropped and recomputed when it resumes (prefill of its uncached
 *    prompt plus everything it generated so far), as vLLM V1 does (it has no swap mode).
 *  - Prefix cache. The first call of a program hits only the shared system prompt; later calls
 *    of the same program reuse `prefixHitRate` (90%, Autellix Fig. 7) of their prompt. Cached
 *    tokens cost no prefill but still occupy KV (no block sharing between sequences is modelled,
 *    which overstates memory for a tree search's parallel branches).
 *
 * All parameters are assumptions to calibrate against a real engine when one is at hand.
 */

import { DEFAULT_BACKEND } from "./backend.js";
import type { ProgramSpec, WorkloadParams } from "./workload.js";
import { CALIBRATION_PROGRAMS, generateProgram } from "./workload.js";

export interface EngineParams {
  /** B: most sequences in the running batch. */
  maxBatch: number;
  /** KV cache capacity, in tokens. */
  kvCapacityTokens: number;
  /** α: fixed cost of an iteration. */
  iterBaseUs: number;
  /** δ: cost per decoding sequence per iteration. */
  perSeqUs: number;
  /** γ: cost per prefill token. */
  perPrefillTokenUs: number;
  /** Tokens a sequence produces before the policy decides again (preemption quantum). */
  quantumTokens: number;
  /** Share of a prompt served from the prefix cache for a program's second and later calls. */
  prefixHitRate: number;
  /** Prompt prefix shared by all programs (the system prompt), cached across programs. */
  systemPromptTokens: number;
  /**
   * Backfilling: when the request at the head of admission does not fit the free KV, how many
   * later picks may be admitted around it if they fit. 0: the head blocks admission (vLLM's
   * scheduler stops at the first waiting request it cannot allocate).
   */
  backfillLookahead: number;
  /** Requests that may go around one waiting head before admission waits for it. */
  backfillMaxSkips: number;
}

/**
 * BENCH-SCHED §2's iteration model (α = 8 ms, δ = 0.15 ms/sequence, γ = 0.05 ms/token, roughly an
 * 8B model on one datacenter GPU) with vLLM's long-standing default batch cap of 256 sequences.
 * KV capacity and the quantum are set per scenario (see scenarios.ts for the reasoning).
 */
export const DEFAULT_ENGINE: EngineParams = {
  maxBatch: 256,
  kvCapacityTokens: 400_000,
  iterBaseUs: 8_000,
  perSeqUs: 150,
  perPrefillTokenUs: 50,
  quantumTokens: 128,
  prefixHitRate: 0.9,
  systemPromptTokens: 128,
  backfillLookahead: 0,
  backfillMaxSkips: 64,
};

/** Duration of one iteration. */
export function iterationUs(p: EngineParams, decoding: number, prefillTokens: number): number {
  return p.iterBaseUs + p.perSeqUs * decoding + p.perPrefillTokenUs * prefillTokens;
}

/** Prompt tokens served from the prefix cache. */
export function cachedPromptTokens(
  p: EngineParams,
  promptTokens: number,
  firstCallOfProgram: boolean,
): number {
  const system = Math.min(promptTokens, p.systemPromptTokens);
  if (firstCallOfProgram) return system;
  return Math.max(system, Math.floor(promptTokens * p.prefixHitRate));
}

/**
 * A call's latency on an otherwise idle engine: one prefill iteration (which yields the first
 * token), then one single-sequence iteration per further token.
 */
export function callAloneUs(
  p: EngineParams,
  promptTokens: number,
  decodeTokens: number,
  firstCallOfProgram: boolean,
): number {
  const uncached = promptTokens - cachedPromptTokens(p, promptTokens, firstCallOfProgram);
  return iterationUs(p, 0, uncached) + (decodeTokens - 1) * iterationUs(p, 1, 0);
}

/** What the capacity of an engine is taken to be for a workload. */
export interface EngineCapacity {
  /** Time-weighted KV of a running sequence (context while it decodes, plus a quantum reserve). */
  kvPerSeqTokens: number;
  /** Sequences a full engine runs: B, or fewer when KV binds. */
  fullBatch: number;
  /** Engine time per decoded token at that batch: α / n + δ. */
  decodeTokenUs: number;
  /** Mean engine time per program at that batch (decode plus uncached prefill). */
  workUs: number;
  /** Programs per second a full engine completes: 1 / workUs. */
  programsPerSec: number;
}

/** Engine time a program needs on a full engine: what the SRPT oracle knows of it. */
export function engineWorkUs(spec: ProgramSpec, p: EngineParams, decodeTokenUs: number): number {
  let work = 0;
  let first = true;
  for (const stage of spec.stages) {
    for (const branch of stage) {
      for (const s of branch) {
        const uncached = s.prefillTokens - cachedPromptTokens(p, s.prefillTokens, first);
        first = false;
        work += s.decodeTokens * decodeTokenUs + uncached * p.perPrefillTokenUs;
      }
    }
  }
  return work;
}

/**
 * Capacity of an engine for a workload, from the same fixed sample as the API pools use
 * (`CALIBRATION_PROGRAMS`), so a load level does not move with the seed. Capacity is the
 * throughput of an engine whose batch is kept full (B sequences, or as many as the KV cache
 * holds), which is the most it can sustain: offered load ρ = arrival rate × work per program at
 * that batch.
 */
export function engineCapacity(
  workload: WorkloadParams,
  p: EngineParams,
  samples = CALIBRATION_PROGRAMS,
): EngineCapacity {
  const specs: ProgramSpec[] = [];
  let kvWeighted = 0;
  let decodeTotal = 0;
  for (let i = 0; i < samples; i++) {
    const spec = generateProgram(0x5eed, `calibration/${i}`, 0, workload, DEFAULT_BACKEND);
    specs.push(spec);
    for (const stage of spec.stages) {
      for (const branch of stage) {
        for (const s of branch) {
          const reserve = Math.min(s.decodeTokens, p.quantumTokens) / 2;
          kvWeighted += s.decodeTokens * (s.prefillTokens + s.decodeTokens / 2 + reserve);
          decodeTotal += s.decodeTokens;
        }
      }
    }
  }
  const kvPerSeqTokens = kvWeighted / decodeTotal;
  const fullBatch = Math.max(
    1,
    Math.min(p.maxBatch, Math.floor(p.kvCapacityTokens / kvPerSeqTokens)),
  );
  const decodeTokenUs = p.iterBaseUs / fullBatch + p.perSeqUs;
  let work = 0;
  for (const spec of specs) work += engineWorkUs(spec, p, decodeTokenUs);
  const workUs = work / samples;
  return {
    kvPerSeqTokens,
    fullBatch,
    decodeTokenUs,
    workUs,
    programsPerSec: 1_000_000 / workUs,
  };
}
