/**
 * Message-bus tools: send_message, read_mailbox, publish, subscribe. Thin adapters over the same
 * calls the HTTPS routes make (src/bus/calls.ts), with the same zod fields.
 */

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { fieldError } from "../../api/problem.js";
import { PageQuerySchema } from "../../api/schemas.js";
import {
  MAILBOX_PAGE_MAX,
  MailboxPageSchema,
  PublishResultSchema,
  SendMessageRequestSchema,
  SendMessageResultSchema,
  SubscriptionSchema,
  TopicNameSchema,
} from "../../api/schemas-bus.js";
import {
  publishAs,
  readMailbox,
  sendMessageAs,
  subscribeAs,
  unsubscribeAs,
} from "../../bus/calls.js";
import { ProcessIdSchema } from "../../kernel/process/record.js";
import type { McpContext } from "../context.js";
import { READ_ONLY, runTool } from "./run.js";

export const SendMessageInput = z.strictObject(SendMessageRequestSchema.shape);

export const ReadMailboxInput = z.strictObject({
  processId: ProcessIdSchema.optional().meta({
    description: "The mailbox's process; an agent key may omit it (its own)",
  }),
  limit: z.number().int().min(1).max(MAILBOX_PAGE_MAX).default(MAILBOX_PAGE_MAX),
  cursor: PageQuerySchema.shape.cursor,
});

export const PublishInput = z.strictObject({
  topic: TopicNameSchema,
  body: z.unknown().meta({ description: "The message: any JSON, at most 1 MiB" }),
});

export const SubscribeInput = z.strictObject({
  topic: TopicNameSchema,
  processId: ProcessIdSchema.optional().meta({
    description: "The subscribing process; an agent key may omit it (its own)",
  }),
  unsubscribe: z.boolean().default(false).meta({ description: "True to unsubscribe instead" }),
});

const NOT_READ_ONLY = {
  readOnlyHint: false,
  destructiveHint: false,
  openWorldHint: false,
} as const;

/**
 * Registers the bus tools on `server` for the caller in `ctx`.
 *
 * @example registerBusTools(server, ctx)
 */
export function registerBusTools(server: McpServer, ctx: McpContext): void {
  server.registerTool(
    "send_message",
    {
      title: "Send a message",
      description:
        "Send a message (any JSON, at most 1 MiB) to a process's mailbox in your tenant. Delivery is asynchronous and at least once, deduplicated by id; set `correlationId` to answer a request.",
      inputSchema: SendMessageInput,
      outputSchema: SendMessageResultSchema.shape,
      annotations: { ...NOT_READ_ONLY, idempotentHint: false },
    },
    (args) =>
      runTool(ctx, "send_message", {}, async () => {
        const sent = await sendMessageAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return {
          structured: sent,
          summary: `Sent ${sent.messageId} to ${sent.to} (${sent.sizeBytes} bytes).`,
          target: sent.messageId,
          detail: { to: sent.to, from: sent.from },
        };
      }),
  );

  server.registerTool(
    "read_mailbox",
    {
      title: "Read a mailbox",
      description:
        "A process's unread messages in order of arrival, oldest first (reading removes nothing). Pass `nextCursor` back as `cursor` for the next page.",
      inputSchema: ReadMailboxInput,
      outputSchema: MailboxPageSchema.shape,
      annotations: READ_ONLY,
    },
    (args) =>
      runTool(ctx, "read_mailbox", {}, async () => {
        const page = await readMailbox(ctx.env, ctx.db, ctx.caller.principal, args);
        const more = page.nextCursor ? " (more: pass nextCursor as cursor)" : "";
        return { structured: page, summary: `${page.items.length} messages${more}.` };
      }),
  );

  server.registerTool(
    "publish",
    {
      title: "Publish to a topic",
      description:
        "Publish a message to a topic of your tenant: every process subscribed to it receives a copy in its mailbox.",
      inputSchema: PublishInput,
      outputSchema: PublishResultSchema.shape,
      annotations: { ...NOT_READ_ONLY, idempotentHint: false },
    },
    (args) =>
      runTool(ctx, "publish", {}, async () => {
        const out = await publishAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return {
          structured: out,
          summary: `Published ${out.messageId} to ${out.topic}: ${out.deliveries} deliveries.`,
          target: out.messageId,
          detail: { topic: out.topic, deliveries: out.deliveries },
        };
      }),
  );

  server.registerTool(
    "subscribe",
    {
      title: "Subscribe to a topic",
      description:
        "Subscribe a process to a topic (idempotent), or unsubscribe it with `unsubscribe: true`.",
      inputSchema: SubscribeInput,
      outputSchema: {
        topic: SubscriptionSchema.shape.topic,
        processId: SubscriptionSchema.shape.processId,
        subscribed: z.boolean(),
        changed: z.boolean(),
      },
      annotations: { ...NOT_READ_ONLY, idempotentHint: true },
    },
    (args) =>
      runTool(ctx, "subscribe", {}, async () => {
        if (args.unsubscribe) {
          const processId =
            args.processId ??
            (ctx.caller.principal.kind === "key" ? ctx.caller.principal.processId : null);
          if (!processId) throw fieldError("processId", "required with a tenant key", "required");
          await unsubscribeAs(ctx.env, ctx.db, ctx.caller.principal, {
            topic: args.topic,
            processId,
          });
          return {
            structured: { topic: args.topic, processId, subscribed: false, changed: true },
            summary: `Unsubscribed ${processId} from ${args.topic}.`,
            target: processId,
            detail: { topic: args.topic, unsubscribe: true },
          };
        }
        const sub = await subscribeAs(ctx.env, ctx.db, ctx.caller.principal, args);
        return {
          structured: {
            topic: sub.topic,
            processId: sub.processId,
            subscribed: true,
            changed: sub.created,
          },
          summary: `${sub.processId} is subscribed to ${sub.topic}${sub.created ? "" : " (already was)"}.`,
          target: sub.processId,
          detail: { topic: sub.topic },
        };
      }),
  );
}
