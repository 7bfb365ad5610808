/**
 * The caller-facing workspace system calls as plain functions `(env, db, caller, input)`: the
 * HTTPS routes and the MCP tools are both thin adapters over these, so the two surfaces cannot
 * drift apart in what they allow.
 *
 * Who reaches a workspace:
 *   - a tenant key: any role reads, operator or admin writes and shares (gated as the key);
 *   - the owner's agent key: everything, each call the process's own system call (`ws.read`,
 *     `ws.write`, `ws.share` through `gateSyscall`);
 *   - another process's agent key: only files the owner shared with it, gated as that process's
 *     `ws.read`/`ws.write`; anything else answers 404, exactly like a missing file.
 */

import {
  READ_ROLES,
  requireActor,
  requireProcessAccess,
  requireTenantKey,
  WRITE_ROLES,
} from "../api/authorize.js";
import { ApiError, fieldError } from "../api/problem.js";
import type { Env } from "../env.js";
import { sha256Hex } from "../kernel/hash.js";
import { isId } from "../kernel/ids.js";
import {
  describeBreach,
  INLINE_MAX_BYTES,
  SHARE_MAX_RECIPIENTS,
} from "../kernel/workspace/limits.js";
import { checkPath, checkPrefix, checkSharePath } from "../kernel/workspace/paths.js";
import type { Db } from "../store/db.js";
import { tenantUsageOf, workspaceQuotaOf } from "../store/workspace-usage.js";
import { processStub } from "./agent-process.js";
import { gateSyscall } from "./call-gate.js";
import type { Caller, Page } from "./process-calls.js";
import {
  blobKey,
  type EntryMeta,
  type ShareGrant,
  type ShareMode,
  type UsageView,
  type Viewer,
  type WorkspaceKind,
  type WorkspaceReply,
  type WorkspaceRequest,
  type WorkspaceValue,
} from "./workspace.js";

/** The workspace RPC of a process's object. */
export interface WorkspaceRpc {
  workspace(tenantId: string, req: WorkspaceRequest): Promise<WorkspaceReply>;
}

function wsStub(env: Env, processId: string): WorkspaceRpc {
  return processStub(env, processId) as unknown as WorkspaceRpc;
}

/** Where a call lands: whose workspace, in which tenant, seen by whom. */
export interface WorkspaceTarget {
  tenantId: string;
  ownerId: string;
  viewer: Viewer;
}

const noProcess = (id: string) => new ApiError("not_found", `no process ${id}`);

/**
 * Authorises one workspace call on `ownerId`'s workspace; throws 404 for a malformed, missing
 * or foreign process, 403 for a role or a gate refusal.
 */
async function targetOf(
  env: Env,
  db: Db,
  caller: Caller,
  ownerId: string,
  need: "read" | "write",
): Promise<WorkspaceTarget> {
  const roles = need === "read" ? READ_ROLES : WRITE_ROLES;
  const principal = requireActor(caller, roles);
  if (!isId("process", ownerId)) throw noProcess(ownerId);
  if (principal.processId === null && need === "read") {
    // A tenant key that only looks is no process's system call.
    return { tenantId: requireTenantKey(caller, roles).tenantId, ownerId, viewer: null };
  }
  const acting = await gateSyscall(env, db, caller, `ws.${need}`, roles, {
    type: "Process",
    id: ownerId,
  });
  const viewer = acting.as === "process" && acting.processId !== ownerId ? acting.processId : null;
  return { tenantId: acting.tenantId, ownerId, viewer };
}

/** Sends one request, mapping refusals onto the API's errors. */
async function send<O extends WorkspaceValue["op"]>(
  env: Env,
  t: Pick<WorkspaceTarget, "tenantId" | "ownerId">,
  req: WorkspaceRequest & { op: O },
): Promise<Extract<WorkspaceValue, { op: O }>> {
  const reply = await wsStub(env, t.ownerId).workspace(t.tenantId, req);
  if (reply.ok) return reply.value as Extract<WorkspaceValue, { op: O }>;
  throw refusalOf(t.ownerId, reply);
}

