/**
 * Vitest global setup: starts the stand-in OpenAI-compatible provider once per run and provides
 * its port as `standinOpenaiPort`; vitest.config.mts hands it to the workers as the
 * `STANDIN_OPENAI_PORT` binding. See openai-server.mjs for the control API. Also starts the
 * external MCP tool server (mcp-tool-server.mjs), whose port reaches the workers as
 * `STANDIN_MCP_PORT`.
 */

import type { TestProject } from "vitest/node";
import { startMcpToolServer } from "./mcp-tool-server.mjs";
import { startOpenAiStandin } from "./openai-server.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    standinOpenaiPort: number;
    standinMcpPort: number;
  }
}

/** Starts the stand-in; the returned teardown closes it (and any call left hanging). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const standin = await startOpenAiStandin();
  const tools = await startMcpToolServer();
  project.provide("standinOpenaiPort", standin.port);
  project.provide("standinMcpPort", tools.port);
  return async () => {
    await standin.close();
    await tools.close();
  };
}
