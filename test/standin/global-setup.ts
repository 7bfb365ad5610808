/**
 * Vitest global setup: starts the stand-in OpenAI-compatible provider once per run and provides
 * its port as `standinOpenaiPort`; vitest.config.mts hands it to the workers as the
 * `STANDIN_OPENAI_PORT` binding. See openai-server.mjs for the control API.
 */

import type { TestProject } from "vitest/node";
import { startOpenAiStandin } from "./openai-server.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    standinOpenaiPort: number;
  }
}

/** Starts the stand-in; the returned teardown closes it (and any call left hanging). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const standin = await startOpenAiStandin();
  project.provide("standinOpenaiPort", standin.port);
  return () => standin.close();
}
