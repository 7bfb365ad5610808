#!/usr/bin/env node
// The `edgekernel-host` executable that npm links (also as `npx edgekernel-host` from the
// repository root). It runs the bundle dist/cli.js, building it first when it is missing or
// older than its sources, so a fresh clone works after `npm install` without a build step and
// an edited checkout never runs an old bundle.

import { pathToFileURL } from "node:url";
import { buildBundle, isStale, OUTFILE } from "./build.mjs";

if (isStale(OUTFILE)) await buildBundle(OUTFILE);
await import(pathToFileURL(OUTFILE).href);
