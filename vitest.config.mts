// Tests run inside workerd with the real Durable Object, D1 and (later) R2 and Queues
// implementations, configured from wrangler.toml. D1 migrations are the same files
// `wrangler d1 migrations apply` runs; test/setup.ts applies them to the test database.
import { webcrypto } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { buildTestWorker } from "./test/worker-bundle";

/** A fresh Ed25519 key in the POLICY_SIGNING_KEY encoding (PKCS#8 DER, base64url) per run. */
async function testSigningKey(): Promise<string> {
  const pair = (await webcrypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const der = await webcrypto.subtle.exportKey("pkcs8", pair.privateKey);
  return Buffer.from(der).toString("base64url");
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  const signingKey = await testSigningKey();
  // The Worker under test, bundled once per run (see test/worker-bundle.ts for why).
  const workerBundle = await buildTestWorker();
  return {
    // Compiled BPF objects the tests import as `?inline` (base64 data URLs): workerd reads no files.
    assetsInclude: ["**/*.bpf.o"],
    plugins: [
      // In watch mode, a change under src/ rebuilds the bundle before the affected tests rerun.
      {
        name: "rebuild-test-worker",
        configureServer(server) {
          server.watcher.on("change", (file: string) => {
            if (file.includes("/src/")) void buildTestWorker();
          });
        },
      } satisfies Plugin,
      // The stand-in model provider (test/standin/openai-server.mjs) is started by the global
      // setup below; its port reaches the workers as the STANDIN_OPENAI_PORT binding.
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        main: workerBundle,
        miniflare: {
          bindings: {
            ADMIN_TOKEN: "test-admin-token",
            TEST_MIGRATIONS: migrations,
            STANDIN_OPENAI_PORT: inject("standinOpenaiPort"),
            STANDIN_MCP_PORT: inject("standinMcpPort"),
            // `openai:<scenario>` models reach the stand-in, which picks the scenario by model.
            OPENAI_BASE_URL: `http://127.0.0.1:${inject("standinOpenaiPort")}/v1`,
            OPENAI_API_KEY: "test-key",
            // test/mcp: the one browser origin allowed to call /mcp besides loopback ones.
            MCP_ALLOWED_ORIGINS: "https://app.example",
            // test/fleet: the control plane's signing key, and intervals short enough that a
            // silent node is noticed within a test (heartbeats every second, three missed).
            POLICY_SIGNING_KEY: signingKey,
            FLEET_HEARTBEAT_INTERVAL_MS: "1000",
            FLEET_TELEMETRY_INTERVAL_MS: "1000",
          },
        },
      })),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      exclude: ["test/e2e/**", "test/e2e-kernel/**", "node_modules/**"],
      setupFiles: ["./test/setup.ts"],
      // Integration tests drive real Durable Objects, alarms and the stand-in servers on a
      // 2-core machine; this bounds a hung test, it is not a performance threshold.
      testTimeout: 30_000,
      // Vitest's default on 2 cores is one worker; a test file's time is mostly the new isolate
      // loading the Worker and waiting on alarms and sockets, so two files at once use both cores.
      maxWorkers: 2,
      globalSetup: ["./test/standin/global-setup.ts"],
    },
  };
});
