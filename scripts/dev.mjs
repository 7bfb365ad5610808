#!/usr/bin/env node
// `npm run dev`: the whole system on this machine. Ensures a local admin credential, applies
// the D1 migrations to the local database, prints where everything is, then runs `wrangler dev`
// with local Durable Objects and D1. No network is needed.
//
// Environment: PORT (8787), PERSIST_DIR (.wrangler/state), DEV_VARS_FILE (.dev.vars),
// ADMIN_TOKEN and POLICY_SIGNING_KEY (each overrides the one in DEV_VARS_FILE, which is never
// rewritten for it then).

import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? 8787);
const persistDir = resolve(root, process.env.PERSIST_DIR ?? ".wrangler/state");
const devVarsFile = resolve(root, process.env.DEV_VARS_FILE ?? ".dev.vars");
const wrangler = join(root, "node_modules", ".bin", "wrangler");

/**
 * A secret: from the environment, from the dev vars file, or freshly made by `make` and appended
 * to the file (created with mode 0600), so it stays the same across runs.
 */
function devSecret(name, make, what) {
  if (process.env[name]) return process.env[name];
  const existing = existsSync(devVarsFile) ? readFileSync(devVarsFile, "utf8") : "";
  const match = new RegExp(`^${name}\\s*=\\s*"?([^"\\n]+)"?\\s*$`, "m").exec(existing);
  if (match?.[1]) return match[1];
  const value = make();
  const sep = existing && !existing.endsWith("\n") ? "\n" : "";
  writeFileSync(devVarsFile, `${existing}${sep}${name}="${value}"\n`, { mode: 0o600 });
  console.log(`wrote a new ${what} to ${devVarsFile}`);
  return value;
}

/** The system administrator's bearer token. */
function adminToken() {
  return devSecret(
    "ADMIN_TOKEN",
    () => `adm_${randomBytes(32).toString("base64url")}`,
    "ADMIN_TOKEN",
  );
}

/** The control plane's Ed25519 key that signs policy assignments: PKCS#8 DER, base64url. */
function policySigningKey() {
  return devSecret(
    "POLICY_SIGNING_KEY",
    () =>
      generateKeyPairSync("ed25519")
        .privateKey.export({ format: "der", type: "pkcs8" })
        .toString("base64url"),
    "POLICY_SIGNING_KEY (Ed25519)",
  );
}

const token = adminToken();
const signingKey = policySigningKey();

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
    "--var",
    `POLICY_SIGNING_KEY:${signingKey}`,
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
