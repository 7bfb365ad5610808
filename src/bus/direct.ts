/**
 * Direct messages: the producer side. A send checks that the target is a live process of the
 * sender's tenant (unknown → 404, ended → 409, at the sender, not later in the queue), measures
 * the payload (over 1 MiB → 413), puts a large one in R2 and enqueues the envelope on `BUS`.
 * The queue consumer (consumer.ts) delivers it into the target's mailbox.
 */

import { ApiError } from "../api/problem.js";
import type { Env } from "../env.js";
import { isId, newId } from "../kernel/ids.js";
import { isTerminal } from "../kernel/process/state.js";
import { processStub } from "../objects/agent-process.js";
import type { Db } from "../store/db.js";
import type { Envelope } from "./envelope.js";
import { encodePayload, storePayload } from "./payload.js";

export interface DirectMessage {
  tenantId: string;
  /** The sending process, or the key that sent it through the API. */
  from: string;
  /** The target process. */
  to: string;
  body: unknown;
  /** Set on a request and on its reply. */
  correlationId?: string | undefined;
}

export interface SendOptions {
  /** A stable id for a send that may be repeated (a step re-run after a crash): deduplicated. */
  messageId?: string | undefined;
}

/**
 * Sends one message to a process's mailbox. Throws `ApiError`: 404 `not_found` (no such process
 * in the tenant), 409 `process_ended`, 413 `payload_too_large`, 422 for a body that is absent.
 *
 * @example const { messageId } = await sendDirect(env, db, { tenantId, from: "proc_…", to: "proc_…", body: { text: "hi" } })
 */
export async function sendDirect(
  env: Env,
  _db: Db,
  msg: DirectMessage,
  options: SendOptions = {},
): Promise<{ messageId: string; sizeBytes: number }> {
  await requireLiveTarget(env, msg.tenantId, msg.to);
  const payload = encodePayload(msg.body);
  const messageId = options.messageId ?? newId("message");
  const envelope: Envelope = {
    v: 1,
    id: messageId,
    tenantId: msg.tenantId,
    from: msg.from,
    to: msg.to,
    topic: null,
    correlationId: msg.correlationId ?? null,
    sentAtMs: Date.now(),
    sizeBytes: payload.sizeBytes,
    payload: await storePayload(env, msg.tenantId, messageId, payload),
  };
  await env.BUS.send(envelope, { contentType: "json" });
  return { messageId, sizeBytes: payload.sizeBytes };
}

/** 404 unless `processId` is a process of `tenantId`; 409 when it has ended. */
export async function requireLiveTarget(
  env: Env,
  tenantId: string,
  processId: string,
  field = "to",
): Promise<void> {
  const record = isId("process", processId)
    ? await processStub(env, processId).get(tenantId)
    : null;
  if (!record) throw new ApiError("not_found", `no process ${processId}`, { extra: { field } });
  if (isTerminal(record.status))
    throw new ApiError("process_ended", `process ${processId} has ${record.status}`, {
      extra: { processId, status: record.status },
    });
}
