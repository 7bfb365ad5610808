#!/usr/bin/env node
// Fails when src/store/schema.ts has changes that no migration in migrations/ carries: runs
// drizzle-kit generate into a scratch copy of migrations/ and checks it wrote nothing new.

import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// drizzle-kit wants paths relative to its working directory, so the scratch copy lives in the
// (git-ignored) .wrangler folder of the repository.
const scratch = ".wrangler/migrations-check";
rmSync(join(root, scratch), { recursive: true, force: true });
mkdirSync(join(root, scratch), { recursive: true });
try {
  cpSync(join(root, "migrations"), join(root, scratch, "migrations"), { recursive: true });
  const config = join(scratch, "drizzle.config.json");
  writeFileSync(
    join(root, config),
    JSON.stringify({
      dialect: "sqlite",
      schema: "./src/store/schema.ts",
      out: `./${scratch}/migrations`,
    }),
  );
  const count = () => readdirSync(join(root, scratch, "migrations")).length;
  const before = count();
  const run = spawnSync(
    join(root, "node_modules/.bin/drizzle-kit"),
    ["generate", "--config", config],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
  if (run.status !== 0 || /error/i.test(run.stderr)) {
    console.error(run.stdout, run.stderr);
    process.exit(1);
  }
  if (count() !== before) {
    console.error(
      "src/store/schema.ts has changes without a migration: run `npm run db:generate` and commit the result",
    );
    process.exit(1);
  }
  if (!/No schema changes/i.test(run.stdout)) {
    console.error(`unexpected drizzle-kit output:\n${run.stdout}`);
    process.exit(1);
  }
  console.log("migrations match src/store/schema.ts");
} finally {
  rmSync(join(root, scratch), { recursive: true, force: true });
}
