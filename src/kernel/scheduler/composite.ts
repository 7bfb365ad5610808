/**
 * The default policy: a token-budget admission layer over VTC tenant shares, each tenant
 * running its own priority classes with aging, each class ordering programs by PLAS.
 *
 *   budget gate ─ vtc ─┬─ tenant a: priority(aging) ─┬─ p0: plas
 *                      │                              ├─ p1: plas
 *                      │                              └─ p2: plas
 *                      └─ tenant b: priority(aging) ─ …
 *
 * Each layer answers one question: may this process spend more (budget), which tenant is owed
 * service (VTC), which of its classes is due (priority, with a bounded wait for batch), which
 * program has received least (PLAS). Built only from the other policies.
 *
 * Tenant shares sit outside priority classes by default because tenants are the isolation
 * boundary: with classes outermost a tenant that marks all its work p0 (or floods one class)
 * takes that class's whole share. `nesting: "class-first"` gives global priority classes with
 * VTC inside each, for pools that trust their tenants' priorities.
 */

import { z } from "zod";
import { MaxQueuedSchema } from "./common.js";
import { PlasOptionsSchema, PlasPolicy } from "./plas.js";
import { PriorityPolicy } from "./priority.js";
import { BudgetGateOptionsSchema, TokenBudgetGate } from "./token-budget.js";
import type { SchedPolicy } from "./types.js";
import { VtcOptionsSchema, VtcPolicy } from "./vtc.js";

export const CompositeOptionsSchema = z.object({
  nesting: z.enum(["tenant-first", "class-first"]).default("tenant-first"),
  /** Aging between priority classes; null makes classes strict. */
  agingMs: z.number().int().min(1).max(86_400_000).nullable().default(30_000),
  tenantWeights: VtcOptionsSchema.shape.tenantWeights,
  defaultWeight: VtcOptionsSchema.shape.defaultWeight,
  plas: PlasOptionsSchema.omit({ maxQueued: true }).prefault({}),
  /** Put the token-budget admission layer in front (false only for ablation). */
  budget: z.boolean().default(true),
  quantumTokens: BudgetGateOptionsSchema.shape.quantumTokens,
  minGrantTokens: BudgetGateOptionsSchema.shape.minGrantTokens,
  maxQueued: MaxQueuedSchema,
});
export type CompositeOptions = z.input<typeof CompositeOptionsSchema>;

/**
 * Creates the composite policy (budget ∘ VTC ∘ priority ∘ PLAS by default).
 *
 * @example createCompositePolicy({ tenantWeights: { ten_a: 1, ten_b: 4 }, agingMs: 30_000 })
 */
export function createCompositePolicy(options: CompositeOptions = {}): SchedPolicy {
  const o = CompositeOptionsSchema.parse(options);
  const plas = () => new PlasPolicy(o.plas);
  const vtcOptions = {
    tenantWeights: o.tenantWeights,
    defaultWeight: o.defaultWeight,
    maxQueued: o.maxQueued,
  };
  const priorityOptions = { agingMs: o.agingMs, maxQueued: o.maxQueued };
  const tree =
    o.nesting === "tenant-first"
      ? new VtcPolicy(vtcOptions, () => new PriorityPolicy(priorityOptions, plas))
      : new PriorityPolicy(priorityOptions, () => new VtcPolicy(vtcOptions, plas));
  if (!o.budget) return tree;
  return new TokenBudgetGate("composite", tree, {
    quantumTokens: o.quantumTokens,
    minGrantTokens: o.minGrantTokens,
    maxQueued: o.maxQueued,
  });
}
