/**
 * Request and response schemas of the fleet routes (`/v1/fleet/*`). Enrollment and every value
 * a node reports reuse the wire protocol's schemas (src/schedcp/protocol), so the API and the
 * WebSocket cannot disagree about a node's facts, telemetry or deploy transitions.
 */

import { z } from "zod";
import { NodeTargetSchema } from "../schedcp/fleet/targets.js";
import {
  DeployStatusSchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  LabelsSchema,
  NodeFactsSchema,
  NodeIdSchema,
  NodeRoleSchema,
  Sha256Schema,
  TelemetryReportSchema,
} from "../schedcp/protocol/index.js";
import { ENROLLMENT_TOKEN_LIMITS } from "../store/fleet.js";
import { PageQuerySchema } from "./schemas.js";

export const CreateEnrollmentTokenSchema = z
  .strictObject({
    role: NodeRoleSchema.default("node").meta({ description: "The role nodes enroll in" }),
    labels: LabelsSchema.default({}).meta({
      description:
        "Labels every node enrolled with the token carries; they win over the node's own",
    }),
    expiresInSeconds: z
      .int()
      .min(ENROLLMENT_TOKEN_LIMITS.ttlMinSeconds)
      .max(ENROLLMENT_TOKEN_LIMITS.ttlMaxSeconds)
      .default(ENROLLMENT_TOKEN_LIMITS.ttlDefaultSeconds)
      .meta({ description: "Lifetime, 60 s to 7 days (default one hour)" }),
  })
  .meta({ id: "EnrollmentTokenRequest" });

export const EnrollmentTokenSchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    token: z.string().meta({ description: "The one-time token; shown in this response only" }),
    role: NodeRoleSchema,
    labels: z.record(z.string(), z.string()),
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .meta({ id: "EnrollmentToken" });

export const EnrollRequestApiSchema = EnrollRequestSchema.meta({ id: "EnrollRequest" });
export const EnrollResponseApiSchema = EnrollResponseSchema.meta({ id: "EnrollResponse" });

const RunningSchema = DeployStatusSchema.shape.running;

export const NodeSummarySchema = z
  .object({
    id: NodeIdSchema,
    role: NodeRoleSchema,
    labels: z.record(z.string(), z.string()),
    status: z.enum(["online", "offline"]),
    lastSeenAt: z.string().nullable(),
    running: RunningSchema.meta({ description: "What runs now; null is the kernel's default" }),
    dryRun: z.boolean(),
    agentVersion: z.string(),
    enrolledAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: "FleetNodeSummary" });

export const TelemetryEntrySchema = z
  .object({
    seq: z.int(),
    at: z.string().meta({ description: "The node's clock when it sent the report" }),
    receivedAt: z.string(),
    report: TelemetryReportSchema,
  })
  .meta({ id: "FleetTelemetryEntry" });

export const NodeDetailSchema = NodeSummarySchema.extend({
  facts: NodeFactsSchema,
  connectedAt: z.string().nullable(),
  credentialPrefix: z.string(),
  lastTelemetry: TelemetryEntrySchema.nullable(),
}).meta({ id: "FleetNode" });

export const NodeListQuerySchema = PageQuerySchema.extend({
  role: NodeRoleSchema.optional(),
  status: z.enum(["online", "offline"]).optional(),
  label: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .meta({ description: "`key=value`; repeat to require several labels" }),
  revoked: z
    .enum(["exclude", "include"])
    .default("exclude")
    .meta({ description: "Whether revoked nodes are listed too" }),
});

export const NodePageSchema = z
  .object({ items: z.array(NodeSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: "FleetNodePage" });

export const TelemetryPageSchema = z
  .object({ items: z.array(TelemetryEntrySchema), nextCursor: z.string().nullable() })
  .meta({ id: "FleetTelemetryPage" });

export const DeployEventSchema = z
  .object({ seq: z.int(), receivedAt: z.string(), status: DeployStatusSchema })
  .meta({ id: "FleetDeployEvent" });

export const DeployEventPageSchema = z
  .object({ items: z.array(DeployEventSchema), nextCursor: z.string().nullable() })
  .meta({ id: "FleetDeployEventPage" });

export const NodeIdParam = z.object({
  id: NodeIdSchema.meta({ param: { name: "id", in: "path" } }),
});

export const Sha256Param = z.object({
  sha256: Sha256Schema.meta({ param: { name: "sha256", in: "path" } }),
});

export const VerifyJobParam = z.object({
  jobId: z
    .string()
    .regex(/^vjob_[A-Za-z0-9_-]{1,64}$/)
    .meta({ param: { name: "jobId", in: "path" } }),
});

export const VerifyUploadSchema = z
  .object({ jobId: z.string(), sha256: z.string(), sizeBytes: z.int() })
  .meta({ id: "VerifyUpload" });

export const SigningKeySchema = z
  .object({
    algorithm: z.literal("Ed25519"),
    publicKey: z.string().meta({ description: "The raw 32-byte public key, base64url" }),
    keyId: z.string().meta({ description: "First 16 hex digits of SHA-256 over the raw key" }),
  })
  .meta({ id: "FleetSigningKey" });

/** Commands an operator sends by hand; assignments go out through rollouts, signed. */
export const FleetCommandRequestSchema = z
  .strictObject({
    target: NodeTargetSchema,
    command: z.strictObject({
      op: z.literal("revert"),
      assignmentId: z
        .string()
        .regex(/^asg_[A-Za-z0-9_-]{1,64}$/)
        .nullable()
        .default(null)
        .meta({ description: "Only if this assignment is what runs" }),
      reason: z.string().min(1).max(1_024),
    }),
    timeoutMs: z.int().min(1_000).max(600_000).default(30_000),
  })
  .meta({ id: "FleetCommandRequest" });

export const CommandResultSchema = z
  .object({
    commandId: z.string(),
    batchId: z.string(),
    nodeId: z.string(),
    op: z.string(),
    status: z.enum(["sent", "acked", "failed", "timed_out", "offline"]),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    createdAtMs: z.int(),
    deadlineAtMs: z.int(),
    settledAtMs: z.int().nullable(),
    latencyMs: z.number().nullable(),
  })
  .meta({ id: "FleetCommandResult" });

export const FleetCommandReplySchema = z
  .object({
    batchId: z.string(),
    results: z.array(CommandResultSchema),
    counts: z.record(z.string(), z.int()),
  })
  .meta({ id: "FleetCommandReply" });
