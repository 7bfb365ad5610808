/**
 * The deploy path `run` uses, built from the configuration: on a node, the deploy module's
 * deployer (the BPF-object and scx-binary backends, or the dry-run backend with `--dry-run`)
 * with the assignment path in front of it; on a verifier, the VM stage's job runner, which
 * installs its host tools and fetches its kernel once, on first use.
 */

import { readFile } from "node:fs/promises";
import type { HostAgentConfig } from "../config.js";
import { deployAssignment } from "../deploy/assignment-path.js";
import { createDeployer } from "../deploy/deployer.js";
import { LocalExecutor } from "../deploy/local-executor.js";
import { type ScxAllowList, ScxAllowListSchema } from "../deploy/scx-backend.js";
import type { Executor } from "../deploy/types.js";
import type { Assignment } from "../protocol.js";
import type { CachedKernel } from "../verifier/kernel.js";
import type { DeployPath, RunVerifyJob } from "./seams.js";

/** The allow-list file could not be read or is not an allow-list. */
export class AllowListError extends Error {
  override readonly name = "AllowListError";
}

/**
 * Reads the scx allow-list file (`ScxAllowListSchema`); an empty list when none is configured.
 *
 * @throws {AllowListError} naming the file and the first field at fault.
 * @example const allowList = await readScxAllowList(config.scxAllowListFile)
 */
export async function readScxAllowList(path: string | undefined): Promise<ScxAllowList> {
  if (path === undefined) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new AllowListError(`scx allow-list ${path}: ${(error as Error).message}`);
  }
  const parsed = ScxAllowListSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AllowListError(
      `scx allow-list ${path}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

export interface DeployPathOptions {
  config: HostAgentConfig;
  role: "node" | "verifier";
  /** The control plane's key, pinned at enrollment (raw Ed25519 public key, base64url). */
  trust: { publicKey: string; keyId: string };
  /** Downloads an artifact by hash, refusing more than `maxBytes`. */
  fetchArtifact: (sha256: string, maxBytes: number) => Promise<Uint8Array>;
  /** The deploy module's own lines (dry-run's "would run" lines among them): stdout. */
  print: (line: string) => void;
  log: (line: string) => void;
  /** Replaces the local executor (tests record what would run). */
  executor?: Executor;
  /** Replaces the VM stage (tests). */
  runVerifyJob?: RunVerifyJob;
}

/**
 * The node's deployer and assignment path, or the verifier's job runner.
 *
 * @example const path = await createDeployPath({ config, role: state.role, trust, fetchArtifact, print, log })
 */
export async function createDeployPath(options: DeployPathOptions): Promise<DeployPath> {
  const { config } = options;
  if (options.role === "verifier") {
    return {
      deployer: null,
      deploy: null,
      runVerifyJob: options.runVerifyJob ?? verifierRunner(config, options.log),
    };
  }
  const scxAllowList = await readScxAllowList(config.scxAllowListFile);
  const executor = options.executor ?? new LocalExecutor();
  const deployer = createDeployer({
    executor,
    sysRoot: config.sysRoot,
    bpffsDir: config.bpffsDir,
    scxAllowList,
    dryRun: config.dryRun,
    pollIntervalMs: config.deployPollIntervalMs,
    log: options.print,
  });
  const trust = {
    publicKey: new Uint8Array(Buffer.from(options.trust.publicKey, "base64url")),
    keyId: options.trust.keyId,
  };
  return {
    deployer,
    deploy: (assignment) => {
      // The download is bounded by what the (signed) assignment says the object weighs.
      const artifact = (assignment as Partial<Assignment>).artifact;
      const maxBytes = artifact?.kind === "bpf-object" ? artifact.sizeBytes : 0;
      return deployAssignment(assignment, {
        deployer,
        executor,
        trust,
        fetchArtifact: (sha256) => options.fetchArtifact(sha256, maxBytes),
        artifactDir: config.artifactDir,
        scxAllowList,
        log: options.print,
      });
    },
    runVerifyJob: null,
  };
}

/**
 * The VM stage as a job runner. The host tools (installed from Debian when missing) and the
 * kernel are made ready once, by the first job, and reused; a failure there is retried by the
 * next job. Imported lazily, so a node never loads the verifier's modules.
 */
function verifierRunner(config: HostAgentConfig, log: (line: string) => void): RunVerifyJob {
  let ready: Promise<{ kernel: CachedKernel; cacheDir: string }> | null = null;
  const prepare = async () => {
    const verifier = await import("../verifier/index.js");
    const cacheDir = config.verifierCacheDir ?? verifier.defaultCacheDir();
    const tools = await verifier.ensureHostPackages({ cacheDir, log });
    if (tools.installed.length > 0) log(`verifier: installed ${tools.installed.join(" ")}`);
    const kernel = await verifier.ensureKernel({ cacheDir, log });
    log(`verifier: kernel ${kernel.abi} ready`);
    return { kernel, cacheDir };
  };
  return async (job) => {
    ready ??= prepare().catch((error: unknown) => {
      ready = null;
      throw error;
    });
    let prepared: { kernel: CachedKernel; cacheDir: string };
    try {
      prepared = await ready;
    } catch (error) {
      // Said in the result, so the operator sees why the verifier could not run it.
      return notReady(job.jobId, error instanceof Error ? error.message : String(error));
    }
    const { kernel, cacheDir } = prepared;
    const { runVerifyJob } = await import("../verifier/run-verify-job.js");
    return runVerifyJob(job, {
      kernel,
      cacheDir,
      ...(config.verifierWorkDir === undefined ? {} : { workDir: config.verifierWorkDir }),
      bootTimeoutMs: config.verifyBootTimeoutMs,
      compileTimeoutMs: config.verifyCompileTimeoutMs,
      registerTimeoutMs: config.verifyRegisterTimeoutMs,
      log,
    });
  };
}

/** The result of a job the verifier could not start (tools or kernel missing). */
function notReady(jobId: string, message: string): Awaited<ReturnType<RunVerifyJob>> {
  return {
    result: {
      jobId,
      ok: false,
      stages: [
        {
          stage: "compile",
          ok: false,
          durationMs: 0,
          log: `the verifier is not ready (host tools or kernel): ${message}`.slice(0, 65_536),
        },
      ],
      loaded: false,
      tasksScheduled: 0,
      ejected: false,
      ejectionReason: null,
      unloadedCleanly: false,
      kernelRelease: null,
      object: null,
    },
    object: null,
  };
}