/** A path from a client, or 422 naming `field`. */
export function validPath(path: string, field = "path"): string {
  const check = checkPath(path);
  if (!check.ok) throw fieldError(field, check.reason, "invalid_path");
  return check.path;
}

// ---------------------------------------------------------------------------------------------
// cursors: the last path of a page, base64url of its UTF-8 (paths are not Latin-1)

const CURSOR_MAX_CHARS = 1400;

export function encodePathCursor(path: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(path)) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export function decodePathCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  const bad = () => fieldError("cursor", "not a cursor issued by this API", "invalid_cursor");
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || cursor.length > CURSOR_MAX_CHARS) throw bad();
  try {
    const bin = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw bad();
  }
}

// ---------------------------------------------------------------------------------------------
// write, read, delete, list

export interface WriteInput {
  processId: string;
  kind: WorkspaceKind;
  path: string;
  bytes: Uint8Array;
  contentType: string;
}

/**
 * Stores `bytes` at a path: small values in the owner's object, larger ones in R2 first, then
 * the metadata. All or nothing; at a quota, 413 `quota_exceeded` naming the limit and the use.
 *
 * @example await writeEntry(env, db, principal, { processId, kind: "file", path: "a.txt", bytes, contentType: "text/plain" })
 */
export async function writeEntry(
  env: Env,
  db: Db,
  caller: Caller,
  input: WriteInput,
): Promise<{ entry: EntryMeta; created: boolean }> {
  const path = validPath(input.path, input.kind === "kv" ? "key" : "path");
  const t = await targetOf(env, db, caller, input.processId, "write");
  return putBytes(env, t, { ...input, path });
}

/**
 * The write itself, for a caller already authorised (also the agent loop's `ws_write`, which
 * runs inside a process's object and passes its own `send`).
 */
export async function putBytes(
  env: Env,
  t: WorkspaceTarget,
  input: Omit<WriteInput, "processId">,
  sendRequest: (req: WorkspaceRequest) => Promise<WorkspaceReply> = (req) =>
    wsStub(env, t.ownerId).workspace(t.tenantId, req),
): Promise<{ entry: EntryMeta; created: boolean }> {
  const sha256 = await sha256Hex(input.bytes);
  const large = input.bytes.byteLength > INLINE_MAX_BYTES;
  const key = blobKey(t.tenantId, t.ownerId, sha256);
  if (large) {
    await env.BLOBS.put(key, input.bytes, {
      httpMetadata: { contentType: input.contentType },
      sha256,
    });
  }
  let reply: WorkspaceReply;
  try {
    reply = await sendRequest({
      op: "put",
      kind: input.kind,
      path: input.path,
      sizeBytes: input.bytes.byteLength,
      sha256,
      contentType: input.contentType,
      inline: large ? null : input.bytes,
      viewer: t.viewer,
    });
  } catch (error) {
    // The object never answered: ask it to drop the blob unless something references it.
    if (large) await sendRequest({ op: "discard", sha256 }).catch(() => undefined);
    throw error;
  }
  if (!reply.ok && reply.code === "no_process" && large) {
    // No process, so no entry can reference these bytes.
    await env.BLOBS.delete(key);
  }
  if (reply.ok && reply.value.op === "put") {
    return { entry: reply.value.entry, created: reply.value.created };
  }
  throw refusalOf(t.ownerId, reply);
}

export function refusalOf(ownerId: string, reply: WorkspaceReply): ApiError {
  if (reply.ok) return new ApiError("internal", "unexpected workspace reply");
  switch (reply.code) {
    case "no_process":
      return noProcess(ownerId);
    case "not_found":
      return new ApiError("not_found", reply.reason);
    case "conflict":
      return new ApiError("conflict", reply.reason);
    case "quota_exceeded":
      return new ApiError("quota_exceeded", describeBreach(reply.breach), {
        extra: { ...reply.breach },
      });
  }
}

/** An entry's metadata and where to read its bytes. */
export interface ReadResult {
  entry: EntryMeta;
  /** The bytes when kept in the object; null when they are in R2 at `blobKey`. */
  inline: Uint8Array | null;
  blobKey: string;
}

