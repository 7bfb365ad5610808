/**
 * Request and response schemas of the HTTPS API. They reuse the kernel's schemas wherever the
 * kernel already defines the thing, and carry the OpenAPI names the document shows.
 */

import { z } from "zod";
import {
  AgentTypeNameSchema,
  BudgetSchema,
  CapabilityNameSchema,
  LabelsSchema,
  PRIORITY_DEFAULT,
  PRIORITY_MAX,
  PRIORITY_MIN,
  PROCESS_LIMITS,
  ProcessEventRecordSchema,
  ProcessIdSchema,
  ProcessRecordSchema,
  SemverSchema,
  TenantIdSchema,
} from "../kernel/process/record.js";
import { PROCESS_STATES } from "../kernel/process/state.js";
import { MAX_SCRIPTED_TURNS, ScriptedTurnSchema } from "../llm/scripted.js";
import { PoolNameSchema } from "../objects/pools.js";
import { KEY_ROLES } from "../store/api-keys.js";

/** The largest page any list route returns. */
export const MAX_PAGE_LIMIT = 100;
export const DEFAULT_PAGE_LIMIT = 20;

export const PageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_LIMIT)
    .default(DEFAULT_PAGE_LIMIT)
    .meta({ description: `Page size, 1 to ${MAX_PAGE_LIMIT}` }),
  cursor: z
    .string()
    .max(256)
    .optional()
    .meta({ description: "The `nextCursor` of the previous page" }),
});

export const ReasonBodySchema = z
  .strictObject({ reason: z.string().min(1).max(PROCESS_LIMITS.reasonChars).optional() })
  .meta({ id: "SignalRequest" });

export const SpawnRequestSchema = z
  .strictObject({
    type: AgentTypeNameSchema.meta({ description: "Agent type name" }),
    version: SemverSchema.optional().meta({
      description: "Pin a version; default is the newest active one",
    }),
    goal: z.string().min(1).max(PROCESS_LIMITS.goalChars),
    priority: z
      .number()
      .int()
      .min(PRIORITY_MIN)
      .max(PRIORITY_MAX)
      .default(PRIORITY_DEFAULT)
      .meta({ description: "0 interactive, 1 normal, 2 batch" }),
    labels: LabelsSchema.default({}),
    parentId: ProcessIdSchema.optional(),
    budget: BudgetSchema.partial().strict().optional().meta({
      description: "Overrides of the agent type's default budget",
    }),
    capabilities: z
      .array(CapabilityNameSchema)
      .max(PROCESS_LIMITS.capabilities)
      .optional()
      .meta({ description: "A subset of the type's capabilities; default all of them" }),
    script: z.array(ScriptedTurnSchema).max(MAX_SCRIPTED_TURNS).optional().meta({
      description:
        "Assistant turns for an agent type that runs the built-in `scripted` model (offline demos and tests)",
    }),
    paused: z
      .boolean()
      .default(false)
      .meta({ description: "Start suspended: the process waits in `paused` until resumed" }),
  })
  .meta({ id: "SpawnRequest" });
export type SpawnRequest = z.infer<typeof SpawnRequestSchema>;

export const ProcessSchema = ProcessRecordSchema.meta({ id: "Process" });
export const ProcessEventSchema = ProcessEventRecordSchema.meta({ id: "ProcessEvent" });

export const ProcessListQuerySchema = PageQuerySchema.extend({
  status: z.enum(PROCESS_STATES).optional(),
  type: AgentTypeNameSchema.optional(),
  label: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .meta({ description: "`key=value`; repeat to require several labels" }),
});

export const ProcessSummarySchema = z
  .object({
    id: ProcessIdSchema,
    type: z.object({ name: z.string(), version: z.string() }),
    status: z.enum(PROCESS_STATES),
    priority: z.number().int(),
    labels: z.record(z.string(), z.string()),
    parentId: ProcessIdSchema.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "ProcessSummary" });

