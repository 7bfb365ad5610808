/**
 * Scheduling policies for model-capacity leases. One interface (`SchedPolicy`, modelled on
 * sched_ext's ops table), one file per policy, and a registry to pick one by name.
 */

export {
  type AtlasOptions,
  AtlasPolicy,
  createAtlasPolicy,
  MAX_THREADS_PER_PROGRAM,
} from "./atlas.js";
export { BudgetLedger } from "./budget-ledger.js";
export { SchedTaskSchema } from "./common.js";
export { type CompositeOptions, createCompositePolicy } from "./composite.js";
export { createFairPlasPolicy, type FairPlasOptions } from "./fair-plas.js";
export { createFcfsPolicy, type FcfsOptions, FcfsPolicy } from "./fcfs.js";
export { IndexedHeap } from "./heap.js";
export { createMlfqPolicy, type MlfqOptions, MlfqPolicy } from "./mlfq.js";
export { createPlasPolicy, type PlasOptions, PlasPolicy, type ProgramService } from "./plas.js";
export { createPriorityPolicy, type PriorityOptions, PriorityPolicy } from "./priority.js";
export {
  createPolicy,
  createPolicyFromConfig,
  DEFAULT_POLICY,
  POLICY_NAMES,
  POLICY_OPTION_SCHEMAS,
  type PolicyConfig,
  PolicyConfigSchema,
  type PolicyName,
  PolicyNameSchema,
  type PolicyOptions,
  switchPolicy,
} from "./registry.js";
export { createRoundRobinPolicy, type RoundRobinOptions, RoundRobinPolicy } from "./round-robin.js";
export {
  type BudgetGateOptions,
  createTokenBudgetPolicy,
  RemainingBudgetOrder,
  TokenBudgetGate,
  type TokenBudgetOptions,
  withTokenBudget,
} from "./token-budget.js";
export {
  DEFAULT_SERVICE_WEIGHTS,
  type Decision,
  type EnqueueRefusal,
  type EnqueueResult,
  type PolicyFactory,
  type PolicyState,
  PRIORITY_CLASSES,
  type PriorityClass,
  SCHED_LIMITS,
  type SchedPolicy,
  type SchedTask,
  type ServiceWeights,
  serviceTokens,
  type Usage,
  ZERO_USAGE,
} from "./types.js";
export { createVtcPolicy, type VtcOptions, VtcPolicy } from "./vtc.js";
