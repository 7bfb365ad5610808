/**
 * Request and response schemas of the rollout routes (`/v1/rollouts`). The request schema is
 * the call layer's own (src/schedcp/rollout-calls.ts), so the API and the MCP tools validate
 * alike.
 */

import { z } from "zod";
import { GuardSchema } from "../schedcp/protocol/index.js";
import { RolloutCommandSchema, RolloutCreateSchema } from "../schedcp/rollout-calls.js";
import { FAILURE_REASONS, NODE_STATES, ROLLOUT_PHASES } from "../schedcp/rollout-types.js";
import { PageQuerySchema } from "./schemas.js";

export const RolloutIdParam = z.object({
  id: z.string().meta({ param: { name: "id", in: "path" }, example: "rol_0193…" }),
});

export const NodeHistoryParam = z.object({
  id: z.string().meta({ param: { name: "id", in: "path" }, example: "web-1" }),
});

export const RolloutCreateRequestSchema = RolloutCreateSchema.meta({ id: "RolloutCreateRequest" });
export const RolloutCommandRequestSchema = RolloutCommandSchema.meta({
  id: "RolloutCommandRequest",
});

export const RolloutListQuerySchema = PageQuerySchema.extend({
  phase: z.enum(ROLLOUT_PHASES).optional().meta({ description: "Only rollouts in this phase" }),
});

const FAILURE_REASON_NAMES = Object.keys(FAILURE_REASONS) as [
  keyof typeof FAILURE_REASONS,
  ...(keyof typeof FAILURE_REASONS)[],
];

export const RolloutSchema = z
  .object({
    rolloutId: z.string(),
    policyId: z.string(),
    version: z.int(),
    phase: z.enum(ROLLOUT_PHASES),
    phaseReason: z.string().nullable(),
    target: z.object({
      nodeIds: z.array(z.string()),
      labels: z.record(z.string(), z.string()).nullable(),
    }),
    canaryFraction: z.number(),
    healthWindowMs: z.int(),
    guards: z.array(GuardSchema),
    window: z.object({ openedAt: z.string(), endsAt: z.string() }).nullable(),
    failedNodes: z.array(z.string()),
    quarantined: z.boolean(),
    nodes: z.array(
      z.object({
        nodeId: z.string(),
        canary: z.boolean(),
        state: z.enum(NODE_STATES),
        assignmentId: z.string(),
        online: z.boolean(),
        activeAt: z.string().nullable(),
        lastVerdict: z.string().nullable(),
        failure: z
          .object({
            reason: z.enum(FAILURE_REASON_NAMES),
            detail: z.string(),
            counted: z.boolean(),
            at: z.string(),
          })
          .nullable(),
      }),
    ),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: "Rollout" });

export const RolloutPageSchema = z
  .object({ items: z.array(RolloutSchema), nextCursor: z.string().nullable() })
  .meta({ id: "RolloutPage" });
