/**
 * Spawning a process: the one path both the HTTPS API and a running agent's `spawn` tool take.
 * It resolves the agent type, checks the request against it (capabilities, model credentials,
 * parent), claims the idempotency key, and creates the process's object.
 */

import type { Env } from "../env.js";
import { KernelError } from "../kernel/errors.js";
import { canonicalJson, sha256Hex } from "../kernel/hash.js";
import { isId, newId } from "../kernel/ids.js";
import type { Budget, ProcessRecord } from "../kernel/process/record.js";
import { checkModelAvailable } from "../llm/registry.js";
import { ScriptSchema } from "../llm/scripted.js";
import { resolveAgentType } from "../store/agent-types.js";
import type { Db } from "../store/db.js";
import { claimIdempotencyKey } from "../store/idempotency.js";
import { type ProcessSpawn, processStub } from "./agent-process.js";
import { poolForModel } from "./pools.js";

export interface SpawnParams {
  tenantId: string;
  actor: string;
  type: string;
  version?: string | undefined;
  goal: string;
  priority: number;
  labels: Record<string, string>;
  parentId?: string | undefined;
  budget?: Partial<Budget> | undefined;
  capabilities?: string[] | undefined;
  /** Assistant turns for the `scripted` model. */
  script?: unknown[] | undefined;
  /** Start suspended: the process waits in `paused` until resumed. */
  paused?: boolean | undefined;
  /** `scope:key`-style idempotency: a replay returns the first process. */
  idempotency?: { scope: string; key: string } | undefined;
}

export interface SpawnResult {
  record: ProcessRecord;
  /** True when an idempotency key matched an earlier spawn. */
  replayed: boolean;
}

function invalid(path: string, message: string, code: string): KernelError {
  return new KernelError("invalid_argument", `${path}: ${message}`, { path, code });
}

/**
 * Spawns a process, or returns the one an earlier call with the same idempotency key made.
 * Throws `KernelError` (`invalid_argument` with the field `path`, or `conflict`).
 *
 * @example await spawnProcess(env, db, { tenantId, actor, type: "assistant", goal: "…", priority: 1, labels: {} })
 */
export async function spawnProcess(env: Env, db: Db, p: SpawnParams): Promise<SpawnResult> {
  const type = await resolveAgentType(db, p.tenantId, p.type, p.version);
  if (!type) {
    throw p.version
      ? invalid("version", `agent type ${p.type} has no version ${p.version}`, "unknown_version")
      : invalid("type", `no active agent type named ${p.type}`, "unknown_type");
  }
  const model = checkModelAvailable(type.model, env);
  if (!model.ok) {
    throw invalid(
      "type",
      `agent type ${type.name}@${type.version} cannot run here: ${model.reason}`,
      "model_unavailable",
    );
  }
  const capabilities = p.capabilities ?? type.capabilities;
  capabilities.forEach((cap, i) => {
    if (!type.capabilities.includes(cap)) {
      throw invalid(
        `capabilities[${i}]`,
        `agent type ${type.name}@${type.version} does not grant ${cap}`,
        "not_granted",
      );
    }
  });
  if (p.script !== undefined && type.model !== "scripted") {
    throw invalid(
      "script",
      `agent type ${type.name} runs ${type.model}, not the scripted model`,
      "not_scripted",
    );
  }
  const script = ScriptSchema.safeParse(p.script ?? type.script ?? []);
  if (!script.success) {
    const issue = script.error.issues[0];
    const at = issue
      ? issue.path.map((k) => (typeof k === "number" ? `[${k}]` : `.${String(k)}`)).join("")
      : "";
    throw invalid(`script${at}`, issue?.message ?? "invalid script", "invalid_script");
  }
  if (p.parentId) {
    const parent = isId("process", p.parentId)
      ? await processStub(env, p.parentId).get(p.tenantId)
      : null;
    if (!parent) throw invalid("parentId", `no process ${p.parentId}`, "unknown_process");
  }
  const init: ProcessSpawn = {
    id: newId("process"),
    tenantId: p.tenantId,
    type: { name: type.name, version: type.version },
    goal: p.goal,
    priority: p.priority,
    labels: p.labels,
    parentId: p.parentId ?? null,
    budget: { ...type.defaultBudget, ...p.budget },
    capabilities: [...new Set(capabilities)],
    model: type.model,
    pool: type.pool ?? poolForModel(type.model),
    actor: p.actor,
    systemPrompt: type.systemPrompt,
    script: script.data,
    paused: p.paused ?? false,
  };
  let replayed = false;
  if (p.idempotency) {
    const { idempotency, actor: _actor, ...request } = p;
    const claim = await claimIdempotencyKey(
      db,
      {
        tenantId: p.tenantId,
        scope: idempotency.scope,
        key: idempotency.key,
        requestHash: await sha256Hex(canonicalJson(request)),
        resourceId: init.id,
      },
      Date.now(),
    );
    if (claim.kind === "mismatch") {
      throw new KernelError("conflict", "this Idempotency-Key was used with a different request", {
        reason: "idempotency_key_reused",
        processId: claim.resourceId,
      });
    }
    if (claim.kind === "replay") {
      // Same id ⇒ same object: spawn returns the existing process, or completes a spawn whose
      // first attempt claimed the key but died before reaching the object.
      init.id = claim.resourceId;
      replayed = true;
    }
  }
  const spawned = await processStub(env, init.id).spawn(init);
  if (!spawned.ok) throw new KernelError("conflict", "process id already in use");
  return { record: spawned.record, replayed: replayed && !spawned.created };
}
