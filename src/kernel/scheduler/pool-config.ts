/**
 * A model pool's configuration: which policy orders its queue, how much capacity it has, how
 * many processes it admits, and how long a lease lasts. One schema, shared by the wrangler
 * variable `MODEL_POOLS`, the admin API and the Scheduler Durable Object.
 */

import { z } from "zod";
import { RetryOptionsSchema } from "../capacity/backoff.js";
import { CapacityConfigSchema } from "../capacity/limiter.js";
import { DEFAULT_POLICY, PolicyConfigSchema } from "./registry.js";

export const AdmissionConfigSchema = z.object({
  /** Live (admitted, not ended) processes one tenant may have in the pool. */
  maxLivePerTenant: z.number().int().min(1).max(1_000_000).default(100),
  /** Live processes in the pool across all tenants. */
  maxLivePerPool: z.number().int().min(1).max(10_000_000).default(10_000),
  /** Spawns waiting for a slot; beyond this a spawn is refused and the process fails. */
  maxAdmissionQueue: z.number().int().min(0).max(1_000_000).default(10_000),
});

export const PricingSchema = z.object({
  inputMicroUsdPerMTok: z.number().int().min(0).max(1_000_000_000).default(0),
  outputMicroUsdPerMTok: z.number().int().min(0).max(1_000_000_000).default(0),
});

export const PoolConfigSchema = z.object({
  policy: PolicyConfigSchema.default({ name: DEFAULT_POLICY, options: {} } as never),
  capacity: CapacityConfigSchema.default({
    maxConcurrent: 8,
    requestsPerMin: 600,
    tokensPerMin: 2_000_000,
  }),
  admission: AdmissionConfigSchema.prefault({}),
  /** A lease not completed within this is reclaimed: a crashed process cannot hold capacity. */
  leaseTtlMs: z.number().int().min(1_000).max(3_600_000).default(120_000),
  /** The quantum: the most output tokens one step (one lease) may produce. */
  maxOutputTokensPerStep: z.number().int().min(1).max(200_000).default(4_096),
  contextWindowTokens: z.number().int().min(256).max(10_000_000).default(32_768),
  pricing: PricingSchema.prefault({}),
  retry: RetryOptionsSchema.prefault({}),
});
export type PoolConfig = z.output<typeof PoolConfigSchema>;
export type PoolConfigInput = z.input<typeof PoolConfigSchema>;

/** What the admin API accepts: any part of a pool's configuration. */
export const PoolConfigPatchSchema = z.strictObject({
  policy: PolicyConfigSchema.optional(),
  capacity: CapacityConfigSchema.strict().optional(),
  admission: AdmissionConfigSchema.partial().strict().optional(),
  leaseTtlMs: z.number().int().min(1_000).max(3_600_000).optional(),
  maxOutputTokensPerStep: z.number().int().min(1).max(200_000).optional(),
  contextWindowTokens: z.number().int().min(256).max(10_000_000).optional(),
  pricing: PricingSchema.partial().strict().optional(),
  retry: RetryOptionsSchema.partial().strict().optional(),
});
export type PoolConfigPatch = z.infer<typeof PoolConfigPatchSchema>;

/** `config` with `patch` laid over it, validated again as a whole. */
export function applyPoolPatch(config: PoolConfig, patch: PoolConfigPatch): PoolConfig {
  return PoolConfigSchema.parse({
    ...config,
    ...patch,
    admission: { ...config.admission, ...patch.admission },
    pricing: { ...config.pricing, ...patch.pricing },
    retry: { ...config.retry, ...patch.retry },
  });
}

/** The cost of a call in micro-dollars, rounded up so nothing is free by rounding. */
export function costMicroUsd(
  pricing: PoolConfig["pricing"],
  inputTokens: number,
  outputTokens: number,
): number {
  const micro =
    (inputTokens * pricing.inputMicroUsdPerMTok + outputTokens * pricing.outputMicroUsdPerMTok) /
    1_000_000;
  return Math.ceil(micro);
}
