/**
 * The workspace as its owner's Durable Object serves it: one RPC, `workspace(tenantId, req)`,
 * whose requests are the operations below. Changes run one at a time per process (a queue in
 * memory: the object is single-threaded, but awaits on D1 and R2 would otherwise interleave two
 * writes between their quota check and their commit).
 *
 * A write is all-or-nothing: the bytes of a large value are in R2 before the request arrives;
 * the object checks the process quota, charges the tenant's (one conditional D1 statement),
 * then commits the metadata in one transaction. A refused or failed write leaves no trace: the
 * tenant charge is refunded and an R2 blob no entry references is deleted.
 */

import type { Env } from "../env.js";
import type { ProcessRecord } from "../kernel/process/record.js";
import {
  breachOf,
  deltaOf,
  type QuotaBreach,
  SHARES_MAX_PER_PROCESS,
  type WorkspaceUsage,
} from "../kernel/workspace/limits.js";
import { shareCovers } from "../kernel/workspace/paths.js";
import { openDb } from "../store/db.js";
import { chargeTenant, refundTenant, workspaceQuotaOf } from "../store/workspace-usage.js";
import {
  type EntryMeta,
  type ShareGrant,
  type ShareMode,
  type StoredIn,
  type WorkspaceKind,
  WorkspaceStore,
} from "./workspace-store.js";

export type { EntryMeta, ShareGrant, ShareMode, WorkspaceKind } from "./workspace-store.js";

/**
 * The R2 name of a process's large value: content-addressed, so the same bytes are stored once
 * per process.
 */
export function blobKey(tenantId: string, processId: string, sha256: string): string {
  return `ws/${tenantId}/${processId}/${sha256}`;
}

/**
 * Who is asking: null for the owner itself or a tenant key (full access); a process id for
 * another process of the tenant, which reaches only what the owner shared with it.
 */
export type Viewer = string | null;

export type WorkspaceRequest =
  | {
      op: "put";
      kind: WorkspaceKind;
      path: string;
      sizeBytes: number;
      sha256: string;
      contentType: string;
      /** The bytes when small; null when they were uploaded to R2 under `blobKey`. */
      inline: Uint8Array | null;
      viewer: Viewer;
    }
  | { op: "get"; kind: WorkspaceKind; path: string; viewer: Viewer }
  | { op: "delete"; kind: WorkspaceKind; path: string; viewer: Viewer }
  | {
      op: "list";
      kind: WorkspaceKind;
      prefix: string;
      after: string | null;
      limit: number;
      viewer: Viewer;
    }
  | { op: "share"; path: string; recipients: string[]; mode: ShareMode; actor: string }
  | { op: "revoke"; path: string; recipients: string[] | null }
  | { op: "shares" }
  | { op: "usage" }
  /** A blob uploaded for a write that never reached the object: delete it unless referenced. */
  | { op: "discard"; sha256: string };

export interface UsageView {
  process: WorkspaceUsage & { maxBytes: number; maxObjects: number };
}

export type WorkspaceValue =
  | { op: "put"; entry: EntryMeta; created: boolean }
  | { op: "get"; entry: EntryMeta; inline: Uint8Array | null }
  | { op: "delete"; entry: EntryMeta }
  | { op: "list"; items: EntryMeta[]; more: boolean }
  | { op: "share"; shares: ShareGrant[] }
  | { op: "revoke"; revoked: number }
  | { op: "shares"; items: ShareGrant[] }
  | { op: "usage"; usage: UsageView }
  | { op: "discard"; deleted: boolean };

export type WorkspaceReply =
  | { ok: true; value: WorkspaceValue }
  | { ok: false; code: "no_process"; reason: string }
  | { ok: false; code: "not_found"; reason: string }
  | { ok: false; code: "quota_exceeded"; reason: string; breach: QuotaBreach }
  | { ok: false; code: "conflict"; reason: string };

/** What the workspace needs of its object. */
export interface WorkspaceHost {
  storage: DurableObjectStorage;
  env: Env;
  /** The process record (for its tenant and id). */
  load(): ProcessRecord | null;
}

interface ObjectState {
  store: WorkspaceStore;
  /** The tail of the queue of changes. */
  tail: Promise<unknown>;
}

const states = new WeakMap<DurableObjectStorage, ObjectState>();

function stateOf(storage: DurableObjectStorage): ObjectState {
  let s = states.get(storage);
  if (!s) {
    s = { store: new WorkspaceStore(storage.sql), tail: Promise.resolve() };
    states.set(storage, s);
  }
  return s;
}

