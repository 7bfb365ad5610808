/**
 * Which pool a model belongs to and how that pool is configured from the deployment's
 * `MODEL_POOLS` variable (JSON: `{ "<pool>": {…}, "default": {…} }`). A pool is named after
 * the model id its processes call (`scripted`, `openai:gpt-4o-mini`, …).
 */

import { z } from "zod";
import {
  type PoolConfig,
  type PoolConfigInput,
  PoolConfigSchema,
} from "../kernel/scheduler/pool-config.js";

/** Pool names are model ids; they travel in URL paths (percent-encoded) and object names. */
export const PoolNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/,
    "a model id such as `scripted` or `openai:gpt-4o-mini`",
  );

/** The pool a model's calls are scheduled in. */
export function poolForModel(modelId: string): string {
  return modelId;
}

/**
 * The configuration `MODEL_POOLS` gives `pool`: its own entry over `default` over the built-in
 * defaults. A malformed variable is a deployment error and throws at first use.
 */
export function configuredPool(modelPoolsJson: string | undefined, pool: string): PoolConfig {
  const all = modelPoolsJson ? (JSON.parse(modelPoolsJson) as Record<string, PoolConfigInput>) : {};
  const base = all.default ?? {};
  const own = all[pool] ?? {};
  return PoolConfigSchema.parse({ ...base, ...own });
}
