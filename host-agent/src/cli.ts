#!/usr/bin/env node
// The `edgekernel-host` executable. All logic lives in main.ts so tests can run it in-process.
import { runCli } from "./main.js";

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
