#!/usr/bin/env node
// `npm run dev`: the whole system on this machine. Ensures a local admin credential, applies
// the D1 migrations to the local database, prints where everything is, then runs `wrangler dev`
// with local Durable Objects and D1. No network is needed.
//
// Environment: PORT (8787), PERSIST_DIR (.wrangler/state), DEV_VARS_FILE (.dev.vars),
// ADMIN_TOKEN (overrides the one in DEV_VARS_FILE, which is never rewritten then).

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? 8787);
const persistDir = resolve(root, process.env.PERSIST_DIR ?? ".wrangler/state");
const devVarsFile = resolve(root, process.env.DEV_VARS_FILE ?? ".dev.vars");
const wrangler = join(root, "node_modules", ".bin", "wrangler");

/** The admin token: from the environment, from the dev vars file, or freshly made and saved. */
function adminToken() {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const existing = existsSync(devVarsFile) ? readFileSync(devVarsFile, "utf8") : "";
  const match = /^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(existing);
  if (match?.[1]) return match[1];
  const token = `adm_${randomBytes(32).toString("base64url")}`;
  const sep = existing && !existing.endsWith("\n") ? "\n" : "";
  writeFileSync(devVarsFile, `${existing}${sep}ADMIN_TOKEN="${token}"\n`, { mode: 0o600 });
  console.log(`created ${devVarsFile} with a new ADMIN_TOKEN`);
  return token;
}

const token = adminToken();

const migrate = spawnSync(
  wrangler,
  ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir],
  { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, CI: "true" } },
);
if (migrate.status !== 0) {
  console.error("applying D1 migrations failed");
  process.exit(migrate.status ?? 1);
}

const base = `http://localhost:${port}`;
const banner = `
  edgekernel is starting on ${base}
    API reference   ${base}/docs
    OpenAPI         ${base}/openapi.json
    health          ${base}/healthz
    ADMIN_TOKEN     ${token}
`;
console.log(banner);

const child = spawn(
  wrangler,
  [
    "dev",
    "--local",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--persist-to",
    persistDir,
    "--var",
    `ADMIN_TOKEN:${token}`,
    "--show-interactive-dev-session=false",
    ...process.argv.slice(2),
  ],
  // Offline machines: keep wrangler from trying to send usage metrics.
  { cwd: root, stdio: "inherit", env: { WRANGLER_SEND_METRICS: "false", ...process.env } },
);

// wrangler's own start-up output buries the banner; repeat it once the Worker answers.
const readyDeadlineMs = Date.now() + 120_000;
const poll = setInterval(async () => {
  try {
    const res = await fetch(`${base}/healthz`);
    if (res.ok) {
      clearInterval(poll);
      console.log(`\n  edgekernel is ready.${banner.slice(banner.indexOf("\n"))}`);
    }
  } catch {
    if (Date.now() > readyDeadlineMs) clearInterval(poll);
  }
}, 500);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  clearInterval(poll);
  process.exit(code ?? (signal ? 1 : 0));
});
