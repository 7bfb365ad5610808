import { homedir } from "node:os";
import { join } from "node:path";
import { trimText } from "../deploy/backend.js";
import { sha256Hex } from "../deploy/check.js";
import { createDeployer } from "../deploy/deployer.js";
import { readSchedExtKernelLog, readSchedExtStatus } from "../deploy/sched-ext.js";
import type { Deployable, Transition } from "../deploy/types.js";
import {
  FLEET_LIMITS,
  type VerifyJob,
  VerifyJobSchema,
  type VerifyResult,
  VerifyResultSchema,
} from "../protocol.js";
import { compileBpf } from "./compile.js";
import { type CachedKernel, ensureKernel } from "./kernel.js";
import { type ExtSample, parseExtSamples, ScheduledTasks } from "./sched-sample.js";
import { bootVm, type Vm, VmBootError } from "./vm.js";

/*
 * The execution verifier's VM stage for one job: compile → boot → load → workload → unload.
 * Loading, watching and unloading go through the very deploy module a node uses, driven over
 * the guest channel, so the node's path meets a real sched_ext kernel here too. The caller
 * uploads the returned object; this function only builds and judges it.
 */

/** The default cache root: kernels, apt state. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "edgekernel");
}

/** Where the candidate object sits inside the guest. */
export const GUEST_OBJECT_PATH = "/policies/candidate.bpf.o";
/** Busy loops the functional workload starts: one per guest CPU, so the command server
 * still gets a turn under a FIFO with 20 ms slices. */
export const DEFAULT_WORKLOAD_TASKS = 2;
export const DEFAULT_SAMPLE_INTERVAL_MS = 1_000;

export interface VerifyOptions {
  /** Cache root for the kernel and apt state (default `~/.cache/edgekernel`). */
  cacheDir?: string;
  /** A kernel already at hand; else `ensureKernel({ cacheDir })`. */
  kernel?: CachedKernel;
  /** Parent of scratch directories (default the OS temp dir). */
  workDir?: string;
  bootTimeoutMs?: number;
  compileTimeoutMs?: number;
  registerTimeoutMs?: number;
  workloadTasks?: number;
  sampleIntervalMs?: number;
  accel?: "tcg" | "kvm" | "auto";
  log?: (line: string) => void;
}

export interface VerifyOutcome {
  result: VerifyResult;
  /** The compiled object (null when compiling failed), for the caller to upload. */
  object: Uint8Array | null;
}

type Stage = VerifyResult["stages"][number];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Verifies one job in a throwaway VM.
 *
 * @example
 * const { result, object } = await runVerifyJob(job, { cacheDir: "/root/.cache/edgekernel" });
 * if (object) await upload(job.uploadPath, object);
 * send({ type: "verify-result", result });
 */
export async function runVerifyJob(
  input: VerifyJob,
  options: VerifyOptions = {},
): Promise<VerifyOutcome> {
  const job = VerifyJobSchema.parse(input);
  const log = options.log ?? (() => {});
  const stages: Stage[] = [];
  const result: VerifyResult = {
    jobId: job.jobId,
    ok: false,
    stages,
    loaded: false,
    tasksScheduled: 0,
    ejected: false,
    ejectionReason: null,
    unloadedCleanly: false,
    kernelRelease: null,
    object: null,
  };
  const finish = (object: Uint8Array | null): VerifyOutcome => {
    result.ok = stages.length === 5 && stages.every((stage) => stage.ok);
    return { result: VerifyResultSchema.parse(result), object };
  };
  const stage = (name: Stage["stage"], ok: boolean, startedMs: number, text: string) => {
    stages.push({
      stage: name,
      ok,
      durationMs: Math.max(0, performance.now() - startedMs),
      log: trimText(text, FLEET_LIMITS.maxLogChars),
    });
    log(`${job.jobId}: ${name} ${ok ? "ok" : "FAILED"}`);
  };

  const kernel =
    options.kernel ??
    (await ensureKernel({ cacheDir: options.cacheDir ?? defaultCacheDir(), log }));

  // compile
  let startedMs = performance.now();
  const compiled = await compileBpf({
    source: job.source,
    parameters: job.parameters,
    kernel,
    ...(options.compileTimeoutMs === undefined ? {} : { timeoutMs: options.compileTimeoutMs }),
    ...(options.workDir === undefined ? {} : { workDir: options.workDir }),
  });
  stage("compile", compiled.ok, startedMs, compiled.log);
  if (!compiled.ok) return finish(null);
  const object = compiled.object;
  result.object = { sha256: await sha256Hex(object), sizeBytes: object.length };

  // boot
  startedMs = performance.now();
  let vm: Vm;
  try {
    vm = await bootVm({
      vmlinux: kernel.vmlinux,
      files: { [GUEST_OBJECT_PATH]: object },
      ...(options.bootTimeoutMs === undefined ? {} : { bootTimeoutMs: options.bootTimeoutMs }),
      ...(options.workDir === undefined ? {} : { workDir: options.workDir }),
      ...(options.accel === undefined ? {} : { accel: options.accel }),
      log,
    });
  } catch (error) {
    const consoleText = error instanceof VmBootError ? `\n${error.consoleText}` : "";
    stage("boot", false, startedMs, `${String(error)}${consoleText}`);
    return finish(object);
  }
  try {
    result.kernelRelease = vm.kernelRelease;
    const status = await readSchedExtStatus(vm.guest, "/sys");
    const bootOk = status.supported && status.state === "disabled";
    stage(
      "boot",
      bootOk,
      startedMs,
      `kernel ${vm.kernelRelease}; sched_ext ${status.supported ? status.state : "missing"}`,
    );
    if (!bootOk) return finish(object);
    const progress: GuestProgress = { stage: "load", startedMs: performance.now() };
    try {
      await verifyInGuest(job, object, vm, result, stage, progress, options);
    } catch (error) {
      // The channel broke (the guest hung or its kernel died): the stage under way failed.
      const consoleText = await vm.console();
      stage(
        progress.stage,
        false,
        progress.startedMs,
        `${String(error)}\n--- console\n${consoleText}`,
      );
    }
    return finish(object);
  } finally {
    await vm.close();
  }
}

