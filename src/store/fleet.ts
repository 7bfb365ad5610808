/**
 * The fleet's D1 repository: one-time enrollment tokens, enrollment itself (a token buys a node
 * credential, atomically), and the node registry the Fleet object keeps current on state changes.
 *
 * Tokens and credentials are 32 random bytes shown once; only their SHA-256 is stored (they are
 * high-entropy, so a plain hash is the right tool, as for API keys).
 */

import { and, asc, eq, gt, sql } from "drizzle-orm";
import { sha256Hex } from "../kernel/hash.js";
import { newId } from "../kernel/ids.js";
import { type Labels, mergeLabels } from "../schedcp/fleet/labels.js";
import type { NodeFacts } from "../schedcp/protocol/index.js";
import type { Db } from "./db.js";
import { fleetEnrollmentTokens, fleetNodes } from "./schema.js";

export type NodeRole = "node" | "verifier";
export type EnrollmentTokenRow = typeof fleetEnrollmentTokens.$inferSelect;
export type NodeRow = typeof fleetNodes.$inferSelect;

/** Prefixes that make leaked secrets easy to spot for secret scanners. */
export const ENROLLMENT_TOKEN_PREFIX = "et_";
export const NODE_CREDENTIAL_PREFIX = "nk_";
const SECRET_BYTES = 32;
const DISPLAY_CHARS = 11;

export const ENROLLMENT_TOKEN_LIMITS = {
  ttlDefaultSeconds: 3_600,
  ttlMinSeconds: 60,
  /** A week: a token is for a provisioning run, not a standing credential. */
  ttlMaxSeconds: 7 * 24 * 3_600,
} as const;

/** `prefix` followed by 32 random bytes in base64url. */
function newSecret(prefix: string): string {
  const bytes = new Uint8Array(SECRET_BYTES);
  crypto.getRandomValues(bytes);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `${prefix}${btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "")}`;
}

// ---------------------------------------------------------------------------------------------
// Enrollment tokens

export interface NewEnrollmentToken {
  tenantId: string;
  role: NodeRole;
  labels: Labels;
  createdBy: string;
  expiresAtMs: number;
}

/**
 * Creates a one-time enrollment token; returns its row and the token, never retrievable again.
 *
 * @example const { row, token } = await createEnrollmentToken(db, { tenantId, role: "node", labels: {}, createdBy, expiresAtMs }, Date.now())
 */
export async function createEnrollmentToken(
  db: Db,
  input: NewEnrollmentToken,
  nowMs: number,
): Promise<{ row: EnrollmentTokenRow; token: string }> {
  const token = newSecret(ENROLLMENT_TOKEN_PREFIX);
  const row: EnrollmentTokenRow = {
    id: newId("enrollmentToken", nowMs),
    tenantId: input.tenantId,
    tokenHash: await sha256Hex(token),
    role: input.role,
    labelsJson: JSON.stringify(input.labels),
    createdBy: input.createdBy,
    createdAtMs: nowMs,
    expiresAtMs: input.expiresAtMs,
    usedAtMs: null,
    usedByNodeId: null,
  };
  await db.insert(fleetEnrollmentTokens).values(row);
  return { row, token };
}

async function findTokenByHash(db: Db, tokenHash: string): Promise<EnrollmentTokenRow | undefined> {
  const rows = await db
    .select()
    .from(fleetEnrollmentTokens)
    .where(eq(fleetEnrollmentTokens.tokenHash, tokenHash))
    .limit(1);
  return rows[0];
}

// ---------------------------------------------------------------------------------------------
// Enrollment

export interface EnrollInput {
  token: string;
  nodeId?: string | undefined;
  role: NodeRole;
  labels: Labels;
  facts: NodeFacts;
  agentVersion: string;
}