export const ProcessPageSchema = z
  .object({ items: z.array(ProcessSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: "ProcessPage" });

export const EventPageSchema = z
  .object({ items: z.array(ProcessEventSchema), nextCursor: z.string().nullable() })
  .meta({ id: "ProcessEventPage" });

export const AgentTypeSchema = z
  .object({
    name: AgentTypeNameSchema,
    version: SemverSchema,
    description: z.string(),
    model: z.string(),
    systemPrompt: z.string(),
    defaultBudget: BudgetSchema,
    capabilities: z.array(CapabilityNameSchema),
    pool: z.string(),
    status: z.enum(["active", "deprecated"]),
    builtin: z.boolean(),
    createdAt: z.string(),
  })
  .meta({ id: "AgentType" });

export const CreateAgentTypeSchema = z
  .strictObject({
    name: AgentTypeNameSchema,
    version: SemverSchema,
    description: z.string().max(2_000).default(""),
    model: z.string().min(1).max(200).meta({
      description:
        "`scripted` or `provider:model`, e.g. `workers-ai:@cf/meta/llama-3.1-8b-instruct`",
    }),
    systemPrompt: z.string().max(32_000).default(""),
    defaultBudget: BudgetSchema.strict(),
    capabilities: z.array(CapabilityNameSchema).max(PROCESS_LIMITS.capabilities).default([]),
    script: z.array(ScriptedTurnSchema).max(MAX_SCRIPTED_TURNS).optional().meta({
      description: "Default assistant turns when the model is `scripted`",
    }),
    pool: PoolNameSchema.optional().meta({
      description: "Scheduler pool for its processes; default: the pool named after the model",
    }),
    status: z.enum(["active", "deprecated"]).default("active"),
  })
  .meta({ id: "CreateAgentTypeRequest" });

export const AgentTypeListSchema = z
  .object({ items: z.array(AgentTypeSchema) })
  .meta({ id: "AgentTypeList" });

export const CreateTenantSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9-]{1,62}$/,
        "lowercase letters, digits and dashes, 2 to 63 characters",
      ),
  })
  .meta({ id: "CreateTenantRequest" });

export const TenantSchema = z
  .object({ id: TenantIdSchema, name: z.string(), status: z.string(), createdAt: z.string() })
  .meta({ id: "Tenant" });

export const CreateKeySchema = z
  .strictObject({
    tenantId: TenantIdSchema.optional().meta({
      description: "Required for the system administrator; a tenant admin may omit it",
    }),
    name: z.string().min(1).max(100),
    role: z.enum(KEY_ROLES),
    processId: ProcessIdSchema.optional().meta({
      description: "Makes an agent key that acts as this process only",
    }),
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(365 * 24 * 3600)
      .optional(),
  })
  .meta({ id: "CreateKeyRequest" });

export const ApiKeySchema = z
  .object({
    id: z.string(),
    tenantId: TenantIdSchema,
    name: z.string(),
    role: z.enum(KEY_ROLES),
    processId: ProcessIdSchema.nullable(),
    prefix: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: "ApiKey" });

export const CreatedKeySchema = ApiKeySchema.extend({
  secret: z.string().meta({ description: "Shown once; only a hash is stored" }),
}).meta({ id: "CreatedApiKey" });

export const KeyListQuerySchema = PageQuerySchema.extend({ tenantId: TenantIdSchema.optional() });
export const KeyPageSchema = z
  .object({ items: z.array(ApiKeySchema), nextCursor: z.string().nullable() })
  .meta({ id: "ApiKeyPage" });

export const AuditQuerySchema = PageQuerySchema.extend({
  tenantId: TenantIdSchema.optional().meta({ description: "System administrator only" }),
  actor: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  from: z.iso.datetime({ offset: true }).optional().meta({ description: "Inclusive, RFC 3339" }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: "Inclusive, RFC 3339" }),
});

export const AuditRecordSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    tenantId: TenantIdSchema.nullable(),
    actor: z.string(),
    actorRole: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    decision: z.enum(["allow", "deny", "error"]),
    status: z.number().int(),
    requestId: z.string(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: "AuditRecord" });

export const AuditPageSchema = z
  .object({ items: z.array(AuditRecordSchema), nextCursor: z.string().nullable() })
  .meta({ id: "AuditPage" });
