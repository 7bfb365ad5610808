/**
 * The message-bus tools: direct messages, a blocking receive, request/response and topics. The
 * limits here are the bus's own, shared by the HTTPS API, MCP and the agent loop (pure: the
 * platform code in `src/bus/` imports them from here).
 */

import { z } from "zod";
import { idPattern } from "../../ids.js";
import type { ToolSpec } from "./spec.js";

/** Limits of the message bus. */
export const BUS_LIMITS = {
  /** A payload (its JSON text, UTF-8) larger than this travels by R2 reference. */
  inlinePayloadBytes: 64 * 1024,
  /** Hard cap on one payload: larger is refused with 413. */
  maxPayloadBytes: 1024 * 1024,
  /** Unread messages one mailbox holds; a delivery beyond it is retried, then dead-lettered. */
  mailboxMaxMessages: 256,
  /** Payload bytes (inline and R2-held) one mailbox holds. */
  mailboxMaxBytes: 8 * 1024 * 1024,
  /** Longest a `recv` or `request` may block: a day, as `sleep`. */
  maxWaitMs: 24 * 3_600_000,
  /** Default `request` timeout. */
  defaultRequestTimeoutMs: 60_000,
  /** Correlation ids are opaque printable strings up to this long. */
  correlationIdChars: 128,
  /** Subscriptions one tenant may hold across all topics. */
  subscriptionsPerTenant: 10_000,
  /** A publish fans out to at most this many subscribers. */
  subscribersPerTopic: 1_000,
} as const;

/** Topic names: lowercase, dot-separated words, e.g. `builds.done`. */
export const TopicNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,127}$/,
    "lowercase letters, digits and . _ -, starting with a letter or digit, at most 128 characters",
  );

export const CorrelationIdSchema = z
  .string()
  .regex(
    new RegExp(`^[\\x21-\\x7e]{1,${BUS_LIMITS.correlationIdChars}}$`),
    `1 to ${BUS_LIMITS.correlationIdChars} printable ASCII characters`,
  );

export const MessageIdSchema = z.string().regex(idPattern("message"), "not a message id");

const ProcessTarget = z.string().regex(idPattern("process"), "not a process id");
const Body = z.unknown().meta({ description: "The message (any JSON, at most 1 MiB)" });
const WaitMs = z.number().int().min(0).max(BUS_LIMITS.maxWaitMs);

export const SendArgsSchema = z.strictObject({
  to: ProcessTarget,
  body: Body,
  correlationId: CorrelationIdSchema.optional(),
});
export const RecvArgsSchema = z.strictObject({
  /** How long to block when the mailbox is empty; absent: until a message arrives; 0: poll. */
  timeoutMs: WaitMs.optional(),
});
export const RequestArgsSchema = z.strictObject({
  to: ProcessTarget,
  body: Body,
  timeoutMs: WaitMs.min(1).optional(),
});
export const ReplyArgsSchema = z.strictObject({
  to: ProcessTarget,
  correlationId: CorrelationIdSchema,
  body: Body,
});
export const PublishArgsSchema = z.strictObject({ topic: TopicNameSchema, body: Body });
export const SubscribeArgsSchema = z.strictObject({
  topic: TopicNameSchema,
  /** True to unsubscribe instead. */
  unsubscribe: z.boolean().optional(),
});

export const BUS_TOOLS = {
  send: {
    capability: "msg.send",
    description:
      "Send a message (any JSON) to another process's mailbox; returns its message id. Delivery is asynchronous and at least once, deduplicated by id.",
    args: SendArgsSchema,
  },
  recv: {
    capability: "msg.recv",
    description:
      "Take the oldest message from this process's mailbox; when it is empty, wait (holding no model capacity) until one arrives or `timeoutMs` passes.",
    args: RecvArgsSchema,
  },
  request: {
    capability: "msg.send",
    description:
      "Send a request to another process and wait for its reply (a message carrying the same correlation id) or, after `timeoutMs`, a timeout result.",
    args: RequestArgsSchema,
  },
  reply: {
    capability: "msg.send",
    description:
      "Reply to a request received with `recv`: send `body` to its sender with its correlation id.",
    args: ReplyArgsSchema,
  },
  publish: {
    capability: "topic.publish",
    description: "Publish a message to a topic: every subscribed process receives a copy.",
    args: PublishArgsSchema,
  },
  subscribe: {
    capability: "topic.subscribe",
    description:
      "Subscribe this process to a topic (or unsubscribe with `unsubscribe: true`); published messages arrive in its mailbox.",
    args: SubscribeArgsSchema,
  },
} as const satisfies Record<string, ToolSpec>;
