/**
 * Topic routes: subscribe and unsubscribe processes, publish, list the tenant's topics.
 */

import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { listTopicsAs, publishAs, subscribeAs, unsubscribeAs } from "../../bus/calls.js";
import type { AppEnv } from "../context.js";
import { BEARER, json, problems } from "../openapi.js";
import {
  PublishRequestSchema,
  PublishResultSchema,
  SubscribeRequestSchema,
  SubscriptionSchema,
  TopicListSchema,
  TopicNameSchema,
} from "../schemas-bus.js";

export const topicRoutes = new OpenAPIHono<AppEnv>();

const TopicParam = z.object({
  topic: TopicNameSchema.meta({ param: { name: "topic", in: "path" }, example: "builds.done" }),
});
const SubscriptionParam = TopicParam.extend({
  processId: z.string().meta({ param: { name: "processId", in: "path" }, example: "proc_0193…" }),
});

const listRoute = createRoute({
  method: "get",
  path: "/v1/topics",
  tags: ["topics"],
  summary: "The tenant's topics with their subscriber counts",
  security: BEARER,
  responses: { 200: json(TopicListSchema, "Topics by name"), ...problems(401, 403) },
});

topicRoutes.openapi(listRoute, async (c) =>
  c.json(await listTopicsAs(c.env, c.var.db, c.var.principal), 200),
);

const subscribeRoute = createRoute({
  method: "post",
  path: "/v1/topics/{topic}/subscriptions",
  tags: ["topics"],
  summary: "Subscribe a process to a topic (idempotent)",
  security: BEARER,
  request: {
    params: TopicParam,
    body: { content: { "application/json": { schema: SubscribeRequestSchema } }, required: false },
  },
  responses: {
    201: json(SubscriptionSchema, "Subscribed"),
    ...problems(400, 401, 403, 404, 409, 415, 422),
  },
});

topicRoutes.openapi(subscribeRoute, async (c) => {
  const { topic } = c.req.valid("param");
  const body = (c.req.valid("json") ?? {}) as z.infer<typeof SubscribeRequestSchema>;
  const sub = await subscribeAs(c.env, c.var.db, c.var.principal, {
    topic,
    processId: body.processId,
  });
  c.var.audit.target = sub.processId;
  c.var.audit.detail = { topic, created: sub.created };
  return c.json(sub, 201);
});

const unsubscribeRoute = createRoute({
  method: "delete",
  path: "/v1/topics/{topic}/subscriptions/{processId}",
  tags: ["topics"],
  summary: "Unsubscribe a process from a topic",
  security: BEARER,
  request: { params: SubscriptionParam },
  responses: { 204: { description: "Unsubscribed" }, ...problems(401, 403, 404, 422) },
});

topicRoutes.openapi(unsubscribeRoute, async (c) => {
  const { topic, processId } = c.req.valid("param");
  c.var.audit.target = processId;
  c.var.audit.detail = { topic };
  await unsubscribeAs(c.env, c.var.db, c.var.principal, { topic, processId });
  return c.body(null, 204);
});

const publishRoute = createRoute({
  method: "post",
  path: "/v1/topics/{topic}/messages",
  tags: ["topics"],
  summary: "Publish a message to every subscriber of a topic",
  security: BEARER,
  request: {
    params: TopicParam,
    body: { content: { "application/json": { schema: PublishRequestSchema } }, required: true },
  },
  responses: {
    202: json(PublishResultSchema, "Enqueued for every subscriber"),
    ...problems(400, 401, 403, 413, 415, 422),
  },
});

topicRoutes.openapi(publishRoute, async (c) => {
  const { topic } = c.req.valid("param");
  const { body } = c.req.valid("json");
  const out = await publishAs(c.env, c.var.db, c.var.principal, { topic, body });
  c.var.audit.target = out.messageId;
  c.var.audit.detail = { topic, deliveries: out.deliveries };
  return c.json(out, 202);
});
