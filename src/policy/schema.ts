/**
 * The Cedar schema every policy is validated against on write and every request is checked
 * against before evaluation (in TypeScript: conform.ts), as code.
 *
 * Why ONE action, `call`, rather than one action per capability: capabilities are data, not
 * code. A tenant registers its own (an external MCP server's tools appear at run time), so an
 * action per capability would make the schema per tenant and mutable: a policy valid today
 * would stop validating when a tool is unregistered, every registration would invalidate the
 * tenant's parsed policy set, and a call to a capability missing from a stale schema would fail
 * request validation. With one fixed action the schema is the same for every tenant and every
 * deployment, and a policy names a capability by value: `context.capability == "proc.spawn"`
 * or `context.capability like "ext.*"`.
 *
 * The Cedar request, from a `PolicyRequest`:
 *   principal  `Process::"proc_…"` (attrs tenant, agentType) or `Key::"key_…"` (tenant, role),
 *              each a member of its `Tenant`
 *   action     `Action::"call"`
 *   resource   what the call acts on: `Tenant::"…"` (the default), `Process::"…"`, or the
 *              `Capability::"ns.name"` itself (attrs risk, namespace)
 *   context    exactly `PolicyRequest.context` plus `capability`
 */

import type { PolicyRequest } from "../kernel/syscall/policy.js";
import type { SchemaJson, TypeOfAttribute } from "./cedar.js";

export const ACTION = { type: "Action", id: "call" } as const;

export const PRINCIPAL_TYPES = ["Process", "Key"] as const;
export const RESOURCE_TYPES = ["Capability", "Process", "Tenant"] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

type ContextKey = keyof PolicyRequest["context"] | "capability";

const STRING = { type: "String" } as const;
const LONG = { type: "Long" } as const;
const BOOL = { type: "Boolean" } as const;

/**
 * The context record. Typed by the keys of `PolicyRequest.context` plus `capability`, so adding
 * a field to the request without adding it here (or the reverse) fails to compile.
 */
export const CONTEXT_ATTRIBUTES: Record<ContextKey, TypeOfAttribute<string>> = {
  capability: STRING,
  risk: STRING,
  entitled: BOOL,
  explicitGrant: BOOL,
  approved: BOOL,
  budgetTokensLeft: LONG,
  hourOfDayUtc: LONG,
  dataLabels: { type: "Set", element: STRING },
};

const tenantRef = { type: "Entity", name: "Tenant" } as const;

export const CEDAR_SCHEMA: SchemaJson<string> = {
  "": {
    entityTypes: {
      Tenant: {},
      Process: {
        memberOfTypes: ["Tenant"],
        shape: { type: "Record", attributes: { tenant: tenantRef, agentType: STRING } },
      },
      Key: {
        memberOfTypes: ["Tenant"],
        shape: { type: "Record", attributes: { tenant: tenantRef, role: STRING } },
      },
      Capability: {
        shape: { type: "Record", attributes: { risk: STRING, namespace: STRING } },
      },
    },
    actions: {
      [ACTION.id]: {
        appliesTo: {
          principalTypes: [...PRINCIPAL_TYPES],
          resourceTypes: [...RESOURCE_TYPES],
          context: { type: "Record", attributes: CONTEXT_ATTRIBUTES },
        },
      },
    },
  },
};
