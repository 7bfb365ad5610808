/**
 * Schemas of the blackboard and artifact routes: the single source of truth for their inputs
 * and outputs, shared with the MCP tools (src/mcp/tools/blackboard.ts, artifacts.ts).
 */

import { z } from "zod";
import {
  ArtifactNameSchema,
  ArtifactRetentionSchema,
  BlackboardKeySchema,
  BlackboardPrefixSchema,
  IfVersionSchema,
} from "../kernel/agent/tools/board.js";
import { PageQuerySchema } from "./schemas.js";

// ---------------------------------------------------------------------------------------------
// blackboard

export const BlackboardKeyParam = z.object({
  key: BlackboardKeySchema.meta({ param: { name: "key", in: "path" }, example: "plan:step-1" }),
});

export const BlackboardPutBodySchema = z
  .strictObject({
    value: z.unknown().meta({ description: "Any JSON value, at most 64 KiB as JSON text" }),
    ifVersion: IfVersionSchema.optional(),
  })
  .meta({ id: "BlackboardPut" });

export const BlackboardEntrySchema = z
  .object({
    key: z.string(),
    version: z.number().int().meta({ description: "1 for the first write, +1 for every change" }),
    value: z.unknown(),
    sizeBytes: z.number().int(),
    updatedBy: z.string().meta({ description: "The process or key that wrote this version" }),
    updatedAt: z.string(),
  })
  .meta({ id: "BlackboardEntry" });

export const BlackboardKeySummarySchema = z
  .object({
    key: z.string(),
    version: z.number().int(),
    sizeBytes: z.number().int(),
    updatedBy: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "BlackboardKeySummary" });

export const BlackboardListQuerySchema = PageQuerySchema.extend({
  prefix: BlackboardPrefixSchema.optional(),
});

export const BlackboardPageSchema = z
  .object({ items: z.array(BlackboardKeySummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: "BlackboardPage" });

export const BlackboardVersionSchema = z
  .object({
    key: z.string(),
    version: z.number().int(),
    op: z.enum(["put", "delete"]),
    value: z.unknown().meta({ description: "Null for a delete" }),
    writtenBy: z.string(),
    writtenAt: z.string(),
  })
  .meta({ id: "BlackboardVersion" });

export const BlackboardVersionPageSchema = z
  .object({ items: z.array(BlackboardVersionSchema), nextCursor: z.string().nullable() })
  .meta({ id: "BlackboardVersionPage" });

export const BlackboardDeleteQuerySchema = z.object({
  ifVersion: z.coerce
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .meta({ description: "Delete only if the key's current version is this" }),
});

export const BlackboardDeletedSchema = z
  .object({
    key: z.string(),
    deleted: z.literal(true),
    version: z.number().int().meta({ description: "The version the delete made (a tombstone)" }),
  })
  .meta({ id: "BlackboardDeleted" });

// ---------------------------------------------------------------------------------------------
// artifacts

const LabelQuery = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .meta({ description: "`key=value`; repeat for several labels" });

export const ArtifactIdParam = z.object({
  id: z.string().meta({ param: { name: "id", in: "path" }, example: "art_0193…" }),
});

export const ArtifactCreateQuerySchema = z.object({
  name: ArtifactNameSchema,
  processId: z
    .string()
    .max(64)
    .optional()
    .meta({ description: "The producing process (an agent key's own process by default)" }),
  retention: ArtifactRetentionSchema.default("keep"),
  label: LabelQuery,
});

export const ArtifactSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    contentType: z.string(),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    labels: z.record(z.string(), z.string()),
    retention: ArtifactRetentionSchema,
    processId: z.string().nullable().meta({ description: "The producing process, if any" }),
    createdBy: z.string(),
    createdAt: z.string(),
    contentUrl: z.string().meta({ description: "Where to download the bytes" }),
  })
  .meta({ id: "Artifact" });

export const ArtifactListQuerySchema = PageQuerySchema.extend({
  processId: z.string().max(64).optional().meta({ description: "Only this process's artifacts" }),
  type: z
    .string()
    .max(255)
    .optional()
    .meta({ description: "A content type, or `major/*` (e.g. `text/*`)" }),
  label: LabelQuery,
});

export const ArtifactPageSchema = z
  .object({ items: z.array(ArtifactSchema), nextCursor: z.string().nullable() })
  .meta({ id: "ArtifactPage" });

export const ArtifactDeletedSchema = z
  .object({ id: z.string(), deleted: z.literal(true) })
  .meta({ id: "ArtifactDeleted" });

export const PurgedSchema = z
  .object({
    id: z.string(),
    purged: z.literal(true),
    artifactsDeleted: z.number().int(),
    artifactsKept: z.number().int(),
    workspaceBlobsDeleted: z.number().int(),
  })
  .meta({ id: "ProcessPurged" });
