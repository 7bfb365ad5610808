/**
 * An outcome: how a policy version did on a node or a label group, as a sched-agent (or a
 * person, or the rollout engine) records it in the repository's performance history. The
 * recommendations read these back (recommend.ts: improvements count for a policy on that
 * workload class, regressions and rollbacks against it). One definition for every surface.
 */

import { z } from "zod";
import { NodeSelectorSchema } from "./fleet/targets.js";
import { NodeIdSchema } from "./protocol/index.js";
import { OUTCOMES } from "./recommend.js";
import { RolloutIdSchema } from "./rollout-types.js";
import { WORKLOAD_CLASSES } from "./workload-classes.js";

export const OUTCOME_LIMITS = {
  /** Metrics on each side of an outcome. */
  metrics: 32,
  metricNameChars: 64,
} as const;

/** Metric name → value, e.g. the profile's signals (`runDelayUs`, `psiCpuSomePct`). */
export const MetricsSchema = z
  .record(
    z
      .string()
      .regex(
        new RegExp(`^[A-Za-z][A-Za-z0-9_.]{0,${OUTCOME_LIMITS.metricNameChars - 1}}$`),
        `expected a name of 1-${OUTCOME_LIMITS.metricNameChars} letters, digits, _ and ., starting with a letter`,
      ),
    z.number().finite(),
  )
  .refine((m) => Object.keys(m).length <= OUTCOME_LIMITS.metrics, {
    message: `at most ${OUTCOME_LIMITS.metrics} metrics`,
  })
  .meta({ description: 'Metric name → value, e.g. `{ "runDelayUs": 850 }`' });

/** A node, or a label group (every node matching the selector). */
export const OutcomeTargetSchema = z.union([
  z.strictObject({ nodeId: NodeIdSchema }),
  z.strictObject({ selector: NodeSelectorSchema }),
]);
export type OutcomeTarget = z.infer<typeof OutcomeTargetSchema>;

/** The fields of an outcome, besides the policy and version it is about. */
export const OutcomeFields = {
  target: OutcomeTargetSchema.meta({
    description: "`{ nodeId }` or `{ selector: { labels, role? } }`",
  }),
  workloadClass: z.enum(WORKLOAD_CLASSES).meta({ description: "The target's workload class" }),
  metricsBefore: MetricsSchema,
  metricsAfter: MetricsSchema,
  outcome: z.enum(OUTCOMES),
  rolloutId: RolloutIdSchema.optional().meta({ description: "The rollout it came from, if any" }),
};
