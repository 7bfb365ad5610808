/**
 * Any OpenAI-compatible chat completions endpoint: OpenAI itself, vLLM, Ollama, llama.cpp's
 * server, and the test stand-in. One base URL per deployment (`OPENAI_BASE_URL`).
 */

import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "ai";
import type { ModelEnv, ProviderSettings } from "../model-env.js";
import { optionalSetting, parseBaseUrl } from "./settings.js";

export const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";

export interface OpenAiCompatibleSettings {
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; absent for local servers that need none. */
  apiKey: string | undefined;
}

/**
 * Settings from env. OpenAI itself needs `OPENAI_API_KEY`; a self-hosted endpoint named by
 * `OPENAI_BASE_URL` (Ollama, vLLM, llama.cpp) may run without one, so there it is optional.
 *
 * @example resolveOpenAiCompatibleSettings({ OPENAI_API_KEY: "sk-…" })
 * // { ok: true, settings: { baseUrl: "https://api.openai.com/v1", apiKey: "sk-…" } }
 */
export function resolveOpenAiCompatibleSettings(
  env: Pick<ModelEnv, "OPENAI_BASE_URL" | "OPENAI_API_KEY">,
): ProviderSettings<OpenAiCompatibleSettings> {
  const base = parseBaseUrl(
    optionalSetting(env.OPENAI_BASE_URL) ?? OPENAI_DEFAULT_BASE_URL,
    "OPENAI_BASE_URL",
  );
  if (!base.ok) return base;
  const apiKey = optionalSetting(env.OPENAI_API_KEY);
  if (apiKey === undefined && new URL(base.url).hostname === "api.openai.com") {
    return {
      ok: false,
      reason:
        "OPENAI_API_KEY is not set: set the secret (wrangler secret put OPENAI_API_KEY), or point OPENAI_BASE_URL at a self-hosted endpoint",
    };
  }
  return { ok: true, settings: { baseUrl: base.url, apiKey } };
}

/**
 * The AI SDK chat model `modelName` at the configured endpoint.
 *
 * @example createOpenAiCompatibleModel("gpt-4o-mini", { baseUrl: OPENAI_DEFAULT_BASE_URL, apiKey: "sk-…" })
 */
export function createOpenAiCompatibleModel(
  modelName: string,
  settings: OpenAiCompatibleSettings,
): LanguageModel {
  const provider = createOpenAICompatible({
    name: "openai",
    baseURL: settings.baseUrl,
    ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }),
  });
  return provider.chatModel(modelName);
}
