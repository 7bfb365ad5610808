/**
 * Node credentials: what a host-agent presents on `/v1/fleet/connect` and when it downloads
 * artifacts. Looked up on every request (never cached), so a revocation takes effect at once.
 */

import type { Context } from "hono";
import { CONNECT_IDENTITY_HEADER, type ConnectIdentity } from "../../objects/fleet-types.js";
import { findNodeByCredential, type NodeRow } from "../../store/fleet.js";
import type { AppEnv } from "../context.js";
import { ApiError } from "../problem.js";

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * The live node whose credential the request carries as a bearer token; 401 otherwise.
 *
 * @example const node = await requireNodeCredential(c); node.tenantId
 */
export async function requireNodeCredential(c: Context<AppEnv>): Promise<NodeRow> {
  const token = BEARER.exec(c.req.header("authorization") ?? "")?.[1];
  if (!token) throw new ApiError("unauthenticated", "missing bearer token (a node credential)");
  const node = await findNodeByCredential(c.var.db, token);
  if (!node) throw new ApiError("unauthenticated", "unknown node credential");
  if (node.revokedAtMs !== null) {
    throw new ApiError("credential_revoked", "this node's credential was revoked");
  }
  return node;
}

/** The header that tells the tenant's Fleet object who connects (set by the Worker only). */
export function nodeIdentity(node: NodeRow): [string, string] {
  const identity: ConnectIdentity = {
    tenantId: node.tenantId,
    nodeId: node.id,
    role: node.role,
    credentialId: node.credentialId,
    labels: JSON.parse(node.labelsJson),
    tokenLabels: JSON.parse(node.tokenLabelsJson),
  };
  return [CONNECT_IDENTITY_HEADER, JSON.stringify(identity)];
}

/** The security requirement of routes that take a node credential (scheme registered in app.ts). */
export const NODE_CREDENTIAL = [{ nodeCredential: [] }];