/** Runs `fn` after every change queued before it. */
function serially<T>(s: ObjectState, fn: () => Promise<T>): Promise<T> {
  const run = s.tail.then(fn, fn);
  s.tail = run.catch(() => undefined);
  return run;
}

const MISSING = (path: string): WorkspaceReply => ({
  ok: false,
  code: "not_found",
  reason: `no such path ${path}`,
});

/**
 * Serves one workspace request for the process in `h`; a process of another tenant answers
 * like a missing one.
 *
 * @example await serveWorkspace(host, tenantId, { op: "get", kind: "file", path: "a.txt", viewer: null })
 */
export async function serveWorkspace(
  h: WorkspaceHost,
  tenantId: string,
  req: WorkspaceRequest,
): Promise<WorkspaceReply> {
  const record = h.load();
  if (!record || record.tenantId !== tenantId) {
    return { ok: false, code: "no_process", reason: "no such process" };
  }
  const s = stateOf(h.storage);
  const store = s.store;
  switch (req.op) {
    case "get": {
      const entry = store.entry(req.kind, req.path);
      if (!entry || !mayAccess(store, req.kind, req.path, req.viewer, "read"))
        return MISSING(req.path);
      const inline = entry.storedIn === "object" ? store.inlineBytes(req.kind, req.path) : null;
      return { ok: true, value: { op: "get", entry, inline } };
    }
    case "list": {
      const shares = req.viewer === null ? null : store.sharesTo(req.viewer);
      const items: EntryMeta[] = [];
      let after = req.after;
      // A recipient sees only what its shares cover: skip the rest, a bounded batch at a time.
      for (;;) {
        const batch = store.list(req.kind, req.prefix, after, req.limit + 1);
        for (const e of batch) {
          if (
            shares === null ||
            (req.kind === "file" && shares.some((g) => shareCovers(g.path, e.path)))
          )
            items.push(e);
        }
        const last = batch[batch.length - 1];
        if (items.length > req.limit || batch.length <= req.limit || !last) break;
        after = last.path;
      }
      return {
        ok: true,
        value: { op: "list", items: items.slice(0, req.limit), more: items.length > req.limit },
      };
    }
    case "shares":
      return { ok: true, value: { op: "shares", items: store.shares() } };
    case "usage": {
      const quota = await workspaceQuotaOf(openDb(h.env.DB), tenantId);
      return {
        ok: true,
        value: {
          op: "usage",
          usage: {
            process: {
              ...store.usage(),
              maxBytes: quota.processMaxBytes,
              maxObjects: quota.processMaxObjects,
            },
          },
        },
      };
    }
    case "put":
      return serially(s, () => put(h, s.store, record, req));
    case "delete":
      return serially(s, () => remove(h, s.store, record, req));
    case "share":
      return serially(s, async () => {
        const existing = store.shares();
        const fresh = req.recipients.filter(
          (r) => !existing.some((g) => g.path === req.path && g.recipient === r),
        );
        if (existing.length + fresh.length > SHARES_MAX_PER_PROCESS) {
          return {
            ok: false,
            code: "conflict",
            reason: `a process may hold at most ${SHARES_MAX_PER_PROCESS} shares; it holds ${existing.length}`,
          };
        }
        const nowMs = Date.now();
        h.storage.transactionSync(() => {
          for (const recipient of req.recipients) {
            store.putShare(
              { path: req.path, recipient, mode: req.mode, grantedBy: req.actor },
              nowMs,
            );
          }
        });
        const shares = store.shares().filter((g) => g.path === req.path);
        return { ok: true, value: { op: "share", shares } };
      });
    case "revoke":
      return serially(s, async () => {
        const revoked = h.storage.transactionSync(() =>
          store.deleteShares(req.path, req.recipients),
        );
        return { ok: true, value: { op: "revoke", revoked } };
      });
    case "discard":
      return serially(s, async () => ({
        ok: true,
        value: { op: "discard", deleted: await discardBlob(h, store, record, req.sha256) },
      }));
  }
}

/** The owner (viewer null) may do anything; another process what a share covers. */
function mayAccess(
  store: WorkspaceStore,
  kind: WorkspaceKind,
  path: string,
  viewer: Viewer,
  need: ShareMode,
): boolean {
  if (viewer === null) return true;
  if (kind !== "file") return false;
  return store
    .sharesTo(viewer)
    .some((g) => shareCovers(g.path, path) && (need === "read" || g.mode === "write"));
}

