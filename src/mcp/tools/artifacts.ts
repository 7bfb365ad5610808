/**
 * Artifact tools: list, get metadata, get content (text or base64, at most 512 KiB per call:
 * use offset and length, or the HTTPS download, for more) and put. Thin adapters over the same
 * functions the HTTPS routes call (src/objects/board-reads.ts, board-writes.ts).
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { ApiError } from "../../api/problem.js";
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, PageQuerySchema } from "../../api/schemas.js";
import {
  ArtifactListQuerySchema,
  ArtifactPageSchema,
  ArtifactSchema,
} from "../../api/schemas-board.js";
import {
  ArtifactLabelsSchema,
  ArtifactNameSchema,
  ArtifactRetentionSchema,
  BOARD_LIMITS,
  ContentTypeSchema,
} from "../../kernel/agent/tools/board.js";
import { getArtifactAs, listArtifactsAs, readArtifactAs } from "../../objects/board-reads.js";
import { createArtifactAs } from "../../objects/board-writes.js";
import { base64ToBytes, bytesToBase64 } from "../../objects/tools/board.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";

const LimitSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_PAGE_LIMIT)
  .default(DEFAULT_PAGE_LIMIT)
  .meta({ description: `Page size, 1 to ${MAX_PAGE_LIMIT}` });

const ArtifactIdArg = z.string().max(64).meta({ description: "The artifact id, `art_…`" });

export const ArtifactListInput = z.strictObject({
  processId: ArtifactListQuerySchema.shape.processId,
  type: ArtifactListQuerySchema.shape.type,
  labels: ArtifactLabelsSchema.optional().meta({
    description: "Only artifacts carrying every label",
  }),
  limit: LimitSchema,
  cursor: PageQuerySchema.shape.cursor,
});

export const ArtifactGetInput = z.strictObject({ id: ArtifactIdArg });

export const ArtifactContentInput = z.strictObject({
  id: ArtifactIdArg,
  offset: z.number().int().min(0).optional().meta({ description: "First byte to read" }),
  length: z
    .number()
    .int()
    .min(0)
    .max(BOARD_LIMITS.artifactInlineBytes)
    .optional()
    .meta({ description: `Bytes to read, at most ${BOARD_LIMITS.artifactInlineBytes}` }),
  encoding: z
    .enum(["auto", "text", "base64"])
    .default("auto")
    .meta({ description: "`auto`: text when the bytes are UTF-8 text, otherwise base64" }),
});

export const ArtifactPutInput = z.strictObject({
  name: ArtifactNameSchema,
  content: z.string().meta({ description: "The content, as text or base64 (see `encoding`)" }),
  encoding: z.enum(["text", "base64"]).default("text"),
  contentType: ContentTypeSchema.optional(),
  labels: ArtifactLabelsSchema.optional(),
  retention: ArtifactRetentionSchema.default("keep"),
  processId: z
    .string()
    .max(64)
    .optional()
    .meta({ description: "The producing process (an agent key's own process by default)" }),
});

const ContentOutput = {
  id: z.string(),
  name: z.string(),
  contentType: z.string(),
  sizeBytes: z.number().int(),
  offset: z.number().int(),
  length: z.number().int(),
  encoding: z.enum(["text", "base64"]),
  content: z.string(),
};

/** Control characters other than tab, newline and carriage return: a sign of binary data. */
function hasBinaryControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return true;
  }
  return false;
}

/**
 * The bytes as UTF-8 text, or null when they are not text (invalid UTF-8, or with control
 * characters only binary data carries; `strict` skips that second check).
 */
function asText(bytes: Uint8Array, strict: boolean): string | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
  return strict && hasBinaryControl(text) ? null : text;
}

/**
 * Registers the artifact tools on `server` for the caller in `ctx`.
 *
 * @example registerArtifactTools(server, ctx)
 */
