/**
 * Agent Cards (A2A 1.0, ProtoJSON shape). The deployment's card at `/.well-known/agent-card.json`
 * lists the built-in agent types as skills and points at the deployment endpoint `/a2a`, where a
 * message names its type in `metadata.agentType`. Each agent type has its own card at
 * `/a2a/{type}/.well-known/agent-card.json` pointing at `/a2a/{type}` — so the SDK's
 * `createFromUrl(origin + "/a2a/{type}/")` finds it. Built-in types' cards are public; a tenant's
 * own types are shown only to that tenant's keys. Every call needs a bearer API key (`ek_…`).
 */

import { API_VERSION } from "../api/version.js";
import type { AgentType } from "../store/agent-types.js";
import { A2A_JSONRPC_BINDING, A2A_PROTOCOL_VERSION } from "./protocol.js";

/** Where the deployment endpoint lives; per-type endpoints are `${A2A_PATH}/{type}`. */
export const A2A_PATH = "/a2a";
export const AGENT_CARD_PATH = "/.well-known/agent-card.json";

const BEARER_SCHEME = "bearer";

interface Skill {
  id: string;
  name: string;
  description: string;
  tags: string[];
  inputModes: string[];
  outputModes: string[];
}

/** The fields every card of ours shares: security, capabilities, modes. */
function common(origin: string, url: string) {
  return {
    supportedInterfaces: [
      { url, protocolBinding: A2A_JSONRPC_BINDING, protocolVersion: A2A_PROTOCOL_VERSION },
    ],
    provider: { organization: "edgekernel", url: origin },
    capabilities: { streaming: true, pushNotifications: false, extendedAgentCard: false },
    securitySchemes: {
      [BEARER_SCHEME]: {
        httpAuthSecurityScheme: {
          scheme: "Bearer",
          bearerFormat: "edgekernel API key (ek_…)",
          description:
            "A tenant API key: operator or admin to send messages, any role to read tasks",
        },
      },
    },
    securityRequirements: [{ schemes: { [BEARER_SCHEME]: { list: [] } } }],
    defaultInputModes: ["text/plain", "application/json"],
    defaultOutputModes: ["text/plain", "application/json"],
  };
}

function skillOf(type: AgentType): Skill {
  return {
    id: type.name,
    name: type.name,
    description: type.description || `An edgekernel agent of type ${type.name}@${type.version}`,
    tags: ["agent-type", type.scope === "global" ? "builtin" : "tenant", `model:${type.model}`],
    inputModes: ["text/plain", "application/json"],
    outputModes: ["text/plain", "application/json"],
  };
}

/** The newest active version of each type name, in name order. */
export function newestActive(types: readonly AgentType[]): AgentType[] {
  const byName = new Map<string, AgentType>();
  // listAgentTypes sorts each name's versions newest first.
  for (const t of types) if (t.status === "active" && !byName.has(t.name)) byName.set(t.name, t);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * The deployment's card: the built-in types as skills.
 *
 * @example deploymentCard("https://ek.example", builtins).supportedInterfaces[0].url // "https://ek.example/a2a"
 */
export function deploymentCard(origin: string, types: readonly AgentType[]) {
  return {
    name: "edgekernel",
    description:
      "An operating system for LLM agents. Each skill is an agent type: send a message with metadata.agentType naming it (or use the type's own card at /a2a/{type}/.well-known/agent-card.json); the task is the process it spawns.",
    version: API_VERSION,
    documentationUrl: `${origin}/docs`,
    ...common(origin, `${origin}${A2A_PATH}`),
    skills: newestActive(types).map(skillOf),
  };
}

/**
 * One agent type's card; its interface is that type's endpoint.
 *
 * @example agentTypeCard("https://ek.example", assistant).supportedInterfaces[0].url // ".../a2a/assistant"
 */
export function agentTypeCard(origin: string, type: AgentType) {
  return {
    name: type.name,
    description: type.description || `An edgekernel agent of type ${type.name}`,
    version: type.version,
    documentationUrl: `${origin}/docs`,
    ...common(origin, `${origin}${A2A_PATH}/${type.name}`),
    skills: [skillOf(type)],
  };
}
