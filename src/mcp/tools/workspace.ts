/**
 * Workspace tools: read, write, list and delete a process's files, share and revoke paths.
 * Each is a thin adapter over the same function the HTTPS route calls
 * (src/objects/workspace-calls.ts), so a recipient's agent key reaches another process's files
 * only through a share, over MCP exactly as over HTTPS.
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { ApiError } from "../../api/problem.js";
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from "../../api/schemas.js";
import {
  EntryPageSchema,
  EntrySchema,
  EntryWriteSchema,
  RevokeRequestSchema,
  RevokeResultSchema,
  ShareRequestSchema,
  ShareResultSchema,
  WorkspaceListQuerySchema,
  WorkspacePathSchema,
} from "../../api/schemas-workspace.js";
import { ProcessIdSchema } from "../../kernel/process/record.js";
import { FILE_MAX_BYTES } from "../../kernel/workspace/limits.js";
import {
  bytesOf,
  deleteEntry,
  listEntries,
  readEntry,
  revokeShare,
  sharePath,
  writeEntry,
} from "../../objects/workspace-calls.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";

/** Most bytes `read_file` returns inline; larger files are for the HTTPS API (with Range). */
export const MCP_READ_MAX_BYTES = 1024 * 1024;

const ProcessIdArg = ProcessIdSchema.meta({
  description: "The process whose workspace (yours, or one that shared the path with you)",
});

const ReadFileInput = z.strictObject({ id: ProcessIdArg, path: WorkspacePathSchema });
const ReadFileOutput = {
  ...EntrySchema.shape,
  encoding: z.enum(["text", "base64"]),
  content: z.string(),
};
const WriteFileInput = z.strictObject({
  id: ProcessIdArg,
  path: WorkspacePathSchema,
  content: z.string().max(Math.ceil((FILE_MAX_BYTES * 4) / 3) + 4),
  encoding: z.enum(["text", "base64"]).default("text"),
  contentType: z.string().min(1).max(255).optional(),
});
const ListFilesInput = z.strictObject({
  id: ProcessIdArg,
  prefix: WorkspaceListQuerySchema.shape.prefix,
  limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT),
  cursor: WorkspaceListQuerySchema.shape.cursor,
});
const ShareInput = z.strictObject({ id: ProcessIdArg, ...ShareRequestSchema.shape });
const RevokeInput = z.strictObject({ id: ProcessIdArg, ...RevokeRequestSchema.shape });

async function collect(body: Uint8Array | ReadableStream): Promise<Uint8Array> {
  return body instanceof Uint8Array ? body : new Uint8Array(await new Response(body).arrayBuffer());
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

function fromBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    throw new ApiError("validation_failed", "content: not valid base64", {
      errors: [{ path: "content", message: "not valid base64", code: "invalid_format" }],
    });
  }
}

/**
 * Registers the workspace tools on `server`.
 *
 * @example registerWorkspaceTools(server, ctx)
 */
