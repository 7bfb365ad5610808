/**
 * The deploy path of a node and of the verifier's VM: one module registers, watches and
 * reverts a scheduler policy through an Executor (this machine, or a guest VM).
 *
 * @example
 * const deployer = createDeployer({ executor: new LocalExecutor(), dryRun: config.dryRun });
 */

export type { AssignmentOutcome, AssignmentPathOptions } from "./assignment-path.js";
export { DEFAULT_ARTIFACT_DIR, deployAssignment } from "./assignment-path.js";
export { DEFAULT_BPFFS_DIR, summarizeRegisterFailure } from "./bpf-backend.js";
export type { CheckOptions, CheckResult, TrustAnchor } from "./check.js";
export { checkAssignment, checkSignature, keyIdOf, sha256Hex } from "./check.js";
export type { DeployerOptions, NodeDeployer } from "./deployer.js";
export { createDeployer, DEFAULT_POLL_INTERVAL_MS } from "./deployer.js";
export { GuardWatch, guardMetric, judge } from "./guards.js";
export { LocalExecutor } from "./local-executor.js";
export { readSchedExtStatus } from "./sched-ext.js";
export type { ScxAllowList, ScxBinarySpec } from "./scx-backend.js";
export { ScxAllowListSchema, ScxBinarySpecSchema, scxArgv } from "./scx-backend.js";
export { deployStatusFrame } from "./status.js";
export type * from "./types.js";
