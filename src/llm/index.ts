/** Model providers behind one interface: import from here. */

export { estimateInputTokens, estimateTokens } from "./estimate.js";
export {
  type CreateModelClientOptions,
  checkModelAvailable,
  createModelClient,
  MAX_MODEL_ID_CHARS,
  MODEL_PROVIDERS,
  type ModelEnv,
  type ModelId,
  ModelIdSchema,
  type ModelProvider,
  parseModelId,
  providerOf,
} from "./registry.js";
export {
  createScriptedModel,
  MAX_SCRIPT_CHARS,
  MAX_SCRIPTED_TOOL_CALLS_PER_TURN,
  MAX_SCRIPTED_TURN_CHARS,
  MAX_SCRIPTED_TURNS,
  type ScriptedTurn,
  ScriptedTurnSchema,
  ScriptSchema,
} from "./scripted.js";
export * from "./types.js";