/**
 * An entry's metadata and bytes (or where they are); 404 for a missing, unshared or foreign one.
 *
 * @example const { entry } = await readEntry(env, db, principal, { processId, kind: "file", path: "a.txt" })
 */
export async function readEntry(
  env: Env,
  db: Db,
  caller: Caller,
  input: { processId: string; kind: WorkspaceKind; path: string },
): Promise<ReadResult> {
  const path = validPath(input.path, input.kind === "kv" ? "key" : "path");
  const t = await targetOf(env, db, caller, input.processId, "read");
  const { entry, inline } = await send(env, t, {
    op: "get",
    kind: input.kind,
    path,
    viewer: t.viewer,
  });
  return { entry, inline, blobKey: blobKey(t.tenantId, t.ownerId, entry.sha256) };
}

/**
 * The bytes `[offset, offset + length)` of a read entry (all of them without a range).
 *
 * @example const body = await bytesOf(env, read, { offset: 0, length: 10 })
 */
export async function bytesOf(
  env: Env,
  read: ReadResult,
  range: { offset: number; length: number } | null,
): Promise<Uint8Array | ReadableStream> {
  if (read.inline !== null) {
    return range ? read.inline.slice(range.offset, range.offset + range.length) : read.inline;
  }
  const obj = await env.BLOBS.get(read.blobKey, range ? { range } : undefined);
  if (!obj) throw new ApiError("not_found", `the bytes of ${read.entry.path} are missing`);
  return obj.body;
}

/**
 * Deletes an entry (its R2 bytes too, once no other path holds the same bytes).
 *
 * @example await deleteEntry(env, db, principal, { processId, kind: "file", path: "a.txt" })
 */
export async function deleteEntry(
  env: Env,
  db: Db,
  caller: Caller,
  input: { processId: string; kind: WorkspaceKind; path: string },
): Promise<EntryMeta> {
  const path = validPath(input.path, input.kind === "kv" ? "key" : "path");
  const t = await targetOf(env, db, caller, input.processId, "write");
  const { entry } = await send(env, t, { op: "delete", kind: input.kind, path, viewer: t.viewer });
  return entry;
}

/**
 * One page of entries under `prefix`, in path order (a recipient sees only what is shared).
 *
 * @example await listEntries(env, db, principal, { processId, kind: "file", prefix: "reports/", limit: 50 })
 */
