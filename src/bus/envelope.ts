/**
 * The envelope: what travels on the `edgekernel-bus` queue for one delivery to one mailbox. A
 * publish to a topic is one envelope per subscriber, all with the publication's message id
 * (each mailbox dedupes on its own). The payload rides inline as JSON text up to 64 KiB and by
 * R2 reference (`msg/{tenantId}/{messageId}`) above it, so an envelope always fits a queue
 * message (128 KB).
 */

import { z } from "zod";
import {
  BUS_LIMITS,
  CorrelationIdSchema,
  MessageIdSchema,
  TopicNameSchema,
} from "../kernel/agent/tools/bus.js";
import { idPattern } from "../kernel/ids.js";

export { BUS_LIMITS } from "../kernel/agent/tools/bus.js";

export const PayloadRefSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("inline"), json: z.string().max(BUS_LIMITS.inlinePayloadBytes) }),
  z.object({
    kind: z.literal("r2"),
    key: z.string().regex(/^msg\/ten_[0-9a-f]{32}\/msg_[0-9a-f]{32}$/),
  }),
]);
export type PayloadRef = z.infer<typeof PayloadRefSchema>;

export const EnvelopeSchema = z.object({
  v: z.literal(1),
  id: MessageIdSchema,
  tenantId: z.string().regex(idPattern("tenant")),
  /** The sending process, or the key that sent it through the API. */
  from: z.string().min(1).max(64),
  to: z.string().regex(idPattern("process")),
  topic: TopicNameSchema.nullable(),
  correlationId: CorrelationIdSchema.nullable(),
  sentAtMs: z.number().int().min(0),
  /** The payload's JSON text in UTF-8 bytes, wherever it is kept. */
  sizeBytes: z.number().int().min(0).max(BUS_LIMITS.maxPayloadBytes),
  payload: PayloadRefSchema,
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** R2 key of a large payload (fixed convention: `msg/{tenantId}/{messageId}`). */
export function payloadKey(tenantId: string, messageId: string): string {
  return `msg/${tenantId}/${messageId}`;
}
