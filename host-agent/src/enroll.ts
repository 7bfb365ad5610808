/**
 * Enrollment: spends a one-time enrollment token on a node credential (`POST /v1/fleet/enroll`)
 * and keeps it, with the control plane's public key to pin, in the state file.
 */

import {
  type EnrollRequest,
  type EnrollResponse,
  EnrollResponseSchema,
  type NodeFacts,
} from "./protocol.js";
import { type NodeState, readNodeState, writeNodeState } from "./state.js";

/** Enrollment did not happen; the message says why in the control plane's words. */
export class EnrollError extends Error {
  override readonly name = "EnrollError";
}

/** How long one enrollment request may take. */
export const ENROLL_TIMEOUT_MS = 30_000;

export interface EnrollOptions {
  controlPlaneUrl: string;
  token: string;
  stateFile: string;
  request: Omit<EnrollRequest, "token">;
  /** Enroll even though the state file holds an enrollment (it is replaced). */
  force: boolean;
  fetch?: typeof fetch;
  nowMs?: number;
}

/**
 * Enrolls this node and writes its state file. Refuses to overwrite an existing enrollment
 * unless `force`; nothing is written unless the control plane said yes.
 *
 * @throws {EnrollError} naming the control plane's refusal (code and fields) or the network fault.
 * @example const state = await enroll({ controlPlaneUrl, token, stateFile, request, force: false })
 */
export async function enroll(options: EnrollOptions): Promise<NodeState> {
  const existing = await readNodeState(options.stateFile);
  if (existing && !options.force) {
    throw new EnrollError(
      `already enrolled as ${existing.nodeId} (${options.stateFile}); pass --force to enroll again`,
    );
  }
  const url = new URL("/v1/fleet/enroll", options.controlPlaneUrl);
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: options.token, ...options.request }),
      signal: AbortSignal.timeout(ENROLL_TIMEOUT_MS),
    });
  } catch (error) {
    throw new EnrollError(`cannot reach ${url.origin}: ${(error as Error).message}`);
  }
  const text = await res.text();
  if (res.status !== 201) throw new EnrollError(describeRefusal(res.status, text));
  let reply: EnrollResponse;
  try {
    reply = EnrollResponseSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new EnrollError(
      `the control plane's reply is not an enrollment: ${(error as Error).message}`,
    );
  }
  const state: NodeState = {
    version: 1,
    controlPlaneUrl: options.controlPlaneUrl,
    tenantId: reply.tenantId,
    nodeId: reply.nodeId,
    role: reply.role,
    credential: reply.credential,
    signingPublicKey: reply.signingPublicKey,
    keyId: reply.keyId,
    enrolledAtMs: options.nowMs ?? Date.now(),
  };
  await writeNodeState(options.stateFile, state);
  return state;
}

/** `401 credential_used: this enrollment token has been used already`, with field paths. */
function describeRefusal(status: number, body: string): string {
  try {
    const problem = JSON.parse(body) as {
      code?: string;
      detail?: string;
      errors?: Array<{ path: string; message: string }>;
    };
    const fields = (problem.errors ?? []).map((e) => `\n  ${e.path}: ${e.message}`).join("");
    return `enrollment refused: ${status} ${problem.code ?? ""}: ${problem.detail ?? body}${fields}`;
  } catch {
    return `enrollment refused: ${status} ${body.slice(0, 500)}`;
  }
}

/** The enrollment request this node sends, from its configuration and facts. */
export function enrollRequest(fields: {
  nodeId?: string | undefined;
  role: "node" | "verifier";
  labels: Record<string, string>;
  facts: NodeFacts;
  agentVersion: string;
}): Omit<EnrollRequest, "token"> {
  return {
    ...(fields.nodeId ? { nodeId: fields.nodeId } : {}),
    role: fields.role,
    labels: fields.labels,
    facts: fields.facts,
    agentVersion: fields.agentVersion,
  };
}
