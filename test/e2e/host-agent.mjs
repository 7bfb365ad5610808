// The host-agent CLI as the end-to-end tests drive it: enrol a node with a one-time token, and
// start `run --dry-run` on a fixture tree. One place for the flags, shared by the fleet, rollout
// and real-verifier tests.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./dev-server.mjs";

export const HOST_BIN = join(ROOT, "node_modules", ".bin", "edgekernel-host");
/** A sched_ext node's /proc and /sys, as host-agent's own tests use them. */
export const NODE_FIXTURE = join(ROOT, "host-agent", "test", "fixtures", "scx-node");

/**
 * The flags naming a node's state file, its /proc and /sys (under `root`) and, when given, its
 * artifact directory.
 * @example hostArgs({ stateFile, root: NODE_FIXTURE })
 */
export function hostArgs({ stateFile, root, artifactDir }) {
  return [
    "--state-file",
    stateFile,
    ...(artifactDir ? ["--artifact-dir", artifactDir] : []),
    "--proc-root",
    join(root, "proc"),
    "--sys-root",
    join(root, "sys"),
  ];
}

/**
 * `edgekernel-host enroll` with `token` against `base`, synchronously; the caller asserts on the
 * exit status. `role` is omitted unless given (the CLI's default is a node).
 * @example const r = enrollHost({ base, token, nodeId: "web-1", args: hostArgs({ stateFile, root }) })
 */
export function enrollHost({ base, token, nodeId, role, args }) {
  return spawnSync(
    HOST_BIN,
    [
      "enroll",
      "--token",
      token,
      "--control-plane-url",
      base,
      "--node-id",
      nodeId,
      ...(role ? ["--role", role] : []),
      ...args,
    ],
    { encoding: "utf8" },
  );
}

/**
 * Starts `edgekernel-host run --dry-run` and hands its stdout and stderr to `onOutput`.
 * @example const agent = runDryRunHost(hostArgs({ stateFile, root }), (d) => { log += d; })
 */
export function runDryRunHost(args, onOutput, spawnOptions = {}) {
  const agent = spawn(HOST_BIN, ["run", "--dry-run", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    ...spawnOptions,
  });
  agent.stdout.on("data", onOutput);
  agent.stderr.on("data", onOutput);
  return agent;
}
