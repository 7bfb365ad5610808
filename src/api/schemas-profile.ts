/**
 * Schemas of the workload profiles (`GET /v1/fleet/nodes/{id}/profile`, `GET /v1/fleet/profile`)
 * and of the recommendations they carry, over the pure analysis's own names (workload.ts,
 * recommend.ts), so the API, the MCP tools and the agent loop describe a profile alike.
 */

import { z } from "zod";
import { PROFILE_LIMITS } from "../schedcp/profile.js";
import { LabelsSchema, NodeIdSchema, NodeRoleSchema } from "../schedcp/protocol/index.js";
import { WORKLOAD_CLASSES } from "../schedcp/workload-classes.js";
import { WORKLOAD_THRESHOLDS } from "../schedcp/workload-thresholds.js";
import { SIGNAL_NAMES } from "../schedcp/workload-types.js";

const THRESHOLD_NAMES = Object.keys(WORKLOAD_THRESHOLDS) as [
  keyof typeof WORKLOAD_THRESHOLDS,
  ...(keyof typeof WORKLOAD_THRESHOLDS)[],
];

/** How many reports per node a profile reads; the query string gives it as text. */
export const WindowReportsSchema = z.coerce
  .number()
  .int()
  .min(PROFILE_LIMITS.windowReportsMin)
  .max(PROFILE_LIMITS.windowReportsMax)
  .default(PROFILE_LIMITS.windowReportsDefault)
  .meta({
    description: `Newest telemetry reports per node in the window, ${PROFILE_LIMITS.windowReportsMin} to ${PROFILE_LIMITS.windowReportsMax} (default ${PROFILE_LIMITS.windowReportsDefault})`,
  });

export const NodeProfileQuerySchema = z.object({ reports: WindowReportsSchema });

export const GroupProfileQuerySchema = z.object({
  label: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .meta({ description: "`key=value`; repeat to require several labels (none: every node)" }),
  role: NodeRoleSchema.optional(),
  reports: WindowReportsSchema,
});

const ThresholdSchema = z.object({
  name: z.enum(THRESHOLD_NAMES),
  value: z.number().meta({ description: "The threshold's value" }),
  comparison: z.enum(["<", ">="]),
  met: z.boolean().meta({ description: "Whether the signal's value met it" }),
});

export const SignalSchema = z
  .object({
    name: z.enum(SIGNAL_NAMES),
    value: z.number().nullable().meta({ description: "The window's value; null when unreported" }),
    unit: z.string(),
    thresholds: z.array(ThresholdSchema),
    pointsTo: z.enum(WORKLOAD_CLASSES).nullable(),
    note: z.string(),
  })
  .meta({ id: "WorkloadSignal" });

export const TopProcessSchema = z.object({
  name: z.string(),
  cpuPct: z.number().meta({ description: "Mean share of one CPU over the window (200 = two)" }),
  shareOfBusy: z.number().nullable().meta({ description: "Share of all busy CPU time, 0-1" }),
});

export const RecommendationsSchema = z
  .object({
    workloadClass: z.enum(WORKLOAD_CLASSES).nullable(),
    recommendations: z.array(
      z.object({
        policyId: z.string(),
        name: z.string(),
        score: z.number(),
        reasons: z.array(z.string()),
        suggestedParameters: z.record(z.string(), z.union([z.number(), z.boolean()])),
        deployable: z
          .boolean()
          .meta({ description: "False when some target node has no sched_ext at all" }),
      }),
    ),
    excluded: z.array(z.object({ policyId: z.string(), name: z.string(), reason: z.string() })),
    notes: z.array(z.string()),
  })
  .meta({ id: "PolicyRecommendations" });

const WindowSchema = z.object({
  reports: z.int().meta({ description: "Reports the window held (summed over a group)" }),
  requestedReports: z.int().meta({ description: "Reports asked for, per node" }),
  spanMs: z.number().meta({ description: "From the first report to the last" }),
  cpus: z.int().nullable().meta({ description: "Online CPUs (summed over a group)" }),
  oldestAt: z.string().nullable().meta({ description: "The oldest report's send time" }),
  newestAt: z.string().nullable().meta({ description: "The newest report's send time" }),
});

/** What every profile holds, a node's or a group's. */
export const ProfileFields = {
  class: z
    .enum(WORKLOAD_CLASSES)
    .nullable()
    .meta({ description: "Null when the window holds no CPU utilisation (no telemetry yet)" }),
  confidence: z.number().min(0).max(1),
  summary: z.string(),
  signals: z.array(SignalSchema),
  topProcesses: z.array(TopProcessSchema),
  window: WindowSchema,
  recommendations: RecommendationsSchema,
};

export const GroupNodeSchema = z.object({
  nodeId: NodeIdSchema,
  status: z.enum(["online", "offline"]),
  class: z.enum(WORKLOAD_CLASSES).nullable(),
  confidence: z.number(),
  cpus: z.int().nullable(),
  reports: z.int(),
});

export const NodeSelectorViewSchema = z.object({
  labels: LabelsSchema,
  role: NodeRoleSchema.optional(),
});

export const NodeProfileSchema = z
  .object({
    kind: z.literal("node"),
    nodeId: NodeIdSchema,
    status: z.enum(["online", "offline"]),
    ...ProfileFields,
  })
  .meta({ id: "FleetNodeProfile" });
export type NodeProfileView = z.infer<typeof NodeProfileSchema>;

export const GroupProfileSchema = z
  .object({
    kind: z.literal("group"),
    selector: NodeSelectorViewSchema,
    /** How the repository's history names this group. */
    target: z.string(),
    nodes: z.array(GroupNodeSchema),
    agreement: z
      .number()
      .meta({ description: "Share of the non-idle CPUs whose node has the group's class" }),
    ...ProfileFields,
  })
  .meta({ id: "FleetGroupProfile" });
export type GroupProfileView = z.infer<typeof GroupProfileSchema>;
