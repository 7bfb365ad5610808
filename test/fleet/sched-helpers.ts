/** Helpers for the verification and rollout tests: policies from the built-ins, a verifier's answers. */

import { exports } from "cloudflare:workers";
import { BUILTIN_POLICIES } from "../../src/schedcp/bpf/catalog.js";
import { catalogMetadata } from "../../src/schedcp/metadata.js";
import type { ControlFrame, VerifyJob, VerifyResult } from "../../src/schedcp/protocol/index.js";
import { call, type TestTenant } from "../helpers.js";
import fifoObject from "../schedcp/bpf-objects/fifo.bpf.o?inline";
import forbiddenObject from "../schedcp/bpf-objects/forbidden-calls.bpf.o?inline";
import type { NodeSocket } from "./helpers.js";

function bytesOf(dataUrl: string): Uint8Array {
  const base64 = dataUrl.slice(dataUrl.indexOf(",") + 1);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** The fifo built-in compiled by the verifier's compile stage (passes the object checks). */
export const FIFO_OBJECT = bytesOf(fifoObject);
/** An object calling forbidden helpers (the object checks refuse it). */
export const FORBIDDEN_OBJECT = bytesOf(forbiddenObject);

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The tenant's own copy of the fifo built-in: a new policy, version 1 `checked`. */
export async function createFifoCopy(
  t: TestTenant,
  name = `fifo-${crypto.randomUUID().slice(0, 8)}`,
) {
  const entry = BUILTIN_POLICIES.find((p) => p.name === "fifo")!;
  const res = await call<{ policy: { id: string }; version: { version: number; status: string } }>(
    "POST",
    "/v1/policies",
    {
      token: t.operator,
      body: { ...catalogMetadata(entry), name, source: entry.source, parameters: {} },
    },
  );
  if (res.status !== 201) throw new Error(`policy: ${JSON.stringify(res.body)}`);
  return res.body.policy.id;
}

/** Waits for the verify command, acks it, and returns the job. */
export async function takeVerifyJob(
  socket: NodeSocket,
): Promise<{ commandId: string; job: VerifyJob }> {
  for (;;) {
    const frame: ControlFrame = await socket.next();
    if (frame.type === "command" && frame.body.op === "verify") {
      socket.send({ type: "ack", commandId: frame.commandId, ok: true, error: null });
      return { commandId: frame.commandId, job: frame.body.job };
    }
  }
}

/** PUTs an object to a job's upload path with a node credential. */
export async function upload(
  credential: string,
  path: string,
  bytes: BodyInit,
  headers: Record<string, string> = {},
) {
  const res = await (exports as unknown as { default: Fetcher }).default.fetch(
    `https://edgekernel.test${path}`,
    {
      method: "PUT",
      headers: {
        authorization: `Bearer ${credential}`,
        "content-type": "application/octet-stream",
        ...headers,
      },
      body: bytes,
    },
  );
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** A verify-result as the VM stage reports a pass (or the overrides say). */
export function passed(
  jobId: string,
  object: { sha256: string; sizeBytes: number } | null,
  overrides: Partial<VerifyResult> = {},
): VerifyResult {
  return {
    jobId,
    ok: true,
    stages: (["compile", "boot", "load", "workload", "unload"] as const).map((stage) => ({
      stage,
      ok: true,
      durationMs: 10,
      log: `${stage} ok`,
    })),
    loaded: true,
    tasksScheduled: 2,
    ejected: false,
    ejectionReason: null,
    unloadedCleanly: true,
    kernelRelease: "7.3.0-1-cloud-amd64",
    object,
    ...overrides,
  };
}
