import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LocalExecutor } from "../deploy/local-executor.js";

/*
 * A private apt configuration: its own sources, index lists and download cache under a
 * directory we own, the machine's dpkg status, and nothing under /etc/apt changed. The
 * verifier uses one to download a sched_ext kernel from trixie-backports and another to
 * install its host tools; both point at the Debian mirror this machine already uses.
 */

/** The archive keyring every Debian system ships; sources are pinned to it. */
export const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
/** Bounds an `apt-get update` or `download` (a slow mirror, not a hung one). */
export const APT_TIMEOUT_MS = 600_000;

/** The mirrors named by this machine's apt sources. */
export interface DebianMirrors {
  /** e.g. `http://deb.debian.org/debian` */
  debian: string | null;
  /** e.g. `http://deb.debian.org/debian-security` */
  security: string | null;
}

/**
 * Finds the Debian mirror (and the security mirror) among apt source files, deb822
 * (`URIs:` lines) or one-line (`deb URI suite …`).
 *
 * @example
 * findDebianMirrors(["URIs: http://deb.debian.org/debian\nSuites: bookworm\n"]);
 * // { debian: "http://deb.debian.org/debian", security: null }
 */
export function findDebianMirrors(sourceTexts: readonly string[]): DebianMirrors {
  const uris: string[] = [];
  for (const text of sourceTexts) {
    for (const rawLine of text.split("\n")) {
      const line = rawLine.replace(/#.*/, "").trim();
      const deb822 = /^URIs:\s*(.+)$/i.exec(line);
      if (deb822?.[1] !== undefined) uris.push(...deb822[1].split(/\s+/));
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
      if (oneLine?.[1] !== undefined) uris.push(oneLine[1]);
    }
  }
  const clean = uris.map((uri) => uri.replace(/\/+$/, ""));
  return {
    debian: clean.find((uri) => /^https?:\/\/.+\/debian$/.test(uri)) ?? null,
    security: clean.find((uri) => /^https?:\/\/.+\/debian-security$/.test(uri)) ?? null,
  };
}

/** Reads `/etc/apt/sources.list` and `sources.list.d/*.{list,sources}` under `etcApt`. */
export async function readMachineMirrors(etcApt = "/etc/apt"): Promise<DebianMirrors> {
  const texts: string[] = [];
  const tryRead = async (path: string) => {
    try {
      texts.push(await readFile(path, "utf8"));
    } catch {
      // A machine may have only one of the two layouts.
    }
  };
  await tryRead(join(etcApt, "sources.list"));
  let names: string[] = [];
  try {
    names = await readdir(join(etcApt, "sources.list.d"));
  } catch {
    names = [];
  }
  for (const name of names.sort()) {
    // apt itself reads only these two suffixes; a `.disabled` file is not a source.
    if (name.endsWith(".list") || name.endsWith(".sources")) {
      await tryRead(join(etcApt, "sources.list.d", name));
    }
  }
  return findDebianMirrors(texts);
}

/** The codename of this Debian (`VERSION_CODENAME` in os-release), e.g. `bookworm`. */
export async function readCodename(osRelease = "/etc/os-release"): Promise<string | null> {
  try {
    const text = await readFile(osRelease, "utf8");
    return /^VERSION_CODENAME=("?)([a-z]+)\1$/m.exec(text)?.[2] ?? null;
  } catch {
    return null;
  }
}

/** One line of a private sources.list. */
export interface AptSource {
  uri: string;
  suite: string;
  components?: string[];
}

/**
 * The text of a private sources.list.
 *
 * @example
 * sourcesList([{ uri: "http://deb.debian.org/debian", suite: "trixie-backports" }]);
 */
export function sourcesList(sources: readonly AptSource[]): string {
  return sources
    .map(
      (source) =>
        `deb [signed-by=${DEBIAN_KEYRING}] ${source.uri} ${source.suite} ${(source.components ?? ["main"]).join(" ")}\n`,
    )
    .join("");
}

/** The apt.conf of a private configuration rooted at `dir`. */
export function aptConf(dir: string): string {
  return [
    `Dir::Etc "${join(dir, "etc")}";`,
    `Dir::State "${join(dir, "state")}";`,
    // Installs must see (and update) what the machine has installed.
    `Dir::State::status "/var/lib/dpkg/status";`,
    `Dir::Cache "${join(dir, "cache")}";`,
    // Downloads land in directories root owns; apt's _apt sandbox user could not write there.
    `APT::Sandbox::User "root";`,
    `Acquire::Check-Valid-Until "false";`,
    `Acquire::Languages "none";`,
    `Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";`,
    "",
  ].join("\n");
}

/** A private apt configuration on disk, and how to run apt with it. */
export interface PrivateApt {
  dir: string;
  env: Record<string, string>;
}

/** Writes a private apt configuration under `dir` (idempotent). */
export async function writePrivateApt(
  dir: string,
  sources: readonly AptSource[],
): Promise<PrivateApt> {
  for (const sub of [
    "etc/apt.conf.d",
    "etc/preferences.d",
    "etc/sources.list.d",
    "state/lists/partial",
    "cache/archives/partial",
  ]) {
    await mkdir(join(dir, sub), { recursive: true });
  }
  await writeFile(join(dir, "etc/sources.list"), sourcesList(sources));
  await writeFile(join(dir, "apt.conf"), aptConf(dir));
  return {
    dir,
    env: { APT_CONFIG: join(dir, "apt.conf"), DEBIAN_FRONTEND: "noninteractive" },
  };
}

/** Runs `apt-get update` with a private configuration; throws with apt's output on failure. */
export async function aptUpdate(local: LocalExecutor, apt: PrivateApt): Promise<void> {
  const result = await local.run(["apt-get", "-q", "update"], {
    env: apt.env,
    timeoutMs: APT_TIMEOUT_MS,
  });
  // apt-get update exits 0 even when a source failed; "E:"/"Err:" lines say so.
  if (result.code !== 0 || /^(E:|Err:)/m.test(result.stdout + result.stderr)) {
    throw new Error(`apt-get update failed (${apt.dir}):\n${result.stdout}${result.stderr}`);
  }
}
