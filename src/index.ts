/**
 * The Worker entry: the HTTPS API on fetch, and the Durable Object classes wrangler binds.
 */

import { createApp } from "./api/app.js";
import { handleQueue } from "./bus/consumer.js";
import type { Env } from "./env.js";

export { AgentProcess } from "./objects/agent-process.js";
export { Fleet } from "./objects/fleet.js";
export { Scheduler } from "./objects/scheduler.js";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  queue: (batch, env) => handleQueue(batch, env),
} satisfies ExportedHandler<Env>;