export type EnrollRefusal =
  | { reason: "unknown_token" }
  | { reason: "token_used"; tenantId: string; tokenId: string }
  | { reason: "token_expired"; tenantId: string; tokenId: string }
  | { reason: "role_mismatch"; tenantId: string; tokenId: string; tokenRole: NodeRole }
  | { reason: "too_many_labels"; tenantId: string; tokenId: string; message: string }
  | { reason: "node_id_taken"; tenantId: string; tokenId: string; nodeId: string };

export type EnrollOutcome =
  | { ok: true; node: NodeRow; credential: string; tokenId: string }
  | ({ ok: false } & EnrollRefusal);

/**
 * Spends an enrollment token on a node credential. The token is consumed and the node row
 * written in one D1 batch (a transaction): a token is spent at most once, and only when its
 * node exists. A node id is free when no live node of the tenant holds it (a revoked node's id
 * may be enrolled again; the new credential replaces the revoked one).
 *
 * @example const outcome = await enrollNode(db, { token, role: "node", labels: {}, facts, agentVersion: "0.1.0" }, Date.now())
 */
export async function enrollNode(
  db: Db,
  input: EnrollInput,
  nowMs: number,
): Promise<EnrollOutcome> {
  const tokenRow = await findTokenByHash(db, await sha256Hex(input.token));
  if (!tokenRow) return { ok: false, reason: "unknown_token" };
  const refusal = tokenRefusal(tokenRow, nowMs);
  if (refusal) return { ok: false, ...refusal };
  const base = { tenantId: tokenRow.tenantId, tokenId: tokenRow.id };
  if (tokenRow.role !== input.role) {
    return { ok: false, reason: "role_mismatch", ...base, tokenRole: tokenRow.role };
  }
  const tokenLabels = JSON.parse(tokenRow.labelsJson) as Labels;
  const merged = mergeLabels(input.labels, tokenLabels);
  if (!merged.ok) return { ok: false, reason: "too_many_labels", ...base, message: merged.message };
  const nodeId = input.nodeId ?? newId("node", nowMs);
  const existing = await findNode(db, tokenRow.tenantId, nodeId);
  if (existing && existing.revokedAtMs === null) {
    return { ok: false, reason: "node_id_taken", ...base, nodeId };
  }

  const credential = newSecret(NODE_CREDENTIAL_PREFIX);
  const node: NodeRow = {
    tenantId: tokenRow.tenantId,
    id: nodeId,
    role: input.role,
    labelsJson: JSON.stringify(merged.labels),
    tokenLabelsJson: tokenRow.labelsJson,
    factsJson: JSON.stringify(input.facts),
    agentVersion: input.agentVersion,
    status: "offline",
    lastSeenAtMs: null,
    runningJson: null,
    dryRun: false,
    credentialId: newId("nodeCredential", nowMs),
    credentialHash: await sha256Hex(credential),
    credentialPrefix: credential.slice(0, DISPLAY_CHARS),
    enrolledAtMs: nowMs,
    enrollmentTokenId: tokenRow.id,
    revokedAtMs: null,
    stateVersion: 0,
    updatedAtMs: nowMs,
  };
  const client = (db as Db & { $client: D1Database }).$client;
  const fresh = `EXISTS (SELECT 1 FROM fleet_enrollment_tokens WHERE id = ?1
    AND used_at_ms IS NULL AND expires_at_ms > ?2)`;
  const [, spent] = await client.batch([
    // Writes the node only while the token is unspent, and over an existing row only if that
    // row was revoked.
    client
      .prepare(
        `INSERT INTO fleet_nodes (tenant_id, id, role, labels_json, token_labels_json, facts_json,
           agent_version, status, last_seen_at_ms, running_json, dry_run, credential_id,
           credential_hash, credential_prefix, enrolled_at_ms, enrollment_token_id, revoked_at_ms,
           state_version, updated_at_ms)
         SELECT ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'offline', NULL, NULL, 0, ?10, ?11, ?12, ?2, ?1, NULL, 0, ?2
         WHERE ${fresh}
         ON CONFLICT (tenant_id, id) DO UPDATE SET role = excluded.role,
           labels_json = excluded.labels_json, token_labels_json = excluded.token_labels_json,
           facts_json = excluded.facts_json, agent_version = excluded.agent_version,
           status = excluded.status, last_seen_at_ms = NULL, running_json = NULL, dry_run = 0,
           credential_id = excluded.credential_id, credential_hash = excluded.credential_hash,
           credential_prefix = excluded.credential_prefix, enrolled_at_ms = excluded.enrolled_at_ms,
           enrollment_token_id = excluded.enrollment_token_id, revoked_at_ms = NULL,
           state_version = 0, updated_at_ms = excluded.updated_at_ms
         WHERE fleet_nodes.revoked_at_ms IS NOT NULL`,
      )
      .bind(
        tokenRow.id,
        nowMs,
        node.tenantId,
        node.id,
        node.role,
        node.labelsJson,
        node.tokenLabelsJson,
        node.factsJson,
        node.agentVersion,
        node.credentialId,
        node.credentialHash,
        node.credentialPrefix,
      ),
    // Spends the token only if the node row now carries this enrollment's credential.
    client
      .prepare(
        `UPDATE fleet_enrollment_tokens SET used_at_ms = ?2, used_by_node_id = ?4
         WHERE id = ?1 AND used_at_ms IS NULL AND EXISTS (SELECT 1 FROM fleet_nodes
           WHERE tenant_id = ?3 AND id = ?4 AND credential_hash = ?5)`,
      )
      .bind(tokenRow.id, nowMs, node.tenantId, node.id, node.credentialHash),
  ]);
  if (changes(spent) === 1) return { ok: true, node, credential, tokenId: tokenRow.id };

  // Lost a race: say why, from what is stored now.
  const now = await findTokenByHash(db, tokenRow.tokenHash);
  const raced = now ? tokenRefusal(now, nowMs) : null;
  if (raced) return { ok: false, ...raced };
  return { ok: false, reason: "node_id_taken", ...base, nodeId };
}

