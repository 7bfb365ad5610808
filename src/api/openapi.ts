/** Helpers that keep route definitions short: the shared error responses and security scheme. */

import { PROBLEM_CONTENT_TYPE, ProblemSchema } from "./problem.js";

const DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request (e.g. invalid JSON)",
  401: "Missing, unknown, revoked or expired credential",
  403: "The credential may not do this",
  404: "No such resource in the caller's tenant",
  409: "Conflicts with the current state",
  413: "Body larger than 1 MiB",
  415: "Body is not JSON",
  422: "A field failed validation; `errors[]` names each one",
  426: "Expected a WebSocket upgrade",
  503: "Not available: the deployment lacks a configured dependency",
};

/** OpenAPI response entries for the given problem statuses. */
export function problems(...statuses: number[]) {
  const out: Record<
    number,
    { description: string; content: Record<string, { schema: typeof ProblemSchema }> }
  > = {};
  for (const status of statuses) {
    out[status] = {
      description: DESCRIPTIONS[status] ?? "Error",
      content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
    };
  }
  return out;
}

/** The security requirement every /v1 route declares. */
export const BEARER = [{ bearerAuth: [] }];

/** A JSON response entry. */
export function json<T>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}
