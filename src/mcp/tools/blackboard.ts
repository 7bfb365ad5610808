/**
 * Blackboard tools: get, put (compare-and-set with `ifVersion`), delete and list keys of the
 * tenant-wide blackboard. Thin adapters over the same functions the HTTPS routes call
 * (src/objects/board-reads.ts, board-writes.ts).
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, PageQuerySchema } from "../../api/schemas.js";
import {
  BlackboardDeletedSchema,
  BlackboardEntrySchema,
  BlackboardPageSchema,
} from "../../api/schemas-board.js";
import {
  BlackboardKeySchema,
  BlackboardPrefixSchema,
  IfVersionSchema,
} from "../../kernel/agent/tools/board.js";
import { getBlackboardAs, listBlackboardAs } from "../../objects/board-reads.js";
import { deleteBlackboardAs, putBlackboardAs } from "../../objects/board-writes.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";

const LimitSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_PAGE_LIMIT)
  .default(DEFAULT_PAGE_LIMIT)
  .meta({ description: `Page size, 1 to ${MAX_PAGE_LIMIT}` });

export const BlackboardGetInput = z.strictObject({ key: BlackboardKeySchema });
export const BlackboardPutInput = z.strictObject({
  key: BlackboardKeySchema,
  value: z.unknown().meta({ description: "Any JSON value, at most 64 KiB as JSON text" }),
  ifVersion: IfVersionSchema.optional(),
});
export const BlackboardDeleteInput = z.strictObject({
  key: BlackboardKeySchema,
  ifVersion: IfVersionSchema.min(1).optional(),
});
export const BlackboardListInput = z.strictObject({
  prefix: BlackboardPrefixSchema.optional(),
  limit: LimitSchema,
  cursor: PageQuerySchema.shape.cursor,
});

/**
 * Registers the blackboard tools on `server` for the caller in `ctx`.
 *
 * @example registerBlackboardTools(server, ctx)
 */
export function registerBlackboardTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "blackboard_get",
    {
      title: "Read a blackboard key",
      description:
        "The value and version of a key on your tenant's shared blackboard. Pass the version as `ifVersion` to blackboard_put for a safe read-modify-write.",
      inputSchema: BlackboardGetInput,
      outputSchema: BlackboardEntrySchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "blackboard_get", {}, async () => {
        const entry = await getBlackboardAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return { structured: entry, summary: `${entry.key} is at version ${entry.version}.` };
      }),
  );

  server.registerTool(
    "blackboard_put",
    {
      title: "Write a blackboard key",
      description:
        "Write a JSON value to a key on your tenant's shared blackboard; every write makes a new version. With `ifVersion` (the version you read; 0 for a key that must not exist yet) a stale write is refused with the current version and value.",
      inputSchema: BlackboardPutInput,
      outputSchema: { ...BlackboardEntrySchema.shape, created: z.boolean() },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(ctx, "blackboard_put", {}, async () => {
        const { entry, created } = await putBlackboardAs(
          ctx.env,
          ctx.db,
          ctx.caller.principal,
          args,
        );
        return {
          structured: { ...entry, created },
          summary: `${created ? "Created" : "Updated"} ${entry.key}: now version ${entry.version}.`,
          target: entry.key,
          detail: { version: entry.version, ifVersion: args.ifVersion ?? null },
        };
      }),
  );

  server.registerTool(
    "blackboard_delete",
    {
      title: "Delete a blackboard key",
      description:
        "Delete a key from your tenant's shared blackboard (its history stays). With `ifVersion`, only if it is still at that version.",
      inputSchema: BlackboardDeleteInput,
      outputSchema: BlackboardDeletedSchema.shape,
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args) =>
      runTool(ctx, "blackboard_delete", {}, async () => {
        const out = await deleteBlackboardAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return {
          structured: out,
          summary: `Deleted ${out.key} (tombstone version ${out.version}).`,
          target: out.key,
          detail: { version: out.version, ifVersion: args.ifVersion ?? null },
        };
      }),
  );

  server.registerTool(
    "blackboard_list",
    {
      title: "List blackboard keys",
      description:
        "Keys of your tenant's shared blackboard starting with `prefix`, in key order, with their versions (not values); pass `nextCursor` back as `cursor` for the next page.",
      inputSchema: BlackboardListInput,
      outputSchema: BlackboardPageSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "blackboard_list", {}, async () => {
        const page = await listBlackboardAs(ctx.env, ctx.db, ctx.caller.principal, args);
        const more = page.nextCursor ? " (more: pass nextCursor as cursor)" : "";
        return { structured: page, summary: `${page.items.length} keys${more}.` };
      }),
  );
}