function tokenRefusal(
  row: EnrollmentTokenRow,
  nowMs: number,
): Extract<EnrollRefusal, { reason: "token_used" | "token_expired" }> | null {
  const base = { tenantId: row.tenantId, tokenId: row.id };
  if (row.usedAtMs !== null) return { reason: "token_used", ...base };
  if (row.expiresAtMs <= nowMs) return { reason: "token_expired", ...base };
  return null;
}

function changes(result: unknown): number {
  return (result as { meta?: { changes?: number } }).meta?.changes ?? 0;
}

// ---------------------------------------------------------------------------------------------
// The registry

/** One node of a tenant, revoked or not. */
export async function findNode(
  db: Db,
  tenantId: string,
  nodeId: string,
): Promise<NodeRow | undefined> {
  const rows = await db
    .select()
    .from(fleetNodes)
    .where(and(eq(fleetNodes.tenantId, tenantId), eq(fleetNodes.id, nodeId)))
    .limit(1);
  return rows[0];
}

/** The node whose credential is `credential`, revoked or not; the caller decides. */
export async function findNodeByCredential(
  db: Db,
  credential: string,
): Promise<NodeRow | undefined> {
  const hash = await sha256Hex(credential);
  const rows = await db
    .select()
    .from(fleetNodes)
    .where(eq(fleetNodes.credentialHash, hash))
    .limit(1);
  return rows[0];
}

export interface NodeListQuery {
  tenantId: string;
  role?: NodeRole | undefined;
  status?: "online" | "offline" | undefined;
  /** Every label must match. */
  labels: Array<{ key: string; value: string }>;
  /** Include revoked nodes (default: only live ones). */
  includeRevoked: boolean;
  /** Return ids strictly after this one. */
  afterId?: string | undefined;
  limit: number;
}

