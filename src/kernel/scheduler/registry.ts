/**
 * Policies by name, so a pool's policy is configuration: the Scheduler Durable Object parses
 * `{ name, options }` from the admin API with `PolicyConfigSchema`, builds it with
 * `createPolicy`, and can swap it at run time with `switchPolicy`.
 */

import { z } from "zod";
import { AtlasOptionsSchema, createAtlasPolicy } from "./atlas.js";
import { CompositeOptionsSchema, createCompositePolicy } from "./composite.js";
import { createFairPlasPolicy, FairPlasOptionsSchema } from "./fair-plas.js";
import { createFcfsPolicy, FcfsOptionsSchema } from "./fcfs.js";
import { createMlfqPolicy, MlfqOptionsSchema } from "./mlfq.js";
import { createPlasPolicy, PlasOptionsSchema } from "./plas.js";
import { createPriorityPolicy, PriorityOptionsSchema } from "./priority.js";
import { createRoundRobinPolicy, RoundRobinOptionsSchema } from "./round-robin.js";
import { createTokenBudgetPolicy, TokenBudgetOptionsSchema } from "./token-budget.js";
import type { EnqueueResult, SchedPolicy, SchedTask } from "./types.js";
import { createVtcPolicy, VtcOptionsSchema } from "./vtc.js";

/** Every policy a pool can run, with the schema of its options. */
export const POLICY_OPTION_SCHEMAS = {
  fcfs: FcfsOptionsSchema,
  "round-robin": RoundRobinOptionsSchema,
  priority: PriorityOptionsSchema,
  mlfq: MlfqOptionsSchema,
  "token-budget": TokenBudgetOptionsSchema,
  vtc: VtcOptionsSchema,
  plas: PlasOptionsSchema,
  atlas: AtlasOptionsSchema,
  composite: CompositeOptionsSchema,
  "fair-plas": FairPlasOptionsSchema,
} as const;

export type PolicyName = keyof typeof POLICY_OPTION_SCHEMAS;
export type PolicyOptions = { [N in PolicyName]: z.input<(typeof POLICY_OPTION_SCHEMAS)[N]> };

export const POLICY_NAMES = Object.keys(POLICY_OPTION_SCHEMAS) as PolicyName[];

/** The policy a pool runs when its configuration names none. */
export const DEFAULT_POLICY: PolicyName = "fair-plas";

export const PolicyNameSchema = z.enum([
  "fcfs",
  "round-robin",
  "priority",
  "mlfq",
  "token-budget",
  "vtc",
  "plas",
  "atlas",
  "composite",
  "fair-plas",
]);

/** A pool's policy choice as the admin API sends it: `{ name, options? }`. */
export const PolicyConfigSchema = z.discriminatedUnion("name", [
  z.object({ name: z.literal("fcfs"), options: FcfsOptionsSchema.prefault({}) }).strict(),
  z
    .object({ name: z.literal("round-robin"), options: RoundRobinOptionsSchema.prefault({}) })
    .strict(),
  z.object({ name: z.literal("priority"), options: PriorityOptionsSchema.prefault({}) }).strict(),
  z.object({ name: z.literal("mlfq"), options: MlfqOptionsSchema.prefault({}) }).strict(),
  z
    .object({ name: z.literal("token-budget"), options: TokenBudgetOptionsSchema.prefault({}) })
    .strict(),
  z.object({ name: z.literal("vtc"), options: VtcOptionsSchema.prefault({}) }).strict(),
  z.object({ name: z.literal("plas"), options: PlasOptionsSchema.prefault({}) }).strict(),
  z.object({ name: z.literal("atlas"), options: AtlasOptionsSchema.prefault({}) }).strict(),
  z.object({ name: z.literal("composite"), options: CompositeOptionsSchema.prefault({}) }).strict(),
  z.object({ name: z.literal("fair-plas"), options: FairPlasOptionsSchema.prefault({}) }).strict(),
]);
export type PolicyConfig = z.output<typeof PolicyConfigSchema>;

/**
 * Builds a policy by name. Options are validated (zod) and defaulted; bad options throw a
 * ZodError, so parse untrusted input with `PolicyConfigSchema` first.
 *
 * @example createPolicy("vtc", { tenantWeights: { ten_a: 1, ten_b: 2 } })
 */
export function createPolicy<N extends PolicyName>(
  name: N,
  options?: PolicyOptions[N],
): SchedPolicy {
  const o = (options ?? {}) as never;
  switch (name) {
    case "fcfs":
      return createFcfsPolicy(o);
    case "round-robin":
      return createRoundRobinPolicy(o);
    case "priority":
      return createPriorityPolicy(o);
    case "mlfq":
      return createMlfqPolicy(o);
    case "token-budget":
      return createTokenBudgetPolicy(o);
    case "vtc":
      return createVtcPolicy(o);
    case "plas":
      return createPlasPolicy(o);
    case "atlas":
      return createAtlasPolicy(o);
    case "composite":
      return createCompositePolicy(o);
    case "fair-plas":
      return createFairPlasPolicy(o);
  }
  throw new Error(`unknown policy ${String(name)}`);
}

/** Builds a policy from a parsed `PolicyConfig`. */
export function createPolicyFromConfig(config: PolicyConfig): SchedPolicy {
  return createPolicy(config.name, config.options as PolicyOptions[typeof config.name]);
}

/**
 * Moves every queued request from `from` to `to` (a run-time policy change), oldest request
 * first. Returns the requests `to` refused, with why, so the caller can tell their processes.
 * Budget accounting survives because each request carries its process's spent tokens.
 */
export function switchPolicy(
  from: SchedPolicy,
  to: SchedPolicy,
  nowMs: number,
): { task: SchedTask; result: EnqueueResult }[] {
  const tasks = from.drain().sort((a, b) => a.enqueuedAtMs - b.enqueuedAtMs);
  const refused: { task: SchedTask; result: EnqueueResult }[] = [];
  for (const task of tasks) {
    const result = to.enqueue(task, nowMs);
    if (!result.ok) refused.push({ task, result });
  }
  return refused;
}
