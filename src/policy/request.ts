/**
 * A `PolicyRequest` as a Cedar authorization request: the principal, action, resource and
 * context described in `schema.ts`, and the entities Cedar needs to read their attributes.
 *
 * Entity data is given for what the request knows: the principal (a member of its tenant), and
 * the resource when it is the principal itself or the capability being called. The tenant needs
 * no entry: it has no attributes, and membership is recorded on the member. Any other
 * resource (another process, say) is passed by id alone: a policy can match it with `is`, `==`
 * or `in`, but reading its attributes is an evaluation error, reported in `errors`, and that
 * policy is skipped.
 */

import type { PolicyRequest } from "../kernel/syscall/policy.js";
import { ACTION, PRINCIPAL_TYPES, RESOURCE_TYPES } from "./schema.js";

export type Uid = { type: string; id: string };
export type CedarValue = string | number | boolean | string[] | { __entity: Uid };
export interface EntityJson {
  uid: Uid;
  attrs: Record<string, CedarValue>;
  parents: Uid[];
}

/**
 * The request minus the policy set to evaluate it against. It names no schema: it is checked
 * against the schema in TypeScript (`conform.ts`), not by Cedar on every call.
 */
export interface CedarRequest {
  principal: Uid;
  action: Uid;
  resource: Uid;
  context: Record<string, CedarValue>;
  entities: EntityJson[];
}

/**
 * The action as an entity, as Cedar derives it from the schema (no attributes, no parents).
 * Cedar added it to the entities itself while the schema was named on each call; now the engine
 * sends it whenever it sends entity data, so reading it reports the same as before.
 */
export const ACTION_ENTITY: EntityJson = { uid: { ...ACTION }, attrs: {}, parents: [] };

/** Cedar's Long is a 64-bit integer; JSON numbers past 2^53 lose precision before it sees them. */
function toLong(n: number): number {
  if (Number.isNaN(n)) return 0; // fail closed: an unknown budget reads as spent
  if (n >= Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  if (n <= Number.MIN_SAFE_INTEGER) return Number.MIN_SAFE_INTEGER;
  return Math.floor(n);
}

/** The namespace of a capability name: `proc` for `proc.spawn`. */
export function namespaceOf(capability: string): string {
  const dot = capability.indexOf(".");
  return dot < 0 ? capability : capability.slice(0, dot);
}

/**
 * Builds the Cedar request, or says why it cannot (an entity type the schema does not know:
 * the caller denies, so an unexpected request fails closed).
 *
 * @example toCedarRequest(req) // { ok: true, request: { principal: { type: "Process", id: "proc_…" }, … } }
 */
export function toCedarRequest(
  req: PolicyRequest,
): { ok: true; request: CedarRequest } | { ok: false; error: string } {
  if (!(PRINCIPAL_TYPES as readonly string[]).includes(req.principal.type)) {
    return { ok: false, error: `principal type ${req.principal.type} is not in the Cedar schema` };
  }
  if (!(RESOURCE_TYPES as readonly string[]).includes(req.resource.type)) {
    return { ok: false, error: `resource type ${req.resource.type} is not in the Cedar schema` };
  }
  const tenant: Uid = { type: "Tenant", id: req.tenantId };
  const principal: Uid = { type: req.principal.type, id: req.principal.id };
  const resource: Uid = { type: req.resource.type, id: req.resource.id };
  const principalEntity: EntityJson =
    req.principal.type === "Process"
      ? {
          uid: principal,
          attrs: { tenant: { __entity: tenant }, agentType: req.principal.agentType ?? "" },
          parents: [tenant],
        }
      : {
          uid: principal,
          attrs: { tenant: { __entity: tenant }, role: req.principal.role ?? "" },
          parents: [tenant],
        };
  // Every entity given costs time on each call (Cedar converts it): only these, and the engine
  // leaves them out when no statement it evaluates reads entity data (see footprint.ts).
  const entities: EntityJson[] = [principalEntity];
  if (resource.type === "Capability" && resource.id === req.capability) {
    entities.push({
      uid: resource,
      attrs: { risk: req.context.risk, namespace: namespaceOf(req.capability) },
      parents: [],
    });
  }
  const c = req.context;
  return {
    ok: true,
    request: {
      principal,
      action: ACTION,
      resource,
      context: {
        capability: req.capability,
        risk: c.risk,
        entitled: c.entitled,
        explicitGrant: c.explicitGrant,
        approved: c.approved,
        budgetTokensLeft: toLong(c.budgetTokensLeft),
        hourOfDayUtc: toLong(c.hourOfDayUtc),
        dataLabels: c.dataLabels,
      },
      entities,
    },
  };
}
