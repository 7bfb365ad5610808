#!/usr/bin/env node
// The `edgekernel-host` entry point. All logic lives in main.ts so tests can run it in-process;
// here the real process is wired in: its streams, its environment, and SIGINT/SIGTERM, which
// stop `run` cleanly (the socket closes with 1000, the deploy path's timers stop).
import { runCli } from "./main.js";

const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => stop.abort());
}

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: stop.signal,
});
