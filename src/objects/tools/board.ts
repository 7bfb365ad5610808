/**
 * The blackboard and artifact tools as they run in the calling process's object (the gate has
 * already allowed the call). Writes are idempotent per (process, step, call): a step repeated
 * after a crash gets the first outcome back instead of writing twice (which, for a
 * compare-and-set, would be refused as stale by its own first write).
 */

import { BOARD_LIMITS } from "../../kernel/agent/tools/board.js";
import { sha256Hex } from "../../kernel/hash.js";
import { isId, newId } from "../../kernel/ids.js";
import { findArtifact, listArtifacts, putArtifact } from "../../store/artifacts.js";
import {
  getBlackboardEntry,
  listBlackboardEntries,
  putBlackboardEntry,
} from "../../store/blackboard.js";
import { decodeCursor, encodeCursor } from "../../store/cursor.js";
import { openDb } from "../../store/db.js";
import { artifactView, entryView } from "../board-views.js";
import { resultOf, type ToolHandlers } from "./types.js";

/** Bytes of base64 text, or null when it is not base64. */
export function base64ToBytes(text: string): Uint8Array | null {
  const clean = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return null;
  try {
    const binary = atob(clean);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

/** Base64 of `bytes`, built in chunks (spreading a large array into one call would overflow). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

export const BOARD_TOOL_HANDLERS: ToolHandlers<
  "bb_get" | "bb_put" | "bb_list" | "artifact_put" | "artifact_list"
> = {
  bb_get: async ({ h, record, call }, args) => {
    const entry = await getBlackboardEntry(openDb(h.processEnv.DB), record.tenantId, args.key);
    if (!entry) return resultOf(call, { key: args.key, exists: false, version: 0, value: null });
    return resultOf(call, { exists: true, ...entryView(entry) });
  },

  bb_put: async ({ h, record, call, stepNo, index }, args) => {
    const memo = `bb_put:${stepNo}:${index}`;
    const done = h.store.getKv<{ value: unknown; isError: boolean }>(memo);
    if (done) return resultOf(call, done.value, done.isError);
    let outcome: { value: unknown; isError: boolean };
    const valueJson = args.value === undefined ? undefined : JSON.stringify(args.value);
    if (valueJson === undefined) {
      outcome = { value: { error: "value: required (any JSON value)" }, isError: true };
    } else if (new TextEncoder().encode(valueJson).length > BOARD_LIMITS.blackboardValueBytes) {
      outcome = {
        value: {
          error: `value is larger than ${BOARD_LIMITS.blackboardValueBytes} bytes as JSON; store big data as an artifact`,
        },
        isError: true,
      };
    } else {
      const written = await putBlackboardEntry(openDb(h.processEnv.DB), {
        tenantId: record.tenantId,
        key: args.key,
        valueJson,
        ifVersion: args.ifVersion,
        actor: record.id,
      });
      outcome = written.ok
        ? { value: { ok: true, ...entryView(written.entry) }, isError: false }
        : {
            value: {
              error: "version_conflict",
              key: args.key,
              expectedVersion: args.ifVersion ?? 0,
              currentVersion: written.current?.version ?? 0,
              currentValue: written.current?.value ?? null,
            },
            isError: true,
          };
    }
    h.store.putKv(memo, outcome);
    return resultOf(call, outcome.value, outcome.isError);
  },

  bb_list: async ({ h, record, call }, args) => {
    const limit = args.limit ?? 20;
    const afterKey = args.cursor === undefined ? undefined : decodeCursor(args.cursor);
    if (afterKey === null)
      return resultOf(call, { error: "cursor: not a cursor from bb_list" }, true);
    const rows = await listBlackboardEntries(openDb(h.processEnv.DB), {
      tenantId: record.tenantId,
      prefix: args.prefix ?? "",
      afterKey,
      limit,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return resultOf(call, {
      items: page.map((r) => ({ key: r.key, version: r.version, sizeBytes: r.sizeBytes })),
      nextCursor: rows.length > limit && last ? encodeCursor(last.key) : null,
    });
  },

  artifact_put: async ({ h, record, call, stepNo, index }, args) => {
    const db = openDb(h.processEnv.DB);
    const memo = `artifact_put:${stepNo}:${index}`;
    const madeId = h.store.getKv<string>(memo);
    if (madeId) {
      const made = await findArtifact(db, record.tenantId, madeId);
      if (made) return resultOf(call, artifactView(made));
    }
    const encoding = args.encoding ?? "text";
    const bytes =
      encoding === "base64" ? base64ToBytes(args.content) : new TextEncoder().encode(args.content);
    if (!bytes) return resultOf(call, { error: "content: not valid base64" }, true);
    if (bytes.byteLength > BOARD_LIMITS.artifactInlineBytes) {
      return resultOf(
        call,
        { error: `content is larger than ${BOARD_LIMITS.artifactInlineBytes} bytes` },
        true,
      );
    }
    const nowMs = Date.now();
    const id = newId("artifact", nowMs);
    const meta = await putArtifact(h.processEnv.BLOBS, db, {
      id,
      tenantId: record.tenantId,
      processId: record.id,
      name: args.name,
      contentType:
        args.contentType ??
        (encoding === "text" ? "text/plain; charset=utf-8" : "application/octet-stream"),
      retention: args.retention ?? "keep",
      createdBy: record.id,
      createdAtMs: nowMs,
      bytes,
      sha256: await sha256Hex(bytes),
      labels: args.labels ?? {},
    });
    h.store.putKv(memo, id);
    return resultOf(call, artifactView(meta));
  },

  artifact_list: async ({ h, record, call }, args) => {
    const limit = args.limit ?? 20;
    const beforeId = args.cursor === undefined ? undefined : decodeCursor(args.cursor);
    if (beforeId === null) {
      return resultOf(call, { error: "cursor: not a cursor from artifact_list" }, true);
    }
    if (args.processId !== undefined && !isId("process", args.processId)) {
      return resultOf(call, { items: [], nextCursor: null });
    }
    const rows = await listArtifacts(openDb(h.processEnv.DB), {
      tenantId: record.tenantId,
      processId: args.processId,
      contentType: args.type,
      labels: Object.entries(args.labels ?? {}).map(([key, value]) => ({ key, value })),
      beforeId,
      limit,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return resultOf(call, {
      items: page.map(artifactView),
      nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
    });
  },
};
