import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// host-agent runs on Linux nodes under plain Node, so its tests must not inherit the repository
// root's workerd pool: this config is self-contained and rooted at the package directory.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
  },
});
