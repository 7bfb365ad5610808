/**
 * Turning one WebSocket message from a node into a typed frame, or into the refusal the control
 * plane answers with (an `error` frame, then a close with the code given here). Pure: no
 * platform imports, so the Fleet object and the tests share it.
 */

import type { z } from "zod";
import {
  FLEET_CLOSE_CODES,
  FLEET_LIMITS,
  type NodeFrame,
  NodeFrameSchema,
} from "../protocol/index.js";

/** What the node is told before the socket closes. */
export interface FrameRefusal {
  closeCode: number;
  error: { code: string; message: string };
}

export type ParsedFrame = { ok: true; frame: NodeFrame } | ({ ok: false } & FrameRefusal);

const encoder = new TextEncoder();

/** UTF-8 size of a string, without encoding it when its length alone decides. */
export function utf8Bytes(text: string): number {
  // Each UTF-16 unit becomes at most 3 UTF-8 bytes (a surrogate pair, 2 units, becomes 4).
  if (text.length * 3 <= FLEET_LIMITS.maxFrameBytes) return text.length;
  return encoder.encode(text).byteLength;
}

/**
 * Parses one message: text only, at most `FLEET_LIMITS.maxFrameBytes`, JSON, one of the node
 * frame schemas.
 *
 * @example parseNodeFrame('{"type":"heartbeat","seq":1,"atMs":5}') // { ok: true, frame: {…} }
 */
export function parseNodeFrame(message: string | ArrayBuffer): ParsedFrame {
  if (typeof message !== "string") {
    return refuse(FLEET_CLOSE_CODES.unsupportedData, "binary_frame", "frames are JSON text");
  }
  const sizeBytes = utf8Bytes(message);
  if (sizeBytes > FLEET_LIMITS.maxFrameBytes) {
    return refuse(
      FLEET_CLOSE_CODES.frameTooLarge,
      "frame_too_large",
      `a frame is at most ${FLEET_LIMITS.maxFrameBytes} bytes; this one is ${sizeBytes}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch (error) {
    return refuse(
      FLEET_CLOSE_CODES.badFrame,
      "malformed_json",
      `not JSON: ${(error as Error).message}`,
    );
  }
  const parsed = NodeFrameSchema.safeParse(value);
  if (!parsed.success) {
    return refuse(FLEET_CLOSE_CODES.badFrame, "bad_frame", describeIssues(parsed.error.issues));
  }
  return { ok: true, frame: parsed.data };
}

/** `type: Invalid input; report.cpu.total.busyPct: Too big…`, at most a few issues, bounded. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES_SHOWN).map((issue) => {
    const path = issue.path.map(String).join(".") || "(root)";
    return `${path}: ${issue.message}`;
  });
  const more =
    issues.length > MAX_ISSUES_SHOWN ? `; and ${issues.length - MAX_ISSUES_SHOWN} more` : "";
  return `${shown.join("; ")}${more}`.slice(0, MAX_ERROR_MESSAGE_CHARS);
}

const MAX_ISSUES_SHOWN = 5;
/** The protocol's error message limit. */
const MAX_ERROR_MESSAGE_CHARS = 4_096;

function refuse(closeCode: number, code: string, message: string): ParsedFrame {
  return {
    ok: false,
    closeCode,
    error: { code, message: message.slice(0, MAX_ERROR_MESSAGE_CHARS) },
  };
}
