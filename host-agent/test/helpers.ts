import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";
import type { TelemetryTiming } from "../src/telemetry.js";

/** The checked-in fixture trees; see fixtures/README.md for what each holds. */
export const FIXTURES_DIR = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** A writable copy of a fixture tree, removed when the test finishes. */
export interface FixtureTree {
  dir: string;
  procRoot: string;
  sysRoot: string;
  /** Writes a file relative to the tree, creating directories. */
  write(relativePath: string, text: string): Promise<void>;
  /** Removes a file or directory relative to the tree. */
  remove(relativePath: string): Promise<void>;
  /** Copies another fixture tree over this one (the next sample's files). */
  overlay(fixtureName: string): Promise<void>;
}

/**
 * Copies `fixtures/<name>` into a temporary directory, so a test can rewrite files between
 * samples without touching the checked-in tree.
 */
export async function copyFixture(name: string): Promise<FixtureTree> {
  const dir = await mkdtemp(join(tmpdir(), "edgekernel-host-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await cp(join(FIXTURES_DIR, name), dir, { recursive: true });
  return {
    dir,
    procRoot: join(dir, "proc"),
    sysRoot: join(dir, "sys"),
    async write(relativePath, text) {
      await mkdir(dirname(join(dir, relativePath)), { recursive: true });
      await writeFile(join(dir, relativePath), text);
    },
    async remove(relativePath) {
      await rm(join(dir, relativePath), { recursive: true, force: true });
    },
    async overlay(fixtureName) {
      await cp(join(FIXTURES_DIR, fixtureName), dir, { recursive: true });
    },
  };
}

/**
 * A clock that only moves when slept on, with a hook that runs during the sleep: that is where
 * a test turns the first sample's files into the second's.
 */
export function fakeTiming(duringSleep: () => Promise<void> = async () => {}): TelemetryTiming & {
  sleptMs: number[];
} {
  let nowMs = 1_000;
  const sleptMs: number[] = [];
  return {
    sleptMs,
    now: () => nowMs,
    async sleep(ms) {
      sleptMs.push(ms);
      await duringSleep();
      nowMs += ms;
    },
  };
}

/** Builds a 52-field `/proc/[pid]/stat` line with the fields the agent reads set. */
export function pidStatLine(fields: {
  pid: number;
  comm: string;
  utimeTicks: number;
  stimeTicks: number;
  startTimeTicks: number;
}): string {
  const { pid, comm, utimeTicks, stimeTicks, startTimeTicks } = fields;
  const head = [pid, `(${comm})`, "S", 1, pid, pid, 0, -1, 4194560, 120, 0, 3, 0];
  const tail = [0, 0, 20, 0, 1, 0, startTimeTicks, 104857600, 2560, "18446744073709551615"];
  return `${[...head, utimeTicks, stimeTicks, ...tail, ...Array(27).fill(0)].join(" ")}\n`;
}