/** Which in-guest stage is under way, for the report when the channel breaks. */
interface GuestProgress {
  stage: Stage["stage"];
  startedMs: number;
}

/** load → workload → unload, through the node's deploy module over the guest channel. */
async function verifyInGuest(
  job: VerifyJob,
  object: Uint8Array,
  vm: Vm,
  result: VerifyResult,
  stage: (name: Stage["stage"], ok: boolean, startedMs: number, text: string) => void,
  progress: GuestProgress,
  options: VerifyOptions,
): Promise<void> {
  const guest = vm.guest;
  const deployer = createDeployer({
    executor: guest,
    sysRoot: "/sys",
    bpffsDir: "/sys/fs/bpf/edgekernel",
    pollIntervalMs: 0,
    ...(options.registerTimeoutMs === undefined
      ? {}
      : { registerTimeoutMs: options.registerTimeoutMs }),
    // The guest answers slowly under TCG, and more slowly under a scheduler being judged.
    settleTimeoutMs: 30_000,
  });
  const deployable: Deployable = {
    assignmentId: `asg_${job.jobId.slice("vjob_".length)}`,
    payload: {
      policyId: job.policyId,
      version: job.version,
      artifactSha256: result.object?.sha256 ?? "0".repeat(64),
      parameters: job.parameters,
      expiresAtMs: Date.now() + 3_600_000,
    },
    artifact: { kind: "bpf-object", sizeBytes: object.length, opsName: job.opsName },
    guards: [],
  };
  const describe = (t: Transition) =>
    [`${t.state}${t.reason === null ? "" : `: ${t.reason}`}`, t.log ?? ""].join("\n").trim();

  // load
  let startedMs = performance.now();
  Object.assign(progress, { stage: "load", startedMs });
  const loaded = await deployer.apply(deployable, GUEST_OBJECT_PATH);
  if (loaded.state === "ejected") {
    // Registered (the kernel verifier accepted it), then disabled at once.
    result.loaded = true;
    result.ejected = true;
    result.ejectionReason = trimText(loaded.reason ?? "ejected", 4_096);
  } else {
    result.loaded = loaded.state === "active";
  }
  stage("load", loaded.state === "active", startedMs, describe(loaded));
  if (loaded.state !== "active") return;

  // workload
  startedMs = performance.now();
  Object.assign(progress, { stage: "workload", startedMs });
  const tasks = options.workloadTasks ?? DEFAULT_WORKLOAD_TASKS;
  const started = await guest.run([
    "sh",
    "-c",
    `i=0; while [ $i -lt ${tasks} ]; do (while :; do :; done) & echo $!; i=$((i+1)); done`,
  ]);
  const pids = started.stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^\d+$/.test(line));
  const scheduled = new ScheduledTasks();
  let ejection: Transition | null = null;
  const samples: string[] = [];
  const deadlineMs = performance.now() + job.workloadMs;
  try {
    // Sample at once, then every interval until the workload time is up (at least twice:
    // progress is measured between samples, and a loaded guest answers slowly).
    for (let n = 0; n < 2 || performance.now() < deadlineMs; n += 1) {
      if (n > 0) await sleep(options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS);
      const grep = await guest.run([
        "grep",
        "-H",
        "-E",
        "^(ext\\.enabled|se\\.sum_exec_runtime) ",
        ...pids.map((pid) => `/proc/${pid}/sched`),
      ]);
      const sample: ExtSample[] = parseExtSamples(grep.stdout);
      scheduled.add(sample);
      samples.push(
        sample.map((s) => `${s.pid}:ext=${s.extEnabled ? 1 : 0},ran=${s.runtimeMs}ms`).join(" "),
      );
      ejection = await deployer.poll(Date.now());
      if (ejection !== null) break;
    }
  } finally {
    if (pids.length > 0) await guest.run(["kill", "-9", ...pids]);
  }
  result.tasksScheduled = scheduled.count();
  if (ejection !== null) {
    result.ejected = true;
    result.ejectionReason = trimText(ejection.reason ?? "ejected", 4_096);
  }
  const workloadOk = ejection === null && result.tasksScheduled > 0;
  stage(
    "workload",
    workloadOk,
    startedMs,
    [
      `${pids.length} busy loops for ${job.workloadMs} ms; ${result.tasksScheduled} ran under ${job.opsName}`,
      ...samples.map((s, i) => `sample ${i + 1}: ${s}`),
      ejection === null ? "" : describe(ejection),
    ]
      .join("\n")
      .trim(),
  );
  if (ejection !== null) return;

  // unload
  startedMs = performance.now();
  Object.assign(progress, { stage: "unload", startedMs });
  const stopped = await deployer.revert("verification finished", deployable.assignmentId);
  const after = await readSchedExtStatus(guest, "/sys");
  const kernelLines = await readSchedExtKernelLog(guest);
  result.unloadedCleanly = stopped?.state === "stopped" && after.state === "disabled";
  stage(
    "unload",
    result.unloadedCleanly,
    startedMs,
    [
      stopped === null ? "nothing to unload" : describe(stopped),
      `sched_ext ${after.state}`,
      ...kernelLines,
    ].join("\n"),
  );
  await deployer.close();
}
