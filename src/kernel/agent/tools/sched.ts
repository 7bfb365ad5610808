/**
 * The scheduler control plane's tools of the agent loop (the `sched-agent` type's plan):
 * observe the fleet and a node's or group's workload, search and read the policy repository,
 * submit a policy, send a version to a verifier, follow it, and record how it did. Each names
 * the capability the gate checks (src/schedcp/capabilities.ts); the handlers call the same
 * `…In` functions the HTTPS API and the MCP tools reach through the gate.
 *
 * The canary: `rollout_start` is `sched.deploy`, high risk, so the gate parks the process until
 * a person approves (or denies) that call; `rollout_status` follows it. Stopping and rolling
 * back stay with people and the rollout engine's own guards.
 */

import { z } from "zod";
import { PolicyMetadataFields, UseCaseSchema } from "../../../schedcp/metadata.js";
import { OutcomeFields } from "../../../schedcp/outcome.js";
import { PROFILE_LIMITS } from "../../../schedcp/profile.js";
import {
  GuardSchema,
  LabelsSchema,
  NodeIdSchema,
  NodeRoleSchema,
  ParametersSchema,
  PolicyVersionSchema,
  SchedPolicyIdSchema,
} from "../../../schedcp/protocol/index.js";
import { WORKLOAD_CLASSES } from "../../../schedcp/workload-classes.js";
import type { ToolSpec } from "./spec.js";

/** Results one listing tool call returns at most: each item is a whole record. */
export const SCHED_TOOL_PAGE_MAX = 50;
export const SCHED_TOOL_PAGE_DEFAULT = 10;
/** Versions `policy_get` lists. */
export const SCHED_TOOL_VERSIONS = 5;

const Limit = z
  .number()
  .int()
  .min(1)
  .max(SCHED_TOOL_PAGE_MAX)
  .default(SCHED_TOOL_PAGE_DEFAULT)
  .meta({ description: `How many, 1 to ${SCHED_TOOL_PAGE_MAX}` });
const Cursor = z.string().max(512).optional().meta({ description: "`nextCursor` of a page" });

export const FleetNodesArgsSchema = z.strictObject({
  labels: LabelsSchema.optional().meta({ description: "Only nodes carrying every label" }),
  role: NodeRoleSchema.optional(),
  status: z.enum(["online", "offline"]).optional(),
  limit: Limit,
  cursor: Cursor,
});

export const FleetProfileArgsSchema = z
  .strictObject({
    nodeId: NodeIdSchema.optional().meta({ description: "Profile this node" }),
    labels: LabelsSchema.optional().meta({
      description: "Or the group of nodes carrying every label",
    }),
    role: NodeRoleSchema.optional(),
    reports: z
      .number()
      .int()
      .min(PROFILE_LIMITS.windowReportsMin)
      .max(PROFILE_LIMITS.windowReportsMax)
      .default(PROFILE_LIMITS.windowReportsDefault),
  })
  .refine((a) => a.nodeId === undefined || (a.labels === undefined && a.role === undefined), {
    message: "give a nodeId or a selector (labels, role), not both",
    path: ["nodeId"],
  });

export const PolicySearchArgsSchema = z.strictObject({
  q: z.string().max(200).optional().meta({ description: "Words to search for" }),
  tag: UseCaseSchema.optional(),
  workload: z.enum(WORKLOAD_CLASSES).optional(),
  limit: Limit,
  cursor: Cursor,
});

export const PolicyGetArgsSchema = z.strictObject({
  id: SchedPolicyIdSchema,
  version: PolicyVersionSchema.optional().meta({ description: "Default the newest" }),
  includeSource: z.boolean().default(false),
});

export const PolicySubmitArgsSchema = z.strictObject({
  ...PolicyMetadataFields,
  source: z.string().min(1).meta({ description: "BPF C source of a sched_ext scheduler" }),
  parameters: ParametersSchema.default({}),
});

export const PolicyVersionArgsSchema = z.strictObject({
  id: SchedPolicyIdSchema,
  version: PolicyVersionSchema,
});

