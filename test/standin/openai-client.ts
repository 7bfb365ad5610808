/**
 * Helpers for tests running inside workerd to drive the stand-in OpenAI-compatible provider
 * (test/standin/openai-server.mjs) over its control API.
 *
 * @example
 * const scenario = newScenario("loop-429");
 * await loadScenario(scenario, [
 *   { type: "error", status: 429, headers: { "retry-after": "1" } },
 *   { type: "text", text: "done" },
 * ]);
 * const env = { OPENAI_BASE_URL: standinBaseUrl(scenario), OPENAI_API_KEY: "test-key" };
 * // … run the code under test with `openai:<any model>` …
 * const requests = await receivedRequests(scenario, 2);
 */

import { env } from "cloudflare:workers";
import type { StandinRecordedRequest, StandinReply } from "./openai-server.mjs";

export type { StandinRecordedRequest, StandinReply } from "./openai-server.mjs";

/** The stand-in's port, from the `STANDIN_OPENAI_PORT` binding the pool sets. */
export function standinPort(): number {
  const port = (env as unknown as { STANDIN_OPENAI_PORT?: unknown }).STANDIN_OPENAI_PORT;
  if (typeof port !== "number") {
    throw new Error("STANDIN_OPENAI_PORT is not bound: is test/standin/global-setup.ts wired in?");
  }
  return port;
}

/** The stand-in's origin, e.g. `http://127.0.0.1:41234`. */
export function standinOrigin(): string {
  return `http://127.0.0.1:${standinPort()}`;
}

/** An OpenAI-compatible base URL whose calls are answered from `scenario`'s queue. */
export function standinBaseUrl(scenario: string): string {
  return `${standinOrigin()}/s/${scenario}/v1`;
}

/** A scenario name no other test uses. */
export function newScenario(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/** Loads `replies` (and an optional reply for when they run out) into `scenario`. */
export async function loadScenario(
  scenario: string,
  replies: StandinReply[],
  whenEmpty?: StandinReply,
): Promise<void> {
  const res = await fetch(`${standinOrigin()}/__scenario/${scenario}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ replies, ...(whenEmpty ? { whenEmpty } : {}) }),
  });
  if (res.status !== 204) throw new Error(`stand-in refused scenario: ${await res.text()}`);
}

/** What `scenario` received, after waiting (bounded by the stand-in) for `atLeast` requests. */
export async function receivedRequests(
  scenario: string,
  atLeast = 0,
): Promise<StandinRecordedRequest[]> {
  const res = await fetch(`${standinOrigin()}/__scenario/${scenario}/requests?atLeast=${atLeast}`);
  const body = (await res.json()) as { requests: StandinRecordedRequest[] };
  return body.requests;
}
