// Starts `npm run dev` (scripts/dev.mjs) on free ports with its own state directory, exactly as
// a newcomer would run it, and stops it (and its workerd children) afterwards.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const READY_TIMEOUT_MS = 120_000;

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Starts that lost a race for a port (see startDevServer) before it gives up. */
const PORT_RACE_ATTEMPTS = 3;

/**
 * Runs the dev server in a fresh temporary directory (or `options.dir` and `options.port`, to
 * start it again where a stopped one ran). Resolves once /healthz answers, with the base URL,
 * the admin token it printed, its output so far, and stop(): it kills the server's process group,
 * removes the directory unless `{ keepState: true }`, and resolves once the process has exited.
 * `options.args` go to wrangler dev (e.g. `["--var", "NAME:value"]`).
 *
 * A port found free can be taken before wrangler binds it (by another process, or as the local
 * port of one of the tests' own outgoing connections: both come from the ephemeral range), and
 * workerd then exits with "Address already in use" (seen once in CI). Such a start is retried on
 * new ports, up to PORT_RACE_ATTEMPTS in all; every other failure is thrown at once.
 */
export async function startDevServer(options = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchDevServer(options);
    } catch (error) {
      const lostPortRace = /Address already in use/.test(String(error?.message));
      if (!lostPortRace || attempt >= PORT_RACE_ATTEMPTS) throw error;
    }
  }
}

async function launchDevServer(options) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "edgekernel-e2e-"));
  const port = options.port ?? (await freePort());
  const inspectorPort = await freePort();
  const env = {
    ...process.env,
    PORT: String(port),
    PERSIST_DIR: join(dir, "state"),
    DEV_VARS_FILE: join(dir, "dev.vars"),
  };
  delete env.ADMIN_TOKEN;
  const child = spawn(
    process.execPath,
    ["scripts/dev.mjs", "--inspector-port", String(inspectorPort), ...(options.args ?? [])],
    {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d) => {
    output += d;
  });
  child.stderr.on("data", (d) => {
    output += d;
  });
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
  const stop = async ({ keepState = false } = {}) => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
    if (child.exitCode === null && child.signalCode === null) await exited;
    if (!keepState) rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop({ keepState: options.dir !== undefined }); // a caller's directory is theirs
      throw new Error(`dev server exited with ${child.exitCode}:\n${output}`);
    }
    try {
      // Bounded: whatever else holds the port may accept and never answer.
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop({ keepState: options.dir !== undefined });
      throw new Error(`dev server not ready after ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const token = /ADMIN_TOKEN\s+(adm_[A-Za-z0-9_-]+)/.exec(output)?.[1];
  return { base, port, token, dir, devVarsFile: env.DEV_VARS_FILE, output: () => output, stop };
}

/**
 * One JSON call to the API with a bearer token; resolves with the status and the parsed body
 * (null when empty).
 * @example const { status, body } = await callApi(server.base, key, "GET", "/v1/fleet/nodes");
 */
export async function callApi(base, token, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * Polls `check` until it resolves truthy (a rejection counts as not yet); past `timeoutMs` it
 * throws, naming `what` and appending `context()` (the agents' logs, say).
 */
export async function pollUntil(what, check, { timeoutMs, pollMs, context = () => "" }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
