/**
 * Tool input and output schemas, built from the HTTPS API's zod definitions so both surfaces
 * validate the same fields the same way. MCP wants a plain object at the root of every schema:
 * inputs are fresh strict objects over the API's fields, outputs are raw shapes (the SDK wraps
 * them), so no root ever becomes a `$ref` to a named OpenAPI component.
 */

import { z } from "zod";
import {
  AgentTypeListSchema,
  AuditPageSchema,
  AuditQuerySchema,
  DEFAULT_PAGE_LIMIT,
  MAX_PAGE_LIMIT,
  PageQuerySchema,
  ProcessListQuerySchema,
  ProcessPageSchema,
  ProcessSchema,
  ReasonBodySchema,
  SpawnRequestSchema,
} from "../../api/schemas.js";
import { LabelsSchema, ProcessIdSchema } from "../../kernel/process/record.js";
import { IDEMPOTENCY_KEY_PATTERN } from "../../objects/process-calls.js";

/** JSON has real numbers, so MCP takes `limit` as one (the HTTPS query coerces a string). */
const LimitSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_PAGE_LIMIT)
  .default(DEFAULT_PAGE_LIMIT)
  .meta({ description: `Page size, 1 to ${MAX_PAGE_LIMIT}` });

const ProcessIdArg = ProcessIdSchema.meta({ description: "The process id, `proc_…`" });

export const SpawnProcessInput = z.strictObject({
  ...SpawnRequestSchema.shape,
  idempotencyKey: z
    .string()
    .regex(IDEMPOTENCY_KEY_PATTERN, "1 to 255 printable ASCII characters")
    .optional()
    .meta({
      description:
        "Retry-safe spawn: a repeat with the same key and arguments returns the first process",
    }),
});

export const ListProcessesInput = z.strictObject({
  status: ProcessListQuerySchema.shape.status,
  type: ProcessListQuerySchema.shape.type,
  labels: LabelsSchema.optional().meta({ description: "Only processes carrying every label" }),
  limit: LimitSchema,
  cursor: PageQuerySchema.shape.cursor,
});

export const ProcessIdInput = z.strictObject({ id: ProcessIdArg });

export const SignalInput = z.strictObject({
  id: ProcessIdArg,
  reason: ReasonBodySchema.shape.reason,
});

export const EmptyInput = z.strictObject({});

export const QueryAuditInput = z.strictObject({
  tenantId: AuditQuerySchema.shape.tenantId,
  actor: AuditQuerySchema.shape.actor,
  action: AuditQuerySchema.shape.action,
  from: AuditQuerySchema.shape.from,
  to: AuditQuerySchema.shape.to,
  limit: LimitSchema,
  cursor: PageQuerySchema.shape.cursor,
});

export const ProcessOutput = ProcessSchema.shape;
export const SpawnOutput = {
  ...ProcessSchema.shape,
  replayed: z
    .boolean()
    .meta({ description: "True when an idempotency key matched an earlier spawn" }),
};
export const SignalOutput = {
  ...ProcessSchema.shape,
  changed: z
    .boolean()
    .meta({ description: "False when the signal changed nothing (an ended process)" }),
};
export const ProcessPageOutput = ProcessPageSchema.shape;
export const AgentTypeListOutput = AgentTypeListSchema.shape;
export const AuditPageOutput = AuditPageSchema.shape;
