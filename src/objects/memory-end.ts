/**
 * The process-end memory: when a process exits with a result, its goal and result are written
 * to its agent type's long-term memory, so later runs can find what earlier ones concluded.
 *
 * On by default; a process spawned with the label `memory=off` writes none. Written once per
 * process (deduplicated by `end:{processId}`), so an ending handled twice writes one memory.
 * A failure is logged, never raised: the process has ended already and must stay ended.
 */

import type { Env } from "../env.js";
import {
  MAX_MEMORIES_PER_AGENT_TYPE,
  MEMORY_OPT_OUT_LABEL,
  PROCESS_END_GOAL_CHARS,
  PROCESS_END_RESULT_CHARS,
} from "../kernel/memory/limits.js";
import type { ProcessRecord } from "../kernel/process/record.js";
import { openDb } from "../store/db.js";
import { writeMemory } from "../store/memory.js";

function cut(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

/** The memory text for an exited process, or null when there is nothing to remember. */
export function processEndContent(record: ProcessRecord): string | null {
  if (record.status !== "exited" || record.result === null || record.result === undefined) {
    return null;
  }
  if (record.labels[MEMORY_OPT_OUT_LABEL.key] === MEMORY_OPT_OUT_LABEL.value) return null;
  const result =
    typeof record.result === "string" ? record.result : (JSON.stringify(record.result) ?? "");
  return `Goal: ${cut(record.goal, PROCESS_END_GOAL_CHARS)}\nResult: ${cut(result, PROCESS_END_RESULT_CHARS)}`;
}

/**
 * Writes the process-end memory of `record`, if it earns one.
 *
 * @example await writeProcessEndMemory(env, record)
 */
export async function writeProcessEndMemory(env: Env, record: ProcessRecord): Promise<void> {
  const content = processEndContent(record);
  if (content === null) return;
  try {
    const out = await writeMemory(
      openDb(env.DB),
      {
        tenantId: record.tenantId,
        agentType: record.type.name,
        processId: record.id,
        step: record.stats.steps,
        source: "process_end",
        content,
        tags: [],
        dedupeKey: `end:${record.id}`,
      },
      MAX_MEMORIES_PER_AGENT_TYPE,
      Date.now(),
    );
    if (!out.ok) console.warn("process-end memory skipped: quota reached", record.id);
  } catch (error) {
    console.error("process-end memory write failed", record.id, error);
  }
}
