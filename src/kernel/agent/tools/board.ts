/**
 * The shared-work tools: the tenant-wide blackboard (read, compare-and-set write, list) and
 * artifacts (store a final output, list them). Also the limits and key rules every surface
 * (HTTPS, MCP, agent loop) validates with, so they cannot drift.
 */

import { z } from "zod";
import type { ToolSpec } from "./spec.js";

/** Limits of the blackboard and artifacts, named with their units. */
export const BOARD_LIMITS = {
  /** Largest blackboard value, as UTF-8 JSON text: it coordinates, it does not hold datasets. */
  blackboardValueBytes: 64 * 1024,
  /** Versions of one key kept in its history, newest first (a delete counts as one). */
  blackboardHistoryVersions: 20,
  /** Longest key: its pagination cursor (base64 of the key) must fit the API's 200-character cursors. */
  blackboardKeyChars: 128,
  /** Largest artifact, whichever surface stores it. */
  artifactBytes: 32 * 1024 * 1024,
  /** Largest artifact an agent-loop tool call or an MCP call carries inline (decoded bytes). */
  artifactInlineBytes: 512 * 1024,
  artifactNameChars: 255,
} as const;

/** Letters, digits and `. _ : -`; no `/`, so a key is one URL path segment. */
export const BLACKBOARD_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const BlackboardKeySchema = z
  .string()
  .regex(BLACKBOARD_KEY_PATTERN, "1 to 128 letters, digits and . _ : -")
  .meta({ description: "A blackboard key: letters, digits and `. _ : -`", example: "plan:step-1" });

export const BlackboardPrefixSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{0,128}$/, "up to 128 letters, digits and . _ : -")
  .meta({ description: "Only keys starting with this prefix" });

/** 0: the key must not exist; n: the key's current version must be n. */
export const IfVersionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).meta({
  description:
    "Compare-and-set: write only if the key's current version is this (0: only if the key does not exist)",
});

export const ArtifactNameSchema = z
  .string()
  .min(1)
  .max(BOARD_LIMITS.artifactNameChars)
  .refine((name) => ![...name].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === "\x7f"), {
    message: "no control characters",
  })
  .meta({ description: "A name for people, e.g. `report.md` (not unique)" });

export const ArtifactRetentionSchema = z.enum(["keep", "with_process"]).meta({
  description:
    "`keep` (default): the artifact outlives its process; `with_process`: deleted when the process is purged",
});

/** A media type such as `text/markdown; charset=utf-8`. */
export const ContentTypeSchema = z
  .string()
  .max(255)
  .regex(/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/, "a media type such as text/markdown")
  .meta({ description: "A media type such as `text/markdown`" });

const ArtifactLabelsSchema = z
  .record(
    z.string().regex(/^[a-z0-9]([a-z0-9._/-]{0,62})$/, "lowercase letters, digits and . _ / -"),
    z.string().max(256),
  )
  .refine((labels) => Object.keys(labels).length <= 16, { message: "at most 16 labels" });

export const BbGetArgsSchema = z.strictObject({ key: BlackboardKeySchema });
export const BbPutArgsSchema = z.strictObject({
  key: BlackboardKeySchema,
  value: z.unknown().meta({ description: "Any JSON value" }),
  ifVersion: IfVersionSchema.optional(),
});
export const BbListArgsSchema = z.strictObject({
  prefix: BlackboardPrefixSchema.optional(),
  limit: z.number().int().min(1).max(100).optional(),
  cursor: z.string().max(256).optional(),
});
export const ArtifactPutArgsSchema = z.strictObject({
  name: ArtifactNameSchema,
  content: z.string().meta({ description: "The content, as text or base64 (see `encoding`)" }),
  encoding: z.enum(["text", "base64"]).optional(),
  contentType: ContentTypeSchema.optional(),
  labels: ArtifactLabelsSchema.optional(),
  retention: ArtifactRetentionSchema.optional(),
});
export const ArtifactListArgsSchema = z.strictObject({
  /** Only artifacts this process produced. */
  processId: z.string().max(64).optional(),
  type: z.string().max(255).optional(),
  labels: ArtifactLabelsSchema.optional(),
  limit: z.number().int().min(1).max(100).optional(),
  cursor: z.string().max(256).optional(),
});

export { ArtifactLabelsSchema };

export const BOARD_TOOLS = {
  bb_get: {
    capability: "bb.read",
    description:
      "Read a key on the tenant-wide blackboard shared by all processes: its value and version (null if absent).",
    args: BbGetArgsSchema,
  },
  bb_put: {
    capability: "bb.write",
    description:
      "Write a JSON value to a blackboard key. Pass `ifVersion` (the version you read; 0 for a key that must not exist yet) to write only if nobody changed it since; a stale write is refused with the current version and value.",
    args: BbPutArgsSchema,
  },
  bb_list: {
    capability: "bb.read",
    description:
      "List blackboard keys starting with `prefix`, in key order, with their versions (not values).",
    args: BbListArgsSchema,
  },
  artifact_put: {
    capability: "artifact.write",
    description:
      "Store a final output (report, code, dataset) as an artifact of this process: text or base64 `content`, a `name`, a content type and labels. Returns its id.",
    args: ArtifactPutArgsSchema,
  },
  artifact_list: {
    capability: "artifact.read",
    description:
      "List the tenant's artifacts, newest first, filtered by producing process, content type (`text/*` allowed) and labels.",
    args: ArtifactListArgsSchema,
  },
} as const satisfies Record<string, ToolSpec>;
