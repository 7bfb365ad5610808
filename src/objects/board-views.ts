/**
 * The blackboard and artifact calls' shared pieces: the plain JSON views of a blackboard entry
 * and an artifact, the label query parameters' parsing, the call gate every one of the calls
 * passes (`gateBoardCall`) and the artifact lookup (`artifactOf`: another tenant's id is 404, like a
 * missing one). board-reads.ts and board-writes.ts build on them.
 */

import type { z } from "zod";
import { READ_ROLES, WRITE_ROLES } from "../api/authorize.js";
import { ApiError, fieldError } from "../api/problem.js";
import type {
  ArtifactSchema,
  BlackboardEntrySchema,
  BlackboardKeySummarySchema,
  BlackboardVersionSchema,
} from "../api/schemas-board.js";
import type { Env } from "../env.js";
import { ArtifactLabelsSchema } from "../kernel/agent/tools/board.js";
import { isId } from "../kernel/ids.js";
import { type ArtifactMeta, findArtifact } from "../store/artifacts.js";
import type { BlackboardEntry } from "../store/blackboard.js";
import type { Db } from "../store/db.js";
import { type Acting, gateSyscall } from "./call-gate.js";
import type { Caller } from "./process-calls.js";

export type BlackboardEntryView = z.infer<typeof BlackboardEntrySchema>;
export type BlackboardKeySummary = z.infer<typeof BlackboardKeySummarySchema>;
export type BlackboardVersionView = z.infer<typeof BlackboardVersionSchema>;
export type ArtifactView = z.infer<typeof ArtifactSchema>;

/**
 * The one call gate of a blackboard or artifact call, on the caller's tenant: a writer's role
 * to write, a reader's to read.
 */
export async function gateBoardCall(
  env: Env,
  db: Db,
  caller: Caller,
  capability: string,
  write: boolean,
): Promise<Acting> {
  const roles = write ? WRITE_ROLES : READ_ROLES;
  const principal = caller?.kind === "key" ? caller : undefined;
  return gateSyscall(env, db, caller, capability, roles, {
    type: "Tenant",
    id: principal?.tenantId ?? "",
  });
}

export function entryView(e: BlackboardEntry): BlackboardEntryView {
  return {
    key: e.key,
    version: e.version,
    value: e.value,
    sizeBytes: e.sizeBytes,
    updatedBy: e.updatedBy,
    updatedAt: new Date(e.updatedAtMs).toISOString(),
  };
}

export function artifactView(a: ArtifactMeta): ArtifactView {
  return {
    id: a.id,
    name: a.name,
    contentType: a.contentType,
    sizeBytes: a.sizeBytes,
    sha256: a.sha256,
    labels: a.labels,
    retention: a.retention,
    processId: a.processId,
    createdBy: a.createdBy,
    createdAt: new Date(a.createdAtMs).toISOString(),
    contentUrl: `/v1/artifacts/${a.id}/content`,
  };
}

/** Label query parameters (`key=value`, repeated) as a validated map; 422 naming the one at fault. */
export function parseLabelParams(raw: string | string[] | undefined): Record<string, string> {
  const params = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const labels: Record<string, string> = {};
  params.forEach((param, i) => {
    const path = params.length > 1 ? `label[${i}]` : "label";
    const eq = param.indexOf("=");
    if (eq <= 0) throw fieldError(path, "expected key=value", "invalid_format");
    labels[param.slice(0, eq)] = param.slice(eq + 1);
  });
  const checked = ArtifactLabelsSchema.safeParse(labels);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw fieldError("label", issue?.message ?? "invalid labels", "invalid_format");
  }
  return labels;
}

/** An artifact of the acting tenant; 404 for a missing id or another tenant's. */
export async function artifactOf(db: Db, acting: Acting, id: string): Promise<ArtifactMeta> {
  const meta = isId("artifact", id) ? await findArtifact(db, acting.tenantId, id) : null;
  if (!meta) throw new ApiError("not_found", `no artifact ${id}`);
  return meta;
}
