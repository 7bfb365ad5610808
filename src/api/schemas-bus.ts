/**
 * Request and response schemas of the message bus (HTTPS API and MCP tools share them):
 * messages, mailboxes, topics and dead letters.
 */

import { z } from "zod";
import {
  CorrelationIdSchema,
  MessageIdSchema,
  TopicNameSchema,
} from "../kernel/agent/tools/bus.js";
import { ProcessIdSchema } from "../kernel/process/record.js";
import { MAX_PAGE_LIMIT, PageQuerySchema } from "./schemas.js";

export { CorrelationIdSchema, MessageIdSchema, TopicNameSchema };

const Body = z.unknown().meta({ description: "The message: any JSON, at most 1 MiB as JSON text" });

export const SendMessageRequestSchema = z
  .strictObject({
    to: ProcessIdSchema.meta({ description: "The receiving process" }),
    body: Body,
    correlationId: CorrelationIdSchema.optional().meta({
      description: "Set when answering a request: the request's correlation id",
    }),
  })
  .meta({ id: "SendMessageRequest" });
export type SendMessageRequest = z.infer<typeof SendMessageRequestSchema>;

export const SendMessageResultSchema = z
  .object({
    messageId: MessageIdSchema,
    from: z.string(),
    to: ProcessIdSchema,
    sizeBytes: z.number().int(),
    /** Large payloads travel by R2 reference. */
    byReference: z.boolean(),
  })
  .meta({ id: "SendMessageResult" });

export const MessageSchema = z
  .object({
    id: MessageIdSchema,
    /** Place in the mailbox's order of arrival. */
    seq: z.number().int(),
    from: z.string(),
    topic: TopicNameSchema.nullable(),
    correlationId: z.string().nullable(),
    body: z.unknown().meta({ description: "The message as sent (any JSON)" }),
    sizeBytes: z.number().int(),
    byReference: z.boolean(),
    sentAt: z.string(),
    deliveredAt: z.string(),
  })
  .meta({ id: "Message" });
export type MessageView = z.infer<typeof MessageSchema>;

/** Mailbox pages are small: a page may carry up to this many 1 MiB payloads. */
export const MAILBOX_PAGE_MAX = 20;

export const MailboxQuerySchema = PageQuerySchema.extend({
  processId: ProcessIdSchema.optional().meta({
    description: "The mailbox's process; an agent key may omit it (its own)",
  }),
  limit: z.coerce.number().int().min(1).max(MAILBOX_PAGE_MAX).default(MAILBOX_PAGE_MAX),
});
export type MailboxQuery = z.infer<typeof MailboxQuerySchema>;

export const MailboxPageSchema = z
  .object({ items: z.array(MessageSchema), nextCursor: z.string().nullable() })
  .meta({ id: "MailboxPage" });

export const AckQuerySchema = z.object({
  processId: ProcessIdSchema.optional().meta({
    description: "The mailbox's process; an agent key may omit it (its own)",
  }),
});

export const SubscribeRequestSchema = z
  .strictObject({
    processId: ProcessIdSchema.optional().meta({
      description: "The subscribing process; an agent key may omit it (its own)",
    }),
  })
  .meta({ id: "SubscribeRequest" });

export const SubscriptionSchema = z
  .object({
    topic: TopicNameSchema,
    processId: ProcessIdSchema,
    /** False when the process was subscribed already. */
    created: z.boolean(),
  })
  .meta({ id: "Subscription" });

export const PublishRequestSchema = z.strictObject({ body: Body }).meta({ id: "PublishRequest" });

export const PublishResultSchema = z
  .object({
    messageId: MessageIdSchema,
    topic: TopicNameSchema,
    /** Subscribers a copy was enqueued for. */
    deliveries: z.number().int(),
    sizeBytes: z.number().int(),
  })
  .meta({ id: "PublishResult" });

export const TopicListSchema = z
  .object({
    items: z.array(z.object({ topic: TopicNameSchema, subscribers: z.number().int() })),
  })
  .meta({ id: "TopicList" });

export const DEAD_LETTER_STATUSES = ["retrying", "dead", "replayed", "delivered"] as const;

export const DeadLetterIdSchema = z.string().regex(/^dl_[0-9a-f]{32}$/, "not a dead-letter id");

export const DeadLetterSchema = z
  .object({
    id: DeadLetterIdSchema,
    messageId: MessageIdSchema,
    targetId: ProcessIdSchema,
    from: z.string(),
    topic: TopicNameSchema.nullable(),
    correlationId: z.string().nullable(),
    sizeBytes: z.number().int(),
    status: z.enum(DEAD_LETTER_STATUSES),
    lastError: z.string(),
    attempts: z.number().int(),
    replays: z.number().int(),
    firstFailedAt: z.string(),
    lastFailedAt: z.string(),
    deadAt: z.string().nullable(),
    replayedAt: z.string().nullable(),
  })
  .meta({ id: "DeadLetter" });
export type DeadLetterView = z.infer<typeof DeadLetterSchema>;

export const DeadLetterQuerySchema = PageQuerySchema.extend({
  status: z.enum(DEAD_LETTER_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(20),
});
export type DeadLetterQuery = z.infer<typeof DeadLetterQuerySchema>;

export const DeadLetterPageSchema = z
  .object({ items: z.array(DeadLetterSchema), nextCursor: z.string().nullable() })
  .meta({ id: "DeadLetterPage" });
