/**
 * The execution verifier's VM stage (a host-agent in the `verifier` role): compile a policy
 * against a sched_ext kernel, boot it in a throwaway qemu VM, load, exercise and unload it
 * through the node's own deploy module.
 *
 * @example
 * const { result, object } = await runVerifyJob(job, { cacheDir: defaultCacheDir() });
 */

export type { CompileOptions, CompileOutcome } from "./compile.js";
export { compileBpf } from "./compile.js";
export { GuestChannelError, GuestExecutor } from "./guest-executor.js";
export type { HostPackagesReport } from "./host-packages.js";
export { ensureHostPackages, probeHostTools } from "./host-packages.js";
export type { CachedKernel, EnsureKernelOptions } from "./kernel.js";
export { ensureKernel, findCachedKernel } from "./kernel.js";
export type { VerifyOptions, VerifyOutcome } from "./run-verify-job.js";
export { defaultCacheDir, GUEST_OBJECT_PATH, runVerifyJob } from "./run-verify-job.js";
export type { Vm, VmOptions } from "./vm.js";
export { bootVm, VmBootError } from "./vm.js";