async function put(
  h: WorkspaceHost,
  store: WorkspaceStore,
  record: ProcessRecord,
  req: Extract<WorkspaceRequest, { op: "put" }>,
): Promise<WorkspaceReply> {
  const storedIn: StoredIn = req.inline === null ? "r2" : "object";
  const refuse = async (reply: WorkspaceReply): Promise<WorkspaceReply> => {
    if (storedIn === "r2") await discardBlob(h, store, record, req.sha256);
    return reply;
  };
  if (!mayAccess(store, req.kind, req.path, req.viewer, "write")) {
    return refuse(MISSING(req.path));
  }
  const old = store.entry(req.kind, req.path);
  const delta = deltaOf(old?.sizeBytes ?? null, req.sizeBytes);
  const db = openDb(h.env.DB);
  const quota = await workspaceQuotaOf(db, record.tenantId);
  const processBreach = breachOf(
    "process",
    store.usage(),
    delta,
    quota.processMaxBytes,
    quota.processMaxObjects,
  );
  if (processBreach) {
    return refuse({ ok: false, code: "quota_exceeded", reason: "", breach: processBreach });
  }
  const charged = delta.bytes !== 0 || delta.objects !== 0;
  if (charged) {
    const tenantBreach = await chargeTenant(db, record.tenantId, record.id, delta, quota);
    if (tenantBreach) {
      return refuse({ ok: false, code: "quota_exceeded", reason: "", breach: tenantBreach });
    }
  }
  try {
    if (storedIn === "r2") {
      // A concurrent refused write of the same bytes may have discarded the blob meanwhile.
      const head = await h.env.BLOBS.head(blobKey(record.tenantId, record.id, req.sha256));
      if (!head) {
        if (charged) await refundTenant(db, record.tenantId, record.id, delta);
        return {
          ok: false,
          code: "conflict",
          reason: "the uploaded bytes were discarded by a concurrent refused write; retry",
        };
      }
    }
    h.storage.transactionSync(() =>
      store.upsert(
        {
          kind: req.kind,
          path: req.path,
          sizeBytes: req.sizeBytes,
          sha256: req.sha256,
          contentType: req.contentType,
          storedIn,
        },
        req.inline,
        Date.now(),
      ),
    );
  } catch (error) {
    if (charged) await refundTenant(db, record.tenantId, record.id, delta);
    await discardBlob(h, store, record, req.sha256).catch(() => false);
    throw error;
  }
  // The bytes this path held before may now be referenced by nothing.
  if (old && old.storedIn === "r2" && old.sha256 !== req.sha256) {
    await discardBlob(h, store, record, old.sha256).catch((e) =>
      console.error("workspace blob cleanup failed", record.id, old.sha256, e),
    );
  }
  const entry = store.entry(req.kind, req.path);
  if (!entry) throw new Error("workspace: committed entry not found");
  return { ok: true, value: { op: "put", entry, created: old === null } };
}

async function remove(
  h: WorkspaceHost,
  store: WorkspaceStore,
  record: ProcessRecord,
  req: Extract<WorkspaceRequest, { op: "delete" }>,
): Promise<WorkspaceReply> {
  const entry = store.entry(req.kind, req.path);
  if (!entry || !mayAccess(store, req.kind, req.path, req.viewer, "write"))
    return MISSING(req.path);
  h.storage.transactionSync(() => store.delete(req.kind, req.path));
  // The object is the authority: a refund that fails leaves the tenant over-counted (never
  // under), which the next purge of the process corrects.
  await refundTenant(openDb(h.env.DB), record.tenantId, record.id, {
    bytes: entry.sizeBytes,
    objects: 1,
  }).catch((e) => console.error("workspace refund failed", record.id, e));
  if (entry.storedIn === "r2") {
    await discardBlob(h, store, record, entry.sha256).catch((e) =>
      console.error("workspace blob cleanup failed", record.id, entry.sha256, e),
    );
  }
  return { ok: true, value: { op: "delete", entry } };
}

/** Deletes the blob with these bytes unless an entry still references it. */
async function discardBlob(
  h: WorkspaceHost,
  store: WorkspaceStore,
  record: ProcessRecord,
  sha256: string,
): Promise<boolean> {
  if (store.blobReferenced(sha256)) return false;
  await h.env.BLOBS.delete(blobKey(record.tenantId, record.id, sha256));
  return true;
}
