/**
 * Message routes: send a direct message, read and acknowledge a mailbox, and the operator's
 * dead letters (list, replay). Mailboxes are read with `GET /v1/messages?processId=`.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import {
  ackMessageAs,
  listDeadLettersAs,
  readMailbox,
  replayDeadLetterAs,
  sendMessageAs,
} from "../../bus/calls.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import {
  AckQuerySchema,
  DeadLetterPageSchema,
  DeadLetterQuerySchema,
  DeadLetterSchema,
  MailboxPageSchema,
  MailboxQuerySchema,
  SendMessageRequestSchema,
  SendMessageResultSchema,
} from "../schemas-bus.js";

export const messageRoutes = new OpenAPIHono<AppEnv>();

const MessageIdParam = z.object({
  id: z.string().meta({ param: { name: "id", in: "path" }, example: "msg_0193…" }),
});
const DeadLetterIdParam = z.object({
  id: z.string().meta({ param: { name: "id", in: "path" }, example: "dl_5f1c…" }),
});

const sendRoute = createRoute({
  method: "post",
  path: "/v1/messages",
  tags: ["messages"],
  summary: "Send a message to a process's mailbox",
  description:
    "Delivery is asynchronous (through the queue) and at least once, deduplicated by message id at the receiver. From an agent key the sender is its process; from a tenant key, the key. Payloads over 64 KiB travel by R2 reference; over 1 MiB is 413.",
  security: BEARER,
  request: {
    body: { content: { "application/json": { schema: SendMessageRequestSchema } }, required: true },
  },
  responses: {
    202: json(SendMessageResultSchema, "Accepted for delivery"),
    ...problems(400, 401, 403, 404, 409, 413, 415, 422),
  },
});

messageRoutes.openapi(sendRoute, async (c) => {
  const body = c.req.valid("json");
  const sent = await sendMessageAs(c.env, c.var.db, c.var.principal, body);
  c.var.audit.target = sent.messageId;
  c.var.audit.detail = { to: sent.to, from: sent.from, sizeBytes: sent.sizeBytes };
  return c.json(sent, 202);
});

const mailboxRoute = createRoute({
  method: "get",
  path: "/v1/messages",
  tags: ["messages"],
  summary: "Read a process's mailbox, in order of arrival",
  description:
    "Unread messages, oldest first; reading removes nothing (acknowledge with DELETE /v1/messages/{id}). Large payloads are fetched from R2.",
  security: BEARER,
  request: { query: MailboxQuerySchema },
  responses: {
    200: json(MailboxPageSchema, "One page of the mailbox"),
    ...problems(401, 403, 404, 422),
  },
});

messageRoutes.openapi(mailboxRoute, async (c) => {
  const q = c.req.valid("query");
  return c.json(await readMailbox(c.env, c.var.db, c.var.principal, q), 200);
});

const deadLettersRoute = createRoute({
  method: "get",
  path: "/v1/messages/dead-letters",
  tags: ["messages"],
  summary: "List failed deliveries, most recent first",
  security: BEARER,
  request: { query: DeadLetterQuerySchema },
  responses: {
    200: json(DeadLetterPageSchema, "One page of dead letters"),
    ...problems(401, 403, 422),
  },
});

messageRoutes.openapi(deadLettersRoute, async (c) => {
  const q = c.req.valid("query");
  return c.json(await listDeadLettersAs(c.env, c.var.db, c.var.principal, q), 200);
});

const replayRoute = createRoute({
  method: "post",
  path: "/v1/messages/dead-letters/{id}/replay",
  tags: ["messages"],
  summary: "Re-enqueue a dead letter on the bus",
  description: "Only a `dead` letter replays; one already replayed is 409.",
  security: BEARER,
  request: { params: DeadLetterIdParam },
  responses: {
    202: json(DeadLetterSchema, "Re-enqueued"),
    ...problems(401, 403, 404, 409),
  },
});

messageRoutes.openapi(replayRoute, async (c) => {
  const { id } = c.req.valid("param");
  c.var.audit.target = id;
  const view = await replayDeadLetterAs(c.env, c.var.db, c.var.principal, { id });
  c.var.audit.detail = { messageId: view.messageId, targetId: view.targetId };
  return c.json(view, 202);
});

const ackRoute = createRoute({
  method: "delete",
  path: "/v1/messages/{id}",
  tags: ["messages"],
  summary: "Acknowledge (remove) a message from a mailbox",
  security: BEARER,
  request: { params: MessageIdParam, query: AckQuerySchema },
  responses: {
    204: { description: "Removed" },
    ...problems(401, 403, 404, 422),
  },
});

messageRoutes.openapi(ackRoute, async (c) => {
  const { id } = c.req.valid("param");
  const q = c.req.valid("query");
  c.var.audit.target = id;
  await ackMessageAs(c.env, c.var.db, c.var.principal, { messageId: id, processId: q.processId });
  return c.body(null, 204);
});
