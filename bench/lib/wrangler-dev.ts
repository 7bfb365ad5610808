/**
 * A throwaway local `wrangler dev` for a benchmark: its own state directory with the D1
 * migrations applied, free ports, waits until it answers, and stops cleanly (whole process group).
 */

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const wrangler = join(root, "node_modules/.bin/wrangler");
/** How long to wait for the server's first answer: a cold start on a loaded 2-core machine. */
const START_TIMEOUT_MS = 100_000;
const POLL_MS = 250;

export interface DevServer {
  base: string;
  /** The wrangler process, leader of the process group its workerd runs in. */
  pid: number;
  stop(): void;
}

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/**
 * Starts `wrangler dev -c config` on 127.0.0.1 with `vars` as `--var` bindings.
 *
 * @example const dev = await startWranglerDev("bench/gate/wrangler.toml", "gate"); try { … } finally { dev.stop(); }
 */
export async function startWranglerDev(
  config: string,
  name: string,
  vars: Record<string, string> = {},
): Promise<DevServer> {
  const state = mkdtempSync(join(tmpdir(), `edgekernel-bench-${name}-`));
  const port = await freePort();
  const inspector = await freePort();
  const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" };
  const migrate = spawnSync(
    wrangler,
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state, "-c", config],
    { env, encoding: "utf8" },
  );
  if (migrate.status !== 0) throw new Error(migrate.stderr);
  const server = spawn(
    wrangler,
    [
      "dev",
      "-c",
      config,
      "--local",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      state,
      "--inspector-port",
      String(inspector),
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ],
    { env, detached: true, stdio: "ignore" },
  );
  const stop = () => {
    try {
      process.kill(-server.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    rmSync(state, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  for (let waitedMs = 0; ; waitedMs += POLL_MS) {
    try {
      if ((await fetch(`${base}/nothing`)).status === 404) return { base, pid: server.pid!, stop };
    } catch {
      if (waitedMs > START_TIMEOUT_MS) {
        stop();
        throw new Error("wrangler dev did not start");
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

/** The p-th percentile of an ascending array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