/**
 * One page of a tenant's nodes by id, ascending (ids are chosen by operators, so they have no
 * time order). Fetches `limit + 1` rows so the caller knows whether another page follows.
 */
export async function listNodes(db: Db, q: NodeListQuery): Promise<NodeRow[]> {
  const where = [eq(fleetNodes.tenantId, q.tenantId)];
  if (q.role) where.push(eq(fleetNodes.role, q.role));
  if (q.status) where.push(eq(fleetNodes.status, q.status));
  if (!q.includeRevoked) where.push(sql`${fleetNodes.revokedAtMs} IS NULL`);
  if (q.afterId !== undefined) where.push(gt(fleetNodes.id, q.afterId));
  for (const { key, value } of q.labels) {
    where.push(
      sql`EXISTS (SELECT 1 FROM json_each(${fleetNodes.labelsJson}) WHERE json_each.key = ${key} AND json_each.value = ${value})`,
    );
  }
  return db
    .select()
    .from(fleetNodes)
    .where(and(...where))
    .orderBy(asc(fleetNodes.id))
    .limit(q.limit + 1);
}

/** What the Fleet object changes about a node; unset fields stay as they are. */
export interface NodeStatePatch {
  status?: "online" | "offline";
  lastSeenAtMs?: number;
  labels?: Labels;
  facts?: NodeFacts;
  agentVersion?: string;
  running?: { assignmentId: string; policyId: string; version: number } | null;
  dryRun?: boolean;
}

/**
 * Mirrors a state change of one enrollment's node into D1. Versioned: a write whose
 * `stateVersion` is not newer than the stored one (it raced a later write) changes nothing, and
 * a write for an older enrollment (another credential) neither. Returns whether it applied.
 *
 * @example await writeNodeState(db, { tenantId, nodeId, credentialId, stateVersion: 7 }, { status: "offline" }, Date.now())
 */
export async function writeNodeState(
  db: Db,
  key: { tenantId: string; nodeId: string; credentialId: string; stateVersion: number },
  patch: NodeStatePatch,
  nowMs: number,
): Promise<boolean> {
  const set: Partial<NodeRow> = { stateVersion: key.stateVersion, updatedAtMs: nowMs };
  if (patch.status !== undefined) set.status = patch.status;
  if (patch.lastSeenAtMs !== undefined) set.lastSeenAtMs = patch.lastSeenAtMs;
  if (patch.labels !== undefined) set.labelsJson = JSON.stringify(patch.labels);
  if (patch.facts !== undefined) set.factsJson = JSON.stringify(patch.facts);
  if (patch.agentVersion !== undefined) set.agentVersion = patch.agentVersion;
  if (patch.running !== undefined)
    set.runningJson = patch.running === null ? null : JSON.stringify(patch.running);
  if (patch.dryRun !== undefined) set.dryRun = patch.dryRun;
  const result = await db
    .update(fleetNodes)
    .set(set)
    .where(
      and(
        eq(fleetNodes.tenantId, key.tenantId),
        eq(fleetNodes.id, key.nodeId),
        eq(fleetNodes.credentialId, key.credentialId),
        sql`${fleetNodes.stateVersion} < ${key.stateVersion}`,
      ),
    );
  return changes(result) === 1;
}

/**
 * Revokes a node's credential (idempotent: the first revocation time is kept) and marks it
 * offline. Returns the row as it is now, or undefined when the tenant has no such node.
 */
export async function revokeNode(
  db: Db,
  tenantId: string,
  nodeId: string,
  nowMs: number,
): Promise<NodeRow | undefined> {
  await db
    .update(fleetNodes)
    .set({ revokedAtMs: nowMs, status: "offline", updatedAtMs: nowMs })
    .where(
      and(
        eq(fleetNodes.tenantId, tenantId),
        eq(fleetNodes.id, nodeId),
        sql`${fleetNodes.revokedAtMs} IS NULL`,
      ),
    );
  return findNode(db, tenantId, nodeId);
}
