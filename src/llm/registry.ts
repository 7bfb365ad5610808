/**
 * Model ids as agent types name them (`provider:model`), and the one place that turns an id
 * plus the Worker's env into a `ModelClient`. A real provider without its credentials or
 * binding is refused with a reason; nothing ever falls back to another provider.
 */

import { z } from "zod";
import { createAiSdkModelClient } from "./ai-sdk/client.js";
import type { ModelEnv } from "./model-env.js";
import { createAnthropicModel, resolveAnthropicSettings } from "./providers/anthropic.js";
import {
  createOpenAiCompatibleModel,
  resolveOpenAiCompatibleSettings,
} from "./providers/openai-compatible.js";
import { createWorkersAiModel, resolveWorkersAiSettings } from "./providers/workers-ai.js";
import { createScriptedModel, type ScriptedTurn, ScriptSchema } from "./scripted.js";
import { ModelCallError, type ModelClient } from "./types.js";

export type { ModelEnv } from "./model-env.js";

export const MODEL_PROVIDERS = ["scripted", "openai", "anthropic", "workers-ai"] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** Longest model id accepted. */
export const MAX_MODEL_ID_CHARS = 200;

// The model part keeps the characters real names use: `gpt-4o`, `llama3.1:8b` (Ollama tags
// contain a colon), `@cf/meta/llama-3.1-8b-instruct`, `Qwen/Qwen2.5-7B-Instruct`.
const MODEL_ID_PATTERN = /^(?:scripted|(?:openai|anthropic|workers-ai):[A-Za-z0-9@][\w@./:+-]*)$/;

/**
 * A model id: `scripted`, `openai:<model>`, `anthropic:<model>` or `workers-ai:<model>`.
 *
 * @example ModelIdSchema.parse("anthropic:claude-sonnet-4-5")
 */
export const ModelIdSchema = z
  .string()
  .max(MAX_MODEL_ID_CHARS)
  .regex(
    MODEL_ID_PATTERN,
    "a model id: scripted, openai:<model>, anthropic:<model> or workers-ai:<model>",
  );
export type ModelId = z.infer<typeof ModelIdSchema>;

/**
 * The provider and model name of an id, or null when it is malformed. The model name is
 * everything after the first colon.
 *
 * @example parseModelId("openai:llama3.1:8b") // { provider: "openai", model: "llama3.1:8b" }
 */
export function parseModelId(modelId: string): { provider: ModelProvider; model: string } | null {
  if (!ModelIdSchema.safeParse(modelId).success) return null;
  if (modelId === "scripted") return { provider: "scripted", model: "" };
  const colon = modelId.indexOf(":");
  return {
    provider: modelId.slice(0, colon) as ModelProvider,
    model: modelId.slice(colon + 1),
  };
}

/**
 * The provider an id names, or null when the id is malformed.
 *
 * @example providerOf("workers-ai:@cf/meta/llama-3.1-8b-instruct") // "workers-ai"
 */
export function providerOf(modelId: string): ModelProvider | null {
  return parseModelId(modelId)?.provider ?? null;
}

/**
 * Whether `modelId` can be called with `env`: used at spawn so an agent type that names a real
 * provider without credentials fails there, with the reason, rather than at its first step.
 * `scripted` is always available (its turns are checked where they are given).
 *
 * @example checkModelAvailable("anthropic:claude-sonnet-4-5", {})
 * // { ok: false, reason: "anthropic:claude-sonnet-4-5: ANTHROPIC_API_KEY is not set: …" }
 */
export function checkModelAvailable(
  modelId: string,
  env: ModelEnv,
): { ok: true } | { ok: false; reason: string } {
  const parsed = parseModelId(modelId);
  if (parsed === null) {
    return {
      ok: false,
      reason: `invalid model id ${JSON.stringify(modelId)}: expected scripted, openai:<model>, anthropic:<model> or workers-ai:<model>`,
    };
  }
  const resolved = resolveProvider(parsed.provider, env);
  return resolved.ok ? { ok: true } : { ok: false, reason: `${modelId}: ${resolved.reason}` };
}

function resolveProvider(
  provider: ModelProvider,
  env: ModelEnv,
): { ok: true } | { ok: false; reason: string } {
  switch (provider) {
    case "scripted":
      return { ok: true };
    case "openai":
      return resolveOpenAiCompatibleSettings(env);
    case "anthropic":
      return resolveAnthropicSettings(env);
    case "workers-ai":
      return resolveWorkersAiSettings(env);
  }
}

export interface CreateModelClientOptions {
  /**
   * Turns for the `scripted` model, ignored by real providers; none means it fails at turn 0.
   * Unknown values are accepted (a script read back from storage) and checked against
   * `ScriptSchema` here.
   */
  script?: readonly ScriptedTurn[] | readonly unknown[];
}

/**
 * The client for `modelId`. Throws `ModelCallError` with status 400 when the id is malformed
 * or the provider is unavailable (the same reason `checkModelAvailable` gives), so a process
 * whose credentials vanished after spawn fails instead of retrying, and likewise for a
 * `scripted` model whose script breaks `ScriptSchema`.
 *
 * @example
 * const model = createModelClient(agentType.model, env, { script: agentType.script });
 * const reply = await model.generate(request);
 */
export function createModelClient(
  modelId: string,
  env: ModelEnv,
  options: CreateModelClientOptions = {},
): ModelClient {
  const parsed = parseModelId(modelId);
  const unavailable = (reason: string) =>
    new ModelCallError(`${modelId}: ${reason}`, { status: 400 });
  if (parsed === null) throw unavailable("invalid model id");
  switch (parsed.provider) {
    case "scripted": {
      const script = ScriptSchema.safeParse(options.script ?? []);
      if (!script.success) throw unavailable(`invalid script: ${z.prettifyError(script.error)}`);
      return createScriptedModel(script.data);
    }
    case "openai": {
      const resolved = resolveOpenAiCompatibleSettings(env);
      if (!resolved.ok) throw unavailable(resolved.reason);
      return createAiSdkModelClient(
        modelId,
        createOpenAiCompatibleModel(parsed.model, resolved.settings),
      );
    }
    case "anthropic": {
      const resolved = resolveAnthropicSettings(env);
      if (!resolved.ok) throw unavailable(resolved.reason);
      return createAiSdkModelClient(modelId, createAnthropicModel(parsed.model, resolved.settings));
    }
    case "workers-ai": {
      const resolved = resolveWorkersAiSettings(env);
      if (!resolved.ok) throw unavailable(resolved.reason);
      return createAiSdkModelClient(modelId, createWorkersAiModel(parsed.model, resolved.settings));
    }
  }
}
