/**
 * Request and response schemas of the scheduler-policy routes (`/v1/policies`), over the
 * schedcp metadata and wire-protocol schemas so the API and the fleet validate alike.
 */

import { z } from "zod";
import { DIAGNOSTIC_CODES } from "../schedcp/diagnostics.js";
import {
  PolicyMetadataFields,
  TunableSchema,
  TunablesSchema,
  UseCaseSchema,
} from "../schedcp/metadata.js";
import { OutcomeFields } from "../schedcp/outcome.js";
import {
  NodeIdSchema,
  ParametersSchema,
  PolicyVersionSchema,
  Sha256Schema,
  VerifyResultSchema,
} from "../schedcp/protocol/index.js";
import { OUTCOMES } from "../schedcp/recommend.js";
import { VERIFY_LIMITS } from "../schedcp/verify-calls.js";
import { WORKLOAD_CLASSES } from "../schedcp/workload-classes.js";
import { SCHED_VERSION_STATUSES } from "../store/schema-schedcp.js";
import { PageQuerySchema } from "./schemas.js";

/** Most characters in a search query. */
export const MAX_POLICY_QUERY_CHARS = 500;

export const SchedPolicyIdParam = z.object({
  id: z.string().meta({ param: { name: "id", in: "path" }, example: "spol_fifo" }),
});
export const SchedVersionParam = SchedPolicyIdParam.extend({
  version: z.string().meta({ param: { name: "version", in: "path" }, example: "1" }),
});

export const PolicyCreateRequestSchema = z
  .strictObject({
    ...PolicyMetadataFields,
    source: z.string().min(1).meta({
      description:
        "BPF C source of a sched_ext scheduler (at most 262144 bytes of UTF-8; checked at once)",
    }),
    parameters: ParametersSchema.default({}).meta({
      description:
        "Default parameters of version 1 (tunable name → value), within the tunables' bounds",
    }),
  })
  .meta({ id: "SchedPolicyCreateRequest" });
export type PolicyCreateRequest = z.infer<typeof PolicyCreateRequestSchema>;

export const VersionCreateRequestSchema = z
  .strictObject({
    source: PolicyCreateRequestSchema.shape.source,
    parameters: ParametersSchema.default({}),
    parentVersion: PolicyVersionSchema.optional().meta({
      description: "The version this one derives from; default the newest",
    }),
    description: PolicyMetadataFields.description.optional(),
    algorithm: PolicyMetadataFields.algorithm.optional(),
    useCases: PolicyMetadataFields.useCases.optional(),
    tunables: TunablesSchema.optional().meta({
      description: "This version's tunables; default the policy's current ones",
    }),
    limitations: PolicyMetadataFields.limitations.optional(),
  })
  .meta({ id: "SchedPolicyVersionCreateRequest" });
export type VersionCreateRequest = z.infer<typeof VersionCreateRequestSchema>;

export const PolicyListQuerySchema = PageQuerySchema.extend({
  q: z
    .string()
    .max(MAX_POLICY_QUERY_CHARS)
    .optional()
    .meta({ description: "Words to search for in name, description, algorithm and use cases" }),
  tag: UseCaseSchema.optional().meta({ description: "Only policies with this use case" }),
  workload: z
    .enum(WORKLOAD_CLASSES)
    .optional()
    .meta({ description: "Only policies whose use cases suit this workload class" }),
});

export const VersionListQuerySchema = PageQuerySchema;

export const HistoryQuerySchema = PageQuerySchema.extend({
  version: z.coerce.number().int().min(1).max(1_000_000).optional(),
  nodeId: NodeIdSchema.optional().meta({ description: "Only this node's history" }),
});

export const SchedVersionStatusSchema = z.enum(SCHED_VERSION_STATUSES);

export const SchedPolicySchema = z
  .object({
    id: z.string().meta({ example: "spol_fifo" }),
    builtin: z.boolean(),
    name: z.string(),
    description: z.string(),
    algorithm: z.string(),
    useCases: z.array(z.string()),
    tunables: z.array(TunableSchema),
    limitations: z.string(),
    opsName: z.string(),
    latestVersion: z.number().int(),
    latestStatus: SchedVersionStatusSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "SchedPolicy" });
export type SchedPolicyView = z.infer<typeof SchedPolicySchema>;

