/** A `ModelClient` over any AI SDK language model: one call, no retries, our types in and out. */

import { generateText, type LanguageModel } from "ai";
import {
  ModelCallError,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
} from "../types.js";
import { toModelCallError } from "./errors.js";
import { toAiTools, toModelMessages } from "./messages.js";
import { fromGenerateTextOutcome } from "./response.js";

/**
 * Wraps `model` as the `ModelClient` named `id`. Each `generate` is exactly one provider call:
 * `maxRetries: 0` because the scheduler owns retries (it backs off the whole pool on a 429),
 * and `request.signal` is passed through so terminating a process cancels its call.
 *
 * @example
 * const client = createAiSdkModelClient("anthropic:claude-sonnet-4-5", anthropic("claude-sonnet-4-5"));
 * const reply = await client.generate({ system, messages, tools, maxOutputTokens: 1024, signal });
 */
export function createAiSdkModelClient(id: string, model: LanguageModel): ModelClient {
  return {
    id,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      if (request.signal?.aborted) {
        throw new ModelCallError(`${id}: call aborted`, { status: null, aborted: true });
      }
      let result: Awaited<ReturnType<typeof generateText>>;
      try {
        result = await generateText({
          model,
          system: request.system === "" ? undefined : request.system,
          messages: toModelMessages(request.messages),
          tools: toAiTools(request.tools),
          maxOutputTokens: request.maxOutputTokens,
          maxRetries: 0,
          abortSignal: request.signal,
        });
      } catch (error) {
        throw toModelCallError(error, id, request.signal);
      }
      return fromGenerateTextOutcome(
        {
          text: result.text,
          toolCalls: result.toolCalls,
          // The whole call's usage: with no `execute` on any tool the SDK stops after one step,
          // but if it ever took more, every step was billed.
          usage: result.totalUsage,
          finishReason: result.finishReason,
        },
        request,
        id,
      );
    },
  };
}
