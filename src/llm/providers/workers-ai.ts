/** Workers AI through the Worker's `AI` binding: no key, billed to the account. */

import type { LanguageModel } from "ai";
import { createWorkersAI } from "workers-ai-provider";
import type { ModelEnv, ProviderSettings } from "../model-env.js";

export interface WorkersAiSettings {
  binding: Ai;
}

/**
 * Settings from env: the `AI` binding must be configured.
 *
 * @example resolveWorkersAiSettings({}) // { ok: false, reason: "the AI binding is not configured: …" }
 */
export function resolveWorkersAiSettings(
  env: Pick<ModelEnv, "AI">,
): ProviderSettings<WorkersAiSettings> {
  if (env.AI === undefined || env.AI === null) {
    return {
      ok: false,
      reason: 'the AI binding is not configured: add [ai] binding = "AI" to wrangler.toml',
    };
  }
  return { ok: true, settings: { binding: env.AI } };
}

/**
 * The AI SDK model `modelName` (e.g. `@cf/meta/llama-3.1-8b-instruct`) on the binding.
 *
 * @example createWorkersAiModel("@cf/meta/llama-3.1-8b-instruct", { binding: env.AI })
 */
export function createWorkersAiModel(
  modelName: string,
  settings: WorkersAiSettings,
): LanguageModel {
  return createWorkersAI({ binding: settings.binding })(modelName);
}
