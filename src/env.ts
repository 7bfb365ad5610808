/** The Worker's bindings, as declared in wrangler.toml. */

import type { AgentProcess } from "./objects/agent-process.js";

export interface Env {
  DB: D1Database;
  AGENT_PROCESS: DurableObjectNamespace<AgentProcess>;
  /** The system administrator's bearer token (a Worker secret; `.dev.vars` locally). */
  ADMIN_TOKEN: string;
}
