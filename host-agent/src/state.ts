/**
 * The node's enrollment state: its id, its credential and the control plane's public key it
 * pinned at enrollment. One JSON file, readable by the agent's user only (mode 0600, in a 0700
 * directory it creates), written atomically so a crash never leaves half a credential.
 */

import { chmod, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { EnrollResponseSchema, NodeIdSchema, NodeRoleSchema } from "./protocol.js";

export const NodeStateSchema = z.strictObject({
  version: z.literal(1),
  controlPlaneUrl: z.url({ protocol: /^https?$/ }),
  tenantId: z.string().min(1),
  nodeId: NodeIdSchema,
  role: NodeRoleSchema,
  credential: z.string().min(1),
  /** The control plane's Ed25519 public key (raw, base64url): assignments must verify with it. */
  signingPublicKey: EnrollResponseSchema.shape.signingPublicKey,
  keyId: EnrollResponseSchema.shape.keyId,
  enrolledAtMs: z.int().nonnegative(),
});
export type NodeState = z.infer<typeof NodeStateSchema>;

/** The state file exists but cannot be used (unreadable, not JSON, not the schema). */
export class StateFileError extends Error {
  override readonly name = "StateFileError";
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * The enrollment state at `path`, or null when the node has not enrolled (no file).
 *
 * @throws {StateFileError} when the file exists but is not a valid state.
 * @example const state = await readNodeState("/var/lib/edgekernel-host/state.json")
 */
export async function readNodeState(path: string): Promise<NodeState | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new StateFileError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StateFileError(`${path} is not JSON: ${(error as Error).message}`);
  }
  const parsed = NodeStateSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StateFileError(
      `${path} is not an enrollment state: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/**
 * Writes the state: a temporary file with mode 0600 beside it, then a rename over the old one.
 *
 * @example await writeNodeState(path, { version: 1, … })
 */
export async function writeNodeState(path: string, state: NodeState): Promise<void> {
  const valid = NodeStateSchema.parse(state);
  await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(valid, null, 2)}\n`, { mode: FILE_MODE });
  // The mode argument is masked by the umask; make sure, then move into place.
  await chmod(temporary, FILE_MODE);
  await rename(temporary, path);
}

/** The permission bits of the state file (for a warning when others can read it). */
export async function stateFileMode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}