export const PolicyVerifyArgsSchema = z.strictObject({
  id: SchedPolicyIdSchema,
  version: PolicyVersionSchema,
  workloadMs: z.number().int().positive().optional(),
});

export const PolicyRecordOutcomeArgsSchema = z.strictObject({
  id: SchedPolicyIdSchema,
  version: PolicyVersionSchema,
  ...OutcomeFields,
});

export const RolloutStartArgsSchema = z.strictObject({
  policyId: SchedPolicyIdSchema,
  version: PolicyVersionSchema,
  target: z
    .strictObject({
      nodeIds: z.array(NodeIdSchema).min(1).max(100).optional(),
      labels: LabelsSchema.optional(),
    })
    .meta({ description: "`nodeIds` or `labels`, exactly one" }),
  canaryFraction: z.number().gt(0).max(1).optional(),
  healthWindowMs: z.number().int().positive().optional(),
  guards: z.array(GuardSchema).max(4).optional(),
});

export const RolloutStatusArgsSchema = z.strictObject({
  id: z.string().min(1).max(64).meta({ description: "The rollout's id, `rol_…`" }),
});

export const SCHED_TOOLS = {
  fleet_nodes: {
    capability: "fleet.observe",
    description:
      "Your tenant's Linux nodes, filtered by labels, role and status: each one's status, labels, what it runs and when it was last seen.",
    args: FleetNodesArgsSchema,
  },
  fleet_profile: {
    capability: "fleet.observe",
    description:
      "The workload profile of a node (`nodeId`) or label group (`labels`, `role`) from its newest telemetry: class, confidence, every signal with the thresholds it was held to, top processes, and the policies the repository recommends with their reasons. `class` is null without telemetry.",
    args: FleetProfileArgsSchema,
  },
  policy_search: {
    capability: "sched.read",
    description:
      "Search the scheduler-policy repository (built-ins and your tenant's own) by words, use case or workload class.",
    args: PolicySearchArgsSchema,
  },
  policy_get: {
    capability: "sched.read",
    description: `A policy's metadata (tunables with bounds, limitations), its newest ${SCHED_TOOL_VERSIONS} versions, and one version in full: static checks, verification result, signature, quarantine.`,
    args: PolicyGetArgsSchema,
  },
  policy_submit: {
    capability: "sched.submit",
    description:
      "Submit a new policy: metadata, BPF C source and default parameters. The static checks run at once; a failure names each field and source line to fix, and nothing is stored.",
    args: PolicySubmitArgsSchema,
  },
  policy_verify: {
    capability: "sched.verify",
    description:
      "Send a `checked` version of your tenant's own policy to a verifier node, which loads it into a real sched_ext kernel in a throwaway VM. Follow it with policy_status.",
    args: PolicyVerifyArgsSchema,
  },
  policy_status: {
    capability: "sched.read",
    description:
      "Where a version stands: checked, verifying, verified, rejected, signed or quarantined, with the verifier's result and the reason.",
    args: PolicyVersionArgsSchema,
  },
  rollout_start: {
    capability: "sched.deploy",
    description:
      "Roll a signed version out to nodes (`target`: `nodeIds` or `labels`): `canaryFraction` of them first, the rest after `healthWindowMs` if the guards hold, every node rolled back on a regression. A person approves the call first.",
    args: RolloutStartArgsSchema,
  },
  rollout_status: {
    capability: "sched.read",
    description:
      "A rollout's phase (canary, promoting, completed, stopped, rolling_back, rolled_back) and why, and each node's state.",
    args: RolloutStatusArgsSchema,
  },
  policy_record_outcome: {
    capability: "sched.record",
    description:
      "Record how a version did on a node or label group: workload class, metrics before and after, and the outcome (improved, neutral, regressed, rolled_back). Recommendations weigh these.",
    args: PolicyRecordOutcomeArgsSchema,
  },
} as const satisfies Record<string, ToolSpec>;