export function registerWorkspaceTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "read_file",
    {
      title: "Read a workspace file",
      description: `A file of a process's workspace (yours, or one shared with you): text, or base64 for binary; at most ${MCP_READ_MAX_BYTES} bytes (larger files: GET /v1/processes/{id}/workspace/files/{path} with Range).`,
      inputSchema: ReadFileInput,
      outputSchema: ReadFileOutput,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "read_file", args, async () => {
        const read = await readEntry(ctx.env, ctx.db, ctx.caller.principal, {
          processId: args.id,
          kind: "file",
          path: args.path,
        });
        if (read.entry.sizeBytes > MCP_READ_MAX_BYTES) {
          throw new ApiError(
            "payload_too_large",
            `${args.path} has ${read.entry.sizeBytes} bytes; read_file returns at most ${MCP_READ_MAX_BYTES}: use the HTTPS API with Range`,
            { extra: { limitBytes: MCP_READ_MAX_BYTES } },
          );
        }
        const bytes = await collect(await bytesOf(ctx.env, read, null));
        let content: string;
        let encoding: "text" | "base64" = "text";
        try {
          content = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
        } catch {
          content = toBase64(bytes);
          encoding = "base64";
        }
        return {
          structured: { ...read.entry, encoding, content },
          summary: `${read.entry.path}: ${read.entry.sizeBytes} bytes of ${read.entry.contentType}, version ${read.entry.version}.`,
        };
      }),
  );

  server.registerTool(
    "write_file",
    {
      title: "Write a workspace file",
      description:
        "Create or overwrite a file in a process's workspace (yours, or one shared with you for writing); content is text, or base64 with encoding=base64. All or nothing: at a quota nothing is written.",
      inputSchema: WriteFileInput,
      outputSchema: EntryWriteSchema.shape,
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(ctx, "write_file", args, async () => {
        const bytes =
          args.encoding === "base64"
            ? fromBase64(args.content)
            : new TextEncoder().encode(args.content);
        const contentType =
          args.contentType ??
          (args.encoding === "base64" ? "application/octet-stream" : "text/plain; charset=utf-8");
        const { entry, created } = await writeEntry(ctx.env, ctx.db, ctx.caller.principal, {
          processId: args.id,
          kind: "file",
          path: args.path,
          bytes,
          contentType,
        });
        return {
          structured: { ...entry, created },
          summary: `${created ? "Created" : "Overwrote"} ${entry.path} (${entry.sizeBytes} bytes, version ${entry.version}).`,
          detail: { path: entry.path, sizeBytes: entry.sizeBytes, created },
        };
      }),
  );

  server.registerTool(
    "list_files",
    {
      title: "List workspace files",
      description:
        "Files of a process's workspace under a prefix, in path order (only the shared ones when it is another process's); pass nextCursor back as cursor.",
      inputSchema: ListFilesInput,
      outputSchema: EntryPageSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "list_files", args, async () => {
        const page = await listEntries(ctx.env, ctx.db, ctx.caller.principal, {
          processId: args.id,
          kind: "file",
          prefix: args.prefix,
          limit: args.limit,
          cursor: args.cursor,
        });
        const more = page.nextCursor ? " (more: pass nextCursor as cursor)" : "";
        return { structured: page, summary: `${page.items.length} files${more}.` };
      }),
  );

  server.registerTool(
    "delete_file",
    {
      title: "Delete a workspace file",
      description:
        "Delete a file of a process's workspace (yours, or one shared with you for writing).",
      inputSchema: ReadFileInput,
      outputSchema: EntrySchema.shape,
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(ctx, "delete_file", args, async () => {
        const entry = await deleteEntry(ctx.env, ctx.db, ctx.caller.principal, {
          processId: args.id,
          kind: "file",
          path: args.path,
        });
        return {
          structured: { ...entry },
          summary: `Deleted ${entry.path}.`,
          detail: { path: entry.path },
        };
      }),
  );

  server.registerTool(
    "share_path",
    {
      title: "Share a workspace path",
      description:
        "Grant other processes of your tenant read or write on a path of a process's workspace, or on everything under a prefix ending in /.",
      inputSchema: ShareInput,
      outputSchema: ShareResultSchema.shape,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(ctx, "share_path", args, async () => {
        const { id, ...share } = args;
        const result = await sharePath(ctx.env, ctx.db, ctx.caller.principal, {
          processId: id,
          ...share,
        });
        return {
          structured: result,
          summary: `${share.path} is shared ${share.mode} with ${share.recipients.join(", ")}.`,
          detail: { path: share.path, recipients: share.recipients, mode: share.mode },
        };
      }),
  );

  server.registerTool(
    "revoke_share",
    {
      title: "Revoke a workspace share",
      description:
        "Withdraw a path's shares from the processes named (from everyone when none are); their next reads answer not found.",
      inputSchema: RevokeInput,
      outputSchema: RevokeResultSchema.shape,
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(ctx, "revoke_share", args, async () => {
        const { id, ...revoke } = args;
        const result = await revokeShare(ctx.env, ctx.db, ctx.caller.principal, {
          processId: id,
          ...revoke,
        });
        return {
          structured: result,
          summary: `Revoked ${result.revoked} share(s) of ${revoke.path}.`,
          detail: { path: revoke.path, ...result },
        };
      }),
  );
}
