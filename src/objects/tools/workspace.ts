/**
 * The workspace tools as they run in the calling process's object. The gate has already
 * checked the capability (`ws.read`, `ws.write`, `ws.share`) for this process. The process's
 * own workspace is served by its own object directly; another process's through that
 * process's object, as a recipient (which reaches only what was shared with it).
 */

import { ApiError } from "../../api/problem.js";
import { TOOL_READ_MAX_BYTES } from "../../kernel/agent/tools/workspace.js";
import { isId } from "../../kernel/ids.js";
import type { ProcessRecord } from "../../kernel/process/record.js";
import { checkPath, checkPrefix, checkSharePath } from "../../kernel/workspace/paths.js";
import type { ToolCall } from "../../llm/types.js";
import type { LoopHost } from "../agent-loop.js";
import { processStub } from "../agent-process.js";
import type { WorkspaceReply, WorkspaceRequest, WorkspaceValue } from "../workspace.js";
import { blobKey } from "../workspace.js";
import {
  checkRecipients,
  decodePathCursor,
  encodePathCursor,
  putBytes,
  refusalOf,
  type WorkspaceRpc,
  type WorkspaceTarget,
} from "../workspace-calls.js";
import { type CallOutcome, resultOf, type ToolHandlers } from "./types.js";

type Send = (req: WorkspaceRequest) => Promise<WorkspaceReply>;

/** Whose workspace a call uses, and how to reach it from this process's object. */
function route(
  h: LoopHost,
  record: ProcessRecord,
  owner: string | undefined,
): { t: WorkspaceTarget; send: Send } {
  const tenantId = record.tenantId;
  if (owner === undefined || owner === record.id) {
    // AgentProcess serves its own workspace: call it in place, not through a stub to itself.
    const self = h as unknown as WorkspaceRpc;
    return {
      t: { tenantId, ownerId: record.id, viewer: null },
      send: (req) => self.workspace(tenantId, req),
    };
  }
  if (!isId("process", owner)) throw new ApiError("not_found", `no process ${owner}`);
  const stub = processStub(h.processEnv, owner) as unknown as WorkspaceRpc;
  return {
    t: { tenantId, ownerId: owner, viewer: record.id },
    send: (req) => stub.workspace(tenantId, req),
  };
}

async function ask<O extends WorkspaceValue["op"]>(
  send: Send,
  ownerId: string,
  req: WorkspaceRequest & { op: O },
): Promise<Extract<WorkspaceValue, { op: O }>> {
  const reply = await send(req);
  if (reply.ok) return reply.value as Extract<WorkspaceValue, { op: O }>;
  throw refusalOf(ownerId, reply);
}

function validPath(path: string): string {
  const check = checkPath(path);
  if (!check.ok) throw new ApiError("validation_failed", `path: ${check.reason}`);
  return check.path;
}

/** Runs a handler body, turning the API's refusals into an error the model reads. */
async function guarded(call: ToolCall, body: () => Promise<unknown>): Promise<CallOutcome> {
  try {
    return resultOf(call, await body());
  } catch (error) {
    if (error instanceof ApiError) {
      return resultOf(call, { error: error.message, code: error.code, ...error.extra }, true);
    }
    throw error;
  }
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

function fromBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    throw new ApiError("validation_failed", "content: not valid base64");
  }
}

export const WORKSPACE_TOOL_HANDLERS: ToolHandlers<
  "ws_read" | "ws_write" | "ws_list" | "ws_delete" | "ws_share"
> = {
  ws_read: async ({ h, record, call }, args) =>
    guarded(call, async () => {
      const { t, send } = route(h, record, args.owner);
      const path = validPath(args.path);
      const { entry, inline } = await ask(send, t.ownerId, {
        op: "get",
        kind: "file",
        path,
        viewer: t.viewer,
      });
      const offset = Math.min(args.offset ?? 0, entry.sizeBytes);
      const length = Math.min(args.length ?? TOOL_READ_MAX_BYTES, entry.sizeBytes - offset);
      let bytes: Uint8Array;
      if (inline) bytes = inline.slice(offset, offset + length);
      else if (length === 0) bytes = new Uint8Array(0);
      else {
        const obj = await h.processEnv.BLOBS.get(blobKey(t.tenantId, t.ownerId, entry.sha256), {
          range: { offset, length },
        });
        if (!obj) throw new ApiError("not_found", `the bytes of ${path} are missing`);
        bytes = new Uint8Array(await obj.arrayBuffer());
      }
      let content: string;
      let encoding: "text" | "base64" = "text";
      try {
        content = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
      } catch {
        content = toBase64(bytes);
        encoding = "base64";
      }
      return {
        path,
        contentType: entry.contentType,
        sizeBytes: entry.sizeBytes,
        version: entry.version,
        offset,
        length: bytes.length,
        more: offset + bytes.length < entry.sizeBytes,
        encoding,
        content,
      };
    }),

  ws_write: async ({ h, record, call }, args) =>
    guarded(call, async () => {
      const { t, send } = route(h, record, args.owner);
      const path = validPath(args.path);
      const bytes =
        args.encoding === "base64"
          ? fromBase64(args.content)
          : new TextEncoder().encode(args.content);
      const contentType =
        args.contentType ??
        (args.encoding === "base64" ? "application/octet-stream" : "text/plain; charset=utf-8");
      const { entry, created } = await putBytes(
        h.processEnv,
        t,
        { kind: "file", path, bytes, contentType },
        send,
      );
      return { ...entry, created };
    }),

  ws_list: async ({ h, record, call }, args) =>
    guarded(call, async () => {
      const { t, send } = route(h, record, args.owner);
      const prefix = args.prefix ?? "";
      const check = checkPrefix(prefix);
      if (!check.ok) throw new ApiError("validation_failed", `prefix: ${check.reason}`);
      const { items, more } = await ask(send, t.ownerId, {
        op: "list",
        kind: "file",
        prefix,
        after: decodePathCursor(args.cursor),
        limit: args.limit,
        viewer: t.viewer,
      });
      const last = items[items.length - 1];
      return {
        items: items.map((e) => ({
          path: e.path,
          sizeBytes: e.sizeBytes,
          contentType: e.contentType,
          version: e.version,
        })),
        nextCursor: more && last ? encodePathCursor(last.path) : null,
      };
    }),

  ws_delete: async ({ h, record, call }, args) =>
    guarded(call, async () => {
      const { t, send } = route(h, record, args.owner);
      const { entry } = await ask(send, t.ownerId, {
        op: "delete",
        kind: "file",
        path: validPath(args.path),
        viewer: t.viewer,
      });
      return { deleted: entry.path };
    }),

  ws_share: async ({ h, record, call }, args) =>
    guarded(call, async () => {
      const { t, send } = route(h, record, undefined);
      const check = checkSharePath(args.path);
      if (!check.ok) throw new ApiError("validation_failed", `path: ${check.reason}`);
      const recipients = [...new Set(args.recipients)];
      if (args.revoke) {
        return ask(send, t.ownerId, { op: "revoke", path: check.path, recipients });
      }
      await checkRecipients(h.processEnv, t, recipients);
      const { shares } = await ask(send, t.ownerId, {
        op: "share",
        path: check.path,
        recipients,
        mode: args.mode,
        actor: record.id,
      });
      return { shares };
    }),
};
