/** Helpers for the bus tests: mailbox reads, polling and the tool results a process saw. */

import { runInDurableObject } from "cloudflare:test";
import { env as workerEnv } from "cloudflare:workers";
import type { Env } from "../../src/env.js";
import type { AgentProcess } from "../../src/objects/agent-process.js";
import { call, defineType, type TestTenant } from "../helpers.js";

/** The Worker's bindings, typed as the Worker sees them. */
const env = workerEnv as unknown as Env;

export const BUS_CAPS = [
  "proc.finish",
  "proc.sleep",
  "msg.send",
  "msg.recv",
  "topic.publish",
  "topic.subscribe",
];

export interface MessageBody {
  id: string;
  seq: number;
  from: string;
  topic: string | null;
  correlationId: string | null;
  body: unknown;
  sizeBytes: number;
  byReference: boolean;
}

/** One page of a mailbox (all of it, for the small ones tests make). */
export async function mailbox(token: string, processId: string, limit = 20) {
  const res = await call<{ items: MessageBody[]; nextCursor: string | null }>(
    "GET",
    `/v1/messages?processId=${processId}&limit=${limit}`,
    { token },
  );
  if (res.status !== 200) throw new Error(`mailbox read failed: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Polls a mailbox until `done(items)` holds. */
export async function untilMailbox(
  token: string,
  processId: string,
  done: (items: MessageBody[]) => boolean,
  tries = 400,
): Promise<MessageBody[]> {
  let last: MessageBody[] = [];
  for (let i = 0; i < tries; i++) {
    last = (await mailbox(token, processId)).items;
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`mailbox of ${processId} never matched: ${JSON.stringify(last).slice(0, 500)}`);
}

/** Polls `probe` until it returns a value that is not undefined. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  tries = 600,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

/** Sends a message through the API. */
export async function send(token: string, body: Record<string, unknown>) {
  return call<{ messageId: string; from: string; sizeBytes: number; byReference: boolean }>(
    "POST",
    "/v1/messages",
    { token, body },
  );
}

/** The tool results in a process's conversation, by tool name, parsed. */
export async function toolResults(
  processId: string,
): Promise<Array<{ tool: string; value: Record<string, unknown>; isError: boolean }>> {
  const stub = env.AGENT_PROCESS.get(env.AGENT_PROCESS.idFromName(processId));
  return runInDurableObject(stub, (instance: AgentProcess) =>
    instance.store
      .messages()
      .filter((m) => m.role === "tool")
      .map((m) => {
        const tool = m as { toolName: string; content: string; isError?: boolean };
        return {
          tool: tool.toolName,
          value: JSON.parse(tool.content) as Record<string, unknown>,
          isError: tool.isError === true,
        };
      }),
  );
}

/** An agent type in `t` that may use the bus tools, running the scripted model. */
export function busType(t: TestTenant): Promise<string> {
  return defineType(t, { capabilities: BUS_CAPS });
}
