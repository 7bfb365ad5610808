/**
 * Workspace schemas: one definition each for the HTTPS routes and the MCP tools (the MCP input
 * shapes are built from the same fields).
 */

import { z } from "@hono/zod-openapi";
import {
  FILE_MAX_BYTES,
  INLINE_MAX_BYTES,
  PATH_MAX_BYTES,
  SHARE_MAX_RECIPIENTS,
} from "../kernel/workspace/limits.js";
import { PageQuerySchema } from "./schemas.js";

export const WorkspacePathSchema = z
  .string()
  .min(1)
  .max(PATH_MAX_BYTES)
  .meta({
    description: `A path such as \`reports/week-47.md\`: \`/\`-separated segments, none empty, \`.\` or \`..\`; at most ${PATH_MAX_BYTES} bytes of UTF-8`,
  });

export const SharePathSchema = z
  .string()
  .min(1)
  .max(PATH_MAX_BYTES)
  .meta({ description: "A path, or a prefix ending in `/` that shares everything under it" });

export const ShareModeSchema = z
  .enum(["read", "write"])
  .meta({ description: "`write` includes read, overwrite and delete" });

export const EntrySchema = z
  .object({
    kind: z.enum(["file", "kv"]),
    path: z.string(),
    sizeBytes: z.number().int(),
    sha256: z.string().meta({ description: "Hex SHA-256 of the bytes; also the ETag" }),
    contentType: z.string(),
    storedIn: z.enum(["object", "r2"]).meta({
      description: `\`object\`: in the process's own Durable Object (up to ${INLINE_MAX_BYTES} bytes); \`r2\`: larger values, content-addressed`,
    }),
    version: z.number().int().meta({ description: "1 when created, +1 on each overwrite" }),
    updatedAt: z.string(),
  })
  .meta({ id: "WorkspaceEntry" });

export const EntryWriteSchema = EntrySchema.extend({ created: z.boolean() }).meta({
  id: "WorkspaceEntryWritten",
});

export const EntryPageSchema = z
  .object({ items: z.array(EntrySchema), nextCursor: z.string().nullable() })
  .meta({ id: "WorkspaceEntryPage" });

export const WorkspaceListQuerySchema = PageQuerySchema.extend({
  prefix: z
    .string()
    .max(PATH_MAX_BYTES)
    .optional()
    .meta({ description: "Only paths starting with this" }),
  cursor: z
    .string()
    .max(1400)
    .optional()
    .meta({ description: "The `nextCursor` of the previous page" }),
});

export const KvValueSchema = z
  .object({
    key: z.string(),
    value: z.unknown(),
    version: z.number().int(),
    sizeBytes: z.number().int(),
    updatedAt: z.string(),
  })
  .meta({ id: "WorkspaceKey" });

export const ShareRequestSchema = z
  .strictObject({
    path: SharePathSchema,
    recipients: z
      .array(z.string().min(1).max(64))
      .min(1)
      .max(SHARE_MAX_RECIPIENTS)
      .meta({ description: "Process ids of the same tenant" }),
    mode: ShareModeSchema.default("read"),
  })
  .meta({ id: "ShareRequest" });

export const RevokeRequestSchema = z
  .strictObject({
    path: SharePathSchema,
    recipients: z
      .array(z.string().min(1).max(64))
      .min(1)
      .max(SHARE_MAX_RECIPIENTS)
      .optional()
      .meta({ description: "Whom to revoke; everyone the path is shared with when absent" }),
  })
  .meta({ id: "RevokeRequest" });

export const ShareGrantSchema = z
  .object({
    path: z.string(),
    recipient: z.string(),
    mode: ShareModeSchema,
    grantedBy: z.string(),
    grantedAt: z.string(),
  })
  .meta({ id: "ShareGrant" });

export const ShareListSchema = z
  .object({ items: z.array(ShareGrantSchema) })
  .meta({ id: "ShareList" });
export const ShareResultSchema = z
  .object({ shares: z.array(ShareGrantSchema) })
  .meta({ id: "ShareResult" });
export const RevokeResultSchema = z
  .object({ revoked: z.number().int() })
  .meta({ id: "RevokeResult" });

const UsageLine = z.object({
  bytes: z.number().int(),
  objects: z.number().int(),
  maxBytes: z.number().int(),
  maxObjects: z.number().int(),
});
export const UsageSchema = z
  .object({ process: UsageLine, tenant: UsageLine })
  .meta({ id: "WorkspaceUsage" });

export { FILE_MAX_BYTES };
