/**
 * Message payloads: measured as their JSON text, kept inline up to 64 KiB and in R2 above it,
 * refused above 1 MiB. Reading a payload fetches it back from R2 when it was put there.
 */

import { ApiError } from "../api/problem.js";
import type { Env } from "../env.js";
import { BUS_LIMITS, type PayloadRef, payloadKey } from "./envelope.js";

const encoder = new TextEncoder();

export interface EncodedPayload {
  json: string;
  sizeBytes: number;
}

/**
 * The payload's JSON text and size; 413 when over the hard cap, 422 when it is not JSON.
 *
 * @example encodePayload({ hello: "world" }) // { json: '{"hello":"world"}', sizeBytes: 17 }
 */
export function encodePayload(body: unknown, field = "body"): EncodedPayload {
  if (body === undefined) {
    throw new ApiError("validation_failed", `${field}: required`, {
      errors: [{ path: field, message: "required", code: "invalid_type" }],
    });
  }
  const json = JSON.stringify(body);
  const sizeBytes = encoder.encode(json).byteLength;
  if (sizeBytes > BUS_LIMITS.maxPayloadBytes) {
    throw new ApiError(
      "payload_too_large",
      `the message is ${sizeBytes} bytes as JSON; the limit is ${BUS_LIMITS.maxPayloadBytes}`,
      { extra: { limitBytes: BUS_LIMITS.maxPayloadBytes, sizeBytes } },
    );
  }
  return { json, sizeBytes };
}

/**
 * Where the payload travels: inline, or written to R2 first (once per message id: a publish
 * shares one object between its subscribers).
 */
export async function storePayload(
  env: Pick<Env, "BLOBS">,
  tenantId: string,
  messageId: string,
  payload: EncodedPayload,
): Promise<PayloadRef> {
  if (payload.sizeBytes <= BUS_LIMITS.inlinePayloadBytes)
    return { kind: "inline", json: payload.json };
  const key = payloadKey(tenantId, messageId);
  await env.BLOBS.put(key, payload.json, {
    httpMetadata: { contentType: "application/json" },
  });
  return { kind: "r2", key };
}

/** The payload's JSON text, fetched from R2 when it is there; null when the object is gone. */
export async function loadPayloadJson(
  env: Pick<Env, "BLOBS">,
  ref: PayloadRef,
): Promise<string | null> {
  if (ref.kind === "inline") return ref.json;
  const object = await env.BLOBS.get(ref.key);
  return object ? await object.text() : null;
}
