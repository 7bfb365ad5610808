import type { DeployStatus } from "../protocol.js";
import type { Transition } from "./types.js";

/**
 * The wire frame for a transition: everything but the local `log`, which is for the verifier's
 * result and the node's own log, not for the control plane's status stream.
 *
 * @example
 * deployer.onTransition((t) => socket.send(JSON.stringify(deployStatusFrame(t))));
 */
export function deployStatusFrame(transition: Transition): DeployStatus {
  const { log: _log, ...status } = transition;
  return { type: "deploy-status", ...status };
}
