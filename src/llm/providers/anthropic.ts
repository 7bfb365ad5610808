/** Anthropic's Messages API, directly or through a proxy named by `ANTHROPIC_BASE_URL`. */

import { createAnthropic } from "@ai-sdk/anthropic";
import type { LanguageModel } from "ai";
import type { ModelEnv, ProviderSettings } from "../model-env.js";
import { optionalSetting, parseBaseUrl } from "./settings.js";

export const ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com/v1";

export interface AnthropicSettings {
  baseUrl: string;
  apiKey: string;
}

/**
 * Settings from env: `ANTHROPIC_API_KEY` is required, `ANTHROPIC_BASE_URL` optional.
 *
 * @example resolveAnthropicSettings({ ANTHROPIC_API_KEY: "sk-ant-…" })
 * // { ok: true, settings: { baseUrl: "https://api.anthropic.com/v1", apiKey: "sk-ant-…" } }
 */
export function resolveAnthropicSettings(
  env: Pick<ModelEnv, "ANTHROPIC_API_KEY" | "ANTHROPIC_BASE_URL">,
): ProviderSettings<AnthropicSettings> {
  const apiKey = optionalSetting(env.ANTHROPIC_API_KEY);
  if (apiKey === undefined) {
    return {
      ok: false,
      reason:
        "ANTHROPIC_API_KEY is not set: set the secret (wrangler secret put ANTHROPIC_API_KEY)",
    };
  }
  const base = parseBaseUrl(
    optionalSetting(env.ANTHROPIC_BASE_URL) ?? ANTHROPIC_DEFAULT_BASE_URL,
    "ANTHROPIC_BASE_URL",
  );
  if (!base.ok) return base;
  return { ok: true, settings: { baseUrl: base.url, apiKey } };
}

/**
 * The AI SDK model `modelName` on Anthropic. Both key and base URL are passed explicitly so the
 * SDK never falls back to reading `process.env`.
 *
 * @example createAnthropicModel("claude-sonnet-4-5", { baseUrl: ANTHROPIC_DEFAULT_BASE_URL, apiKey: "sk-ant-…" })
 */
export function createAnthropicModel(
  modelName: string,
  settings: AnthropicSettings,
): LanguageModel {
  return createAnthropic({ apiKey: settings.apiKey, baseURL: settings.baseUrl })(modelName);
}
