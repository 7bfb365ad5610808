import { posix } from "node:path";
import { checkAssignment, checkSignature, type TrustAnchor } from "./check.js";
import type { NodeDeployer } from "./deployer.js";
import type { ScxAllowList } from "./scx-backend.js";
import type { Executor, RefusalCode, Transition } from "./types.js";

/*
 * A node's whole path from an `assign` command to a loaded scheduler: check the signature and
 * expiry, download the artifact only then, check its hash (and the allow-list), write it where
 * bpftool reads it, apply. Any refusal is reported as a `refused` transition and nothing
 * reaches the executor.
 */

/** Where downloaded BPF objects are kept, named by their SHA-256. */
export const DEFAULT_ARTIFACT_DIR = "/var/lib/edgekernel/artifacts";

export interface AssignmentPathOptions {
  deployer: NodeDeployer;
  executor: Executor;
  trust: TrustAnchor;
  /** Downloads an artifact by SHA-256 (`GET /v1/fleet/artifacts/{sha256}`). */
  fetchArtifact: (sha256: string) => Promise<Uint8Array>;
  artifactDir?: string;
  scxAllowList?: ScxAllowList;
  now?: () => number;
  log?: (line: string) => void;
}

export interface AssignmentOutcome {
  /** The transition reported (null when the input was too malformed to name an assignment). */
  transition: Transition | null;
  refusal: { code: RefusalCode; message: string } | null;
}

/**
 * Checks, downloads, writes and applies one assignment.
 *
 * @example
 * const { transition } = await deployAssignment(command.body.assignment, { deployer, executor, trust, fetchArtifact });
 */
export async function deployAssignment(
  input: unknown,
  options: AssignmentPathOptions,
): Promise<AssignmentOutcome> {
  const now = options.now ?? Date.now;
  const signed = await checkSignature(input, { trust: options.trust, nowMs: now() });
  if (!signed.ok) {
    const named =
      signed.code === "malformed" ? null : (input as Parameters<NodeDeployer["refuse"]>[0]);
    const refusal = { code: signed.code, message: signed.message };
    return {
      transition:
        named === null ? null : options.deployer.refuse(named, signed.code, signed.message),
      refusal,
    };
  }
  const assignment = signed.assignment;
  let bytes: Uint8Array | null = null;
  if (assignment.artifact.kind === "bpf-object") {
    try {
      bytes = await options.fetchArtifact(assignment.payload.artifactSha256);
    } catch (error) {
      const message = `could not download the artifact: ${error instanceof Error ? error.message : String(error)}`;
      return {
        transition: options.deployer.refuse(assignment, "malformed", message),
        refusal: { code: "malformed", message },
      };
    }
  }
  const checked = await checkAssignment(assignment, {
    trust: options.trust,
    nowMs: now(),
    artifactBytes: bytes,
    scxAllowList: options.scxAllowList ?? {},
  });
  if (!checked.ok) {
    return {
      transition: options.deployer.refuse(assignment, checked.code, checked.message),
      refusal: { code: checked.code, message: checked.message },
    };
  }
  let artifactPath: string | null = null;
  if (bytes !== null) {
    artifactPath = posix.join(
      options.artifactDir ?? DEFAULT_ARTIFACT_DIR,
      `${assignment.payload.artifactSha256}.bpf.o`,
    );
    if (options.deployer.dryRun) {
      options.log?.(`[dry-run] would write ${bytes.length} bytes to ${artifactPath}`);
    } else {
      await options.executor.writeBytes(artifactPath, bytes);
    }
  }
  return { transition: await options.deployer.apply(assignment, artifactPath), refusal: null };
}