export function registerArtifactTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "artifact_list",
    {
      title: "List artifacts",
      description:
        "Your tenant's artifacts (final outputs of processes), newest first, filtered by producing process, content type (`text/*` allowed) and labels.",
      inputSchema: ArtifactListInput,
      outputSchema: ArtifactPageSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "artifact_list", {}, async () => {
        const page = await listArtifactsAs(ctx.env, ctx.db, ctx.caller.principal, {
          ...args,
          labels: args.labels ?? {},
        });
        const more = page.nextCursor ? " (more: pass nextCursor as cursor)" : "";
        return { structured: page, summary: `${page.items.length} artifacts${more}.` };
      }),
  );

  server.registerTool(
    "artifact_get",
    {
      title: "Get an artifact's metadata",
      description:
        "An artifact's name, content type, size, SHA-256, labels, producer and retention.",
      inputSchema: ArtifactGetInput,
      outputSchema: ArtifactSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "artifact_get", args, async () => {
        const a = await getArtifactAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return {
          structured: a,
          summary: `${a.id} "${a.name}" (${a.contentType}, ${a.sizeBytes} bytes).`,
        };
      }),
  );

  server.registerTool(
    "artifact_get_content",
    {
      title: "Read an artifact's content",
      description: `An artifact's bytes as text or base64, at most ${BOARD_LIMITS.artifactInlineBytes} bytes per call (use offset and length to read a larger one in parts).`,
      inputSchema: ArtifactContentInput,
      outputSchema: ContentOutput,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "artifact_get_content", args, async () => {
        const { meta, offset, bytes } = await readArtifactAs(
          ctx.env,
          ctx.db,
          ctx.caller.principal,
          args,
        );
        const text = args.encoding === "base64" ? null : asText(bytes, args.encoding === "auto");
        if (args.encoding === "text" && text === null) {
          throw new ApiError("validation_failed", "the bytes are not UTF-8 text: ask for base64", {
            errors: [{ path: "encoding", message: "not UTF-8 text", code: "invalid" }],
          });
        }
        const structured = {
          id: meta.id,
          name: meta.name,
          contentType: meta.contentType,
          sizeBytes: meta.sizeBytes,
          offset,
          length: bytes.byteLength,
          encoding: text === null ? ("base64" as const) : ("text" as const),
          content: text ?? bytesToBase64(bytes),
        };
        return {
          structured,
          summary: `${bytes.byteLength} of ${meta.sizeBytes} bytes of ${meta.id} from offset ${offset}, as ${structured.encoding}.`,
        };
      }),
  );

  server.registerTool(
    "artifact_put",
    {
      title: "Store an artifact",
      description: `Store a final output (report, code, dataset) as an artifact: text or base64 \`content\` (at most ${BOARD_LIMITS.artifactInlineBytes} bytes here; larger ones through POST /v1/artifacts), a name, a content type and labels.`,
      inputSchema: ArtifactPutInput,
      outputSchema: ArtifactSchema.shape,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(ctx, "artifact_put", {}, async () => {
        const bytes =
          args.encoding === "base64"
            ? base64ToBytes(args.content)
            : new TextEncoder().encode(args.content);
        if (!bytes) {
          throw new ApiError("validation_failed", "content: not valid base64", {
            errors: [{ path: "content", message: "not valid base64", code: "invalid_format" }],
          });
        }
        if (bytes.byteLength > BOARD_LIMITS.artifactInlineBytes) {
          throw new ApiError(
            "payload_too_large",
            `content is ${bytes.byteLength} bytes; MCP takes at most ${BOARD_LIMITS.artifactInlineBytes} (use POST /v1/artifacts)`,
            { extra: { limitBytes: BOARD_LIMITS.artifactInlineBytes } },
          );
        }
        const a = await createArtifactAs(ctx.env, ctx.db, ctx.caller.principal, {
          name: args.name,
          processId: args.processId,
          contentType:
            args.contentType ??
            (args.encoding === "text" ? "text/plain; charset=utf-8" : "application/octet-stream"),
          retention: args.retention,
          labels: args.labels ?? {},
          bytes,
        });
        return {
          structured: a,
          summary: `Stored ${a.id} "${a.name}" (${a.contentType}, ${a.sizeBytes} bytes).`,
          target: a.id,
          detail: { name: a.name, sizeBytes: a.sizeBytes, processId: a.processId },
        };
      }),
  );
}
