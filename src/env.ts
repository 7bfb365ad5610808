/** The Worker's bindings and variables, as declared in wrangler.toml (and `.dev.vars`). */

import type { AgentProcess } from "./objects/agent-process.js";
import type { Fleet } from "./objects/fleet.js";
import type { Scheduler } from "./objects/scheduler.js";

export interface Env {
  DB: D1Database;
  AGENT_PROCESS: DurableObjectNamespace<AgentProcess>;
  SCHEDULER: DurableObjectNamespace<Scheduler>;
  /** One Fleet object per tenant: its nodes' WebSockets, telemetry and commands. */
  FLEET: DurableObjectNamespace<Fleet>;
  /** Large workspace values, artifacts and large message payloads, by content hash. */
  BLOBS: R2Bucket;
  /** The message bus between processes (consumed by this Worker's `queue` handler). */
  BUS: Queue;
  /** Where the bus's poison messages land after their retries (also consumed here). */
  BUS_DLQ: Queue;
  /** The system administrator's bearer token (a Worker secret; `.dev.vars` locally). */
  ADMIN_TOKEN: string;
  /**
   * The control plane's Ed25519 private key, PKCS#8 DER in base64url (a Worker secret;
   * `.dev.vars` locally). It signs policy assignments; nodes pin its public key at enrollment.
   */
  POLICY_SIGNING_KEY?: string;
  /** Heartbeat interval nodes are told in `welcome`, in ms (default 15000). */
  FLEET_HEARTBEAT_INTERVAL_MS?: string;
  /** Telemetry interval nodes are told in `welcome`, in ms (default 10000). */
  FLEET_TELEMETRY_INTERVAL_MS?: string;
  /** How long a parked call waits for a person's decision, in ms (default one hour). */
  APPROVAL_TTL_MS?: string;
  /** The OAuth authorization server's clients, grants and tokens (hashed; props encrypted). */
  OAUTH_KV: KVNamespace;
  /** Comma-separated origins a browser MCP client may call /mcp from (loopback is allowed locally). */
  MCP_ALLOWED_ORIGINS?: string;
  /** JSON: per-pool configuration, `{ "<model id>": {…}, "default": {…} }` (see pool-config.ts). */
  MODEL_POOLS?: string;
  /** Workers AI, for `workers-ai:` models. */
  AI?: Ai;
  /** OpenAI-compatible endpoint for `openai:` models (OpenAI, vLLM, Ollama, llama.cpp). */
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  /** Anthropic, for `anthropic:` models. */
  ANTHROPIC_API_KEY?: string;
  ANTHROPIC_BASE_URL?: string;
}