export async function listEntries(
  env: Env,
  db: Db,
  caller: Caller,
  input: {
    processId: string;
    kind: WorkspaceKind;
    prefix?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<Page<EntryMeta>> {
  const prefix = input.prefix ?? "";
  const check = checkPrefix(prefix);
  if (!check.ok) throw fieldError("prefix", check.reason, "invalid_path");
  const after = decodePathCursor(input.cursor);
  const t = await targetOf(env, db, caller, input.processId, "read");
  const { items, more } = await send(env, t, {
    op: "list",
    kind: input.kind,
    prefix,
    after,
    limit: input.limit,
    viewer: t.viewer,
  });
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodePathCursor(last.path) : null };
}

// ---------------------------------------------------------------------------------------------
// shares and usage

/** Only the owner shares: a tenant key (operator or admin) or the owner's own agent key. */
async function ownerTarget(
  env: Env,
  db: Db,
  caller: Caller,
  ownerId: string,
): Promise<WorkspaceTarget> {
  requireProcessAccess(caller, ownerId, WRITE_ROLES);
  if (!isId("process", ownerId)) throw noProcess(ownerId);
  const acting = await gateSyscall(env, db, caller, "ws.share", WRITE_ROLES, {
    type: "Process",
    id: ownerId,
  });
  return { tenantId: acting.tenantId, ownerId, viewer: null };
}

/**
 * 422 naming the first recipient that is the owner itself or no process of the owner's tenant.
 */
export async function checkRecipients(
  env: Env,
  t: Pick<WorkspaceTarget, "tenantId" | "ownerId">,
  recipients: readonly string[],
): Promise<void> {
  for (const [i, id] of recipients.entries()) {
    if (id === t.ownerId) {
      throw fieldError(`recipients[${i}]`, "a process needs no share of its own workspace");
    }
    const exists = isId("process", id) && (await processStub(env, id).get(t.tenantId)) !== null;
    if (!exists) throw fieldError(`recipients[${i}]`, `no process ${id}`, "not_found");
  }
}

export interface ShareInput {
  processId: string;
  path: string;
  recipients: string[];
  mode: ShareMode;
}

/**
 * Grants `recipients` (processes of the same tenant) read or write on a path or a prefix
 * ending in `/`. Granting again replaces the mode.
 *
 * @example await sharePath(env, db, principal, { processId, path: "reports/", recipients: [otherId], mode: "read" })
 */
export async function sharePath(
  env: Env,
  db: Db,
  caller: Caller,
  input: ShareInput,
): Promise<{ shares: ShareGrant[] }> {
  const check = checkSharePath(input.path);
  if (!check.ok) throw fieldError("path", check.reason, "invalid_path");
  const recipients = [...new Set(input.recipients)];
  if (recipients.length === 0 || recipients.length > SHARE_MAX_RECIPIENTS) {
    throw fieldError(
      "recipients",
      `must name 1 to ${SHARE_MAX_RECIPIENTS} processes`,
      "invalid_length",
    );
  }
  const t = await ownerTarget(env, db, caller, input.processId);
  await checkRecipients(env, t, input.recipients);
  const actor = requireActor(caller, WRITE_ROLES);
  const { shares } = await send(env, t, {
    op: "share",
    path: check.path,
    recipients,
    mode: input.mode,
    actor: actor.processId ?? actor.actor,
  });
  return { shares };
}

/**
 * Withdraws the shares of a path from `recipients` (from everyone when absent); the recipients'
 * next calls answer 404.
 *
 * @example await revokeShare(env, db, principal, { processId, path: "reports/", recipients: [otherId] })
 */
export async function revokeShare(
  env: Env,
  db: Db,
  caller: Caller,
  input: { processId: string; path: string; recipients?: string[] | undefined },
): Promise<{ revoked: number }> {
  const check = checkSharePath(input.path);
  if (!check.ok) throw fieldError("path", check.reason, "invalid_path");
  const t = await ownerTarget(env, db, caller, input.processId);
  const { revoked } = await send(env, t, {
    op: "revoke",
    path: check.path,
    recipients: input.recipients ?? null,
  });
  return { revoked };
}

/**
 * The shares a process has granted (any tenant key, or the owner's agent key).
 *
 * @example const { items } = await listShares(env, db, principal, { processId })
 */
export async function listShares(
  env: Env,
  _db: Db,
  caller: Caller,
  input: { processId: string },
): Promise<{ items: ShareGrant[] }> {
  const p = requireProcessAccess(caller, input.processId, READ_ROLES);
  if (!isId("process", input.processId)) throw noProcess(input.processId);
  const { items } = await send(
    env,
    { tenantId: p.tenantId, ownerId: input.processId },
    {
      op: "shares",
    },
  );
  return { items };
}

/** A process's and its tenant's workspace use against their quotas. */
export interface WorkspaceUsageView extends UsageView {
  tenant: { bytes: number; objects: number; maxBytes: number; maxObjects: number };
}

/**
 * What a process's workspace holds against its quota (any tenant key, or its own agent key).
 *
 * @example const usage = await workspaceUsage(env, db, principal, { processId })
 */
export async function workspaceUsage(
  env: Env,
  db: Db,
  caller: Caller,
  input: { processId: string },
): Promise<WorkspaceUsageView> {
  const p = requireProcessAccess(caller, input.processId, READ_ROLES);
  if (!isId("process", input.processId)) throw noProcess(input.processId);
  const { usage } = await send(
    env,
    { tenantId: p.tenantId, ownerId: input.processId },
    {
      op: "usage",
    },
  );
  const [tenant, quota] = await Promise.all([
    tenantUsageOf(db, p.tenantId),
    workspaceQuotaOf(db, p.tenantId),
  ]);
  return {
    process: usage.process,
    tenant: { ...tenant, maxBytes: quota.tenantMaxBytes, maxObjects: quota.tenantMaxObjects },
  };
}