export const SchedPolicyPageSchema = z
  .object({
    items: z.array(
      SchedPolicySchema.extend({
        score: z.number().optional().meta({ description: "bm25 relevance, negated (with q)" }),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: "SchedPolicyPage" });

export const DiagnosticSchema = z
  .object({
    code: z.enum(Object.keys(DIAGNOSTIC_CODES) as [keyof typeof DIAGNOSTIC_CODES]),
    severity: z.enum(["error", "warning"]),
    message: z.string(),
    line: z.number().int().nullable(),
    column: z.number().int().nullable(),
    path: z.string(),
  })
  .meta({ id: "StaticCheckDiagnostic" });

export const SchedVersionSchema = z
  .object({
    policyId: z.string(),
    version: z.number().int(),
    parentVersion: z.number().int().nullable(),
    status: SchedVersionStatusSchema,
    statusReason: z.string().nullable(),
    sourceSha256: Sha256Schema,
    sourceSizeBytes: z.number().int(),
    objectSha256: Sha256Schema.nullable(),
    parameters: z.record(z.string(), z.union([z.number(), z.boolean()])),
    signed: z.object({ keyId: z.string(), signedAt: z.string(), expiresAt: z.string() }).nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "SchedPolicyVersion" });
export type SchedVersionView = z.infer<typeof SchedVersionSchema>;

export const StaticChecksSchema = z
  .object({ ok: z.boolean(), diagnostics: z.array(DiagnosticSchema) })
  .meta({ id: "StaticChecks" });

export const SchedVersionDetailSchema = SchedVersionSchema.extend({
  source: z.string(),
  tunables: z.array(TunableSchema),
  staticChecks: StaticChecksSchema,
  verification: VerifyResultSchema.nullable(),
  quarantine: z
    .object({ reason: z.string(), failedNodes: z.array(z.string()), quarantinedAt: z.string() })
    .nullable(),
}).meta({ id: "SchedPolicyVersionDetail" });
export type SchedVersionDetailView = z.infer<typeof SchedVersionDetailSchema>;

export const SchedVersionCreatedSchema = SchedVersionSchema.extend({
  staticChecks: StaticChecksSchema,
}).meta({ id: "SchedPolicyVersionCreated" });

export const SchedPolicyCreatedSchema = z
  .object({ policy: SchedPolicySchema, version: SchedVersionCreatedSchema })
  .meta({ id: "SchedPolicyCreated" });

export const SchedVersionPageSchema = z
  .object({ items: z.array(SchedVersionSchema), nextCursor: z.string().nullable() })
  .meta({ id: "SchedPolicyVersionPage" });

export const HistoryItemSchema = z
  .discriminatedUnion("kind", [
    z.object({
      kind: z.literal("rollout"),
      at: z.string(),
      policyId: z.string(),
      version: z.number().int(),
      rolloutId: z.string(),
      nodeId: z.string().nullable(),
      from: z.string(),
      to: z.string(),
      reason: z.string().nullable(),
    }),
    z.object({
      kind: z.literal("performance"),
      at: z.string(),
      policyId: z.string(),
      version: z.number().int(),
      rolloutId: z.string().nullable(),
      targetKind: z.enum(["node", "group"]),
      target: z.string(),
      workloadClass: z.string(),
      metricsBefore: z.record(z.string(), z.number()),
      metricsAfter: z.record(z.string(), z.number()),
      outcome: z.enum(OUTCOMES),
    }),
  ])
  .meta({ id: "SchedPolicyHistoryItem" });

export const HistoryPageSchema = z
  .object({ items: z.array(HistoryItemSchema), nextCursor: z.string().nullable() })
  .meta({ id: "SchedPolicyHistoryPage" });

export const OutcomeCreateRequestSchema = z
  .strictObject(OutcomeFields)
  .meta({ id: "SchedPolicyOutcomeRequest" });
export type OutcomeCreateRequest = z.infer<typeof OutcomeCreateRequestSchema>;

export const OutcomeSchema = z
  .object({
    id: z.string(),
    policyId: z.string(),
    version: z.number().int(),
    targetKind: z.enum(["node", "group"]),
    target: z.string().meta({ description: "A node id, or a selector as `k=v,k2=v2;role=node`" }),
    workloadClass: z.enum(WORKLOAD_CLASSES),
    metricsBefore: z.record(z.string(), z.number()),
    metricsAfter: z.record(z.string(), z.number()),
    outcome: z.enum(OUTCOMES),
    rolloutId: z.string().nullable(),
    recordedAt: z.string(),
  })
  .meta({ id: "SchedPolicyOutcome" });
export type OutcomeView = z.infer<typeof OutcomeSchema>;

export const VerifyRequestSchema = z
  .strictObject({
    workloadMs: z
      .int()
      .min(VERIFY_LIMITS.workloadMinMs)
      .max(VERIFY_LIMITS.workloadMaxMs)
      .optional()
      .meta({
        description: `How long the functional workload runs under the scheduler in the VM (default ${VERIFY_LIMITS.workloadDefaultMs})`,
      }),
    timeoutMs: z
      .int()
      .min(VERIFY_LIMITS.timeoutMinMs)
      .max(VERIFY_LIMITS.timeoutMaxMs)
      .optional()
      .meta({
        description: `How long the job may take before the version goes back to checked (default ${VERIFY_LIMITS.timeoutDefaultMs})`,
      }),
  })
  .meta({ id: "VerifyRequest" });

export const VerifyStartedSchema = z
  .object({
    jobId: z.string(),
    policyId: z.string(),
    version: z.int(),
    nodeId: z.string(),
    status: z.literal("verifying"),
    deadlineAt: z.string(),
  })
  .meta({ id: "VerifyStarted" });
