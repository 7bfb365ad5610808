/**
 * The workspace tools: a process reads and writes its own files (or another process's, where
 * that process shared them: name it as `owner`) and shares its paths. Each tool names the
 * capability it needs; the gate checks it before the tool runs.
 */

import { z } from "zod";
import { FILE_MAX_BYTES, PATH_MAX_BYTES, SHARE_MAX_RECIPIENTS } from "../../workspace/limits.js";
import type { ToolSpec } from "./spec.js";

/** Most bytes one `ws_read` returns to the model; larger files are read with offset/length. */
export const TOOL_READ_MAX_BYTES = 256 * 1024;

const PathArg = z.string().min(1).max(PATH_MAX_BYTES).meta({ description: "e.g. notes/plan.md" });
const OwnerArg = z
  .string()
  .min(1)
  .max(64)
  .optional()
  .meta({ description: "The process whose workspace to use, when it shared a path with you" });

export const WsReadArgsSchema = z.strictObject({
  path: PathArg,
  owner: OwnerArg,
  offset: z.number().int().min(0).optional(),
  length: z.number().int().min(1).max(TOOL_READ_MAX_BYTES).optional(),
});
export const WsWriteArgsSchema = z.strictObject({
  path: PathArg,
  content: z.string().max(Math.ceil((FILE_MAX_BYTES * 4) / 3) + 4),
  encoding: z.enum(["text", "base64"]).default("text"),
  contentType: z.string().min(1).max(255).optional(),
  owner: OwnerArg,
});
export const WsListArgsSchema = z.strictObject({
  prefix: z.string().max(PATH_MAX_BYTES).optional(),
  owner: OwnerArg,
  limit: z.number().int().min(1).max(100).default(50),
  cursor: z.string().max(1400).optional(),
});
export const WsDeleteArgsSchema = z.strictObject({ path: PathArg, owner: OwnerArg });
export const WsShareArgsSchema = z.strictObject({
  path: z.string().min(1).max(PATH_MAX_BYTES).meta({
    description: "A path, or a prefix ending in / to share everything under it",
  }),
  recipients: z.array(z.string().min(1).max(64)).min(1).max(SHARE_MAX_RECIPIENTS),
  mode: z.enum(["read", "write"]).default("read"),
  /** Withdraw the share instead of granting it. */
  revoke: z.boolean().default(false),
});

export const WORKSPACE_TOOLS = {
  ws_read: {
    capability: "ws.read",
    description: `Read a file of your workspace (or one another process shared with you: pass owner). Returns text, or base64 for binary; at most ${TOOL_READ_MAX_BYTES} bytes per call (use offset and length for more).`,
    args: WsReadArgsSchema,
  },
  ws_write: {
    capability: "ws.write",
    description:
      "Write a file in your workspace (or in one shared with you for writing: pass owner). content is text, or base64 with encoding=base64.",
    args: WsWriteArgsSchema,
  },
  ws_list: {
    capability: "ws.read",
    description:
      "List files of your workspace (or the ones another process shared with you) under a prefix.",
    args: WsListArgsSchema,
  },
  ws_delete: {
    capability: "ws.write",
    description: "Delete a file of your workspace (or one shared with you for writing).",
    args: WsDeleteArgsSchema,
  },
  ws_share: {
    capability: "ws.share",
    description:
      "Share a path (or a prefix ending in /) of your workspace with other processes of your tenant, read or write; revoke=true withdraws it.",
    args: WsShareArgsSchema,
  },
} as const satisfies Record<string, ToolSpec>;
