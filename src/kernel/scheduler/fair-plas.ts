/**
 * The default policy: fair-share PLAS. A token-budget admission layer over VTC tenant shares
 * with slack over PLAS, priority classes acting as PLAS share weights.
 *
 *   budget gate ─ vtc (slack) ─┬─ tenant a: plas (service ÷ class weight)
 *                              └─ tenant b: plas …
 *
 * Each layer answers one question: may this process spend more (budget); which tenants are
 * within their fair share (VTC: every backlogged tenant within `fairSlackTokens` of the least
 * served); among their programs, which has received least (PLAS, compared across tenants by its
 * rank). Priority classes weight the service PLAS counts (`classWeights`, p0:p1:p2 = 4:2:1 by
 * default), as CFS weights runtime by nice level: an interactive program stays in a queue for
 * four times the tokens a batch one does, but a short batch program still goes before a long
 * interactive one. A program that starved (PLAS's anti-starvation) gets one pick in four rather
 * than the top queue (`promotedTurnPicks`): near saturation most programs qualify, and Autellix's
 * rule turns PLAS into FIFO (bench/sched, 95% load, seeds 1–10: p95 token latency 0.20× FCFS's
 * on an 8-concurrent pool and 0.22× on a KV-scarce engine, against 0.33× and 1.07× with the top
 * queue). Built only from the other policies. On an engine that preempts at quantum ends it
 * preempts as PLAS does, and near saturation the recomputed KV can cost more throughput than the
 * order gains (bench/sched README, "Preemption collapses the large engine at 95%"); calls sent
 * to a hosted API are never preempted.
 *
 * Why not `composite` (VTC ∘ priority with aging ∘ PLAS)? Strict VTC alternates tenants request
 * by request and classes outrank attained service, so a short program waits behind long ones of
 * other tenants and classes. In bench/sched (S1 at 80% load, seeds 1–10, backends where a queue
 * forms) that cost 1.13–1.96× PLAS's p95 program token latency on average, up to 2.74× on one
 * seed; this stack is 0.81–1.04× on average (worst seed 1.20×, on a tokens/min pool where fair
 * share binds) and keeps Jain's index ≥ 0.98 under the noisy neighbour. `composite` remains for
 * pools that want classes to dominate; `priority` for pools that need p0 first under overload.
 */

import { z } from "zod";
import { MaxQueuedSchema } from "./common.js";
import { PlasOptionsSchema, PlasPolicy } from "./plas.js";
import { BudgetGateOptionsSchema, TokenBudgetGate } from "./token-budget.js";
import type { SchedPolicy } from "./types.js";
import { VtcOptionsSchema, VtcPolicy } from "./vtc.js";

export const FairPlasOptionsSchema = z.object({
  tenantWeights: VtcOptionsSchema.shape.tenantWeights,
  defaultWeight: VtcOptionsSchema.shape.defaultWeight,
  /**
   * How far (weighted tokens ÷ tenant weight) a tenant's counter may lead the least-served
   * backlogged tenant's and still run; 0 is strict VTC. The default is a few requests' worth.
   */
  fairSlackTokens: VtcOptionsSchema.shape.slackTokens.unwrap().default(16_384),
  /** PLAS share weight of p0, p1, p2. */
  classWeights: PlasOptionsSchema.shape.classWeights.unwrap().default([4, 2, 1]),
  plas: PlasOptionsSchema.omit({ maxQueued: true, classWeights: true })
    .extend({
      /**
       * A starved program gets one pick in 4 instead of the top queue (PLAS's
       * `promotedTurnPicks`): Autellix's promotion turns PLAS into FIFO near saturation.
       */
      promotedTurnPicks: PlasOptionsSchema.shape.promotedTurnPicks.unwrap().default(4),
    })
    .prefault({}),
  /** Put the token-budget admission layer in front (false only for ablation). */
  budget: z.boolean().default(true),
  quantumTokens: BudgetGateOptionsSchema.shape.quantumTokens,
  minGrantTokens: BudgetGateOptionsSchema.shape.minGrantTokens,
  maxQueued: MaxQueuedSchema,
});
export type FairPlasOptions = z.input<typeof FairPlasOptionsSchema>;

/**
 * Creates fair-share PLAS (budget ∘ VTC with slack ∘ class-weighted PLAS).
 *
 * @example createFairPlasPolicy({ tenantWeights: { ten_a: 1, ten_b: 4 }, classWeights: [4, 2, 1] })
 */
export function createFairPlasPolicy(options: FairPlasOptions = {}): SchedPolicy {
  const o = FairPlasOptionsSchema.parse(options);
  const tree = new VtcPolicy(
    {
      tenantWeights: o.tenantWeights,
      defaultWeight: o.defaultWeight,
      slackTokens: o.fairSlackTokens,
      maxQueued: o.maxQueued,
    },
    () => new PlasPolicy({ ...o.plas, classWeights: o.classWeights }),
  );
  if (!o.budget) return tree;
  return new TokenBudgetGate("fair-plas", tree, {
    quantumTokens: o.quantumTokens,
    minGrantTokens: o.minGrantTokens,
    maxQueued: o.maxQueued,
  });
}
