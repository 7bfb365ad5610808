#!/usr/bin/env -S node --no-opt --no-sparkplug --optimize-for-size --max-semi-space-size=1 --v8-pool-size=1
// The `edgekernel-host` executable that npm links (also as `npx edgekernel-host` from the
// repository root). It runs the bundle dist/cli.js, building it first when it is missing or
// older than its sources, so a fresh clone works after `npm install` without a build step and
// an edited checkout never runs an old bundle.
//
// The V8 flags in the first line keep the long-running agent small: V8's compilers off (the
// interpreter runs everything: an agent that wakes once a second has no hot loop worth
// compiling), sized for memory, a 1 MiB young generation and one V8 worker thread. Measured by
// hand over five minutes of one telemetry report a second: VmRSS stays at 53-57 MiB instead of
// growing from ~64 to 68-80 MiB, for ~2.2% of a core instead of ~1.5-1.8%. (--lite-mode would do
// the same but disables WebAssembly, which Node's fetch needs.) bench/fleet measures it again.

import { pathToFileURL } from "node:url";
import { buildBundle, isStale, OUTFILE } from "./build.mjs";

if (isStale(OUTFILE)) await buildBundle(OUTFILE);
await import(pathToFileURL(OUTFILE).href);
