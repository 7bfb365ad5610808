import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { aptConf, findDebianMirrors, sourcesList } from "../../src/verifier/apt.js";
import { packInitramfs } from "../../src/verifier/cpio.js";
import { parseBpftoolVersion } from "../../src/verifier/host-packages.js";
import { compareDebianVersions, hasSchedExt, resolveAbi } from "../../src/verifier/kernel.js";
import { parseExtSamples, ScheduledTasks } from "../../src/verifier/sched-sample.js";

describe("the machine's Debian mirror", () => {
  it("is read from deb822 and one-line sources, ignoring comments", () => {
    const deb822 = [
      "Types: deb",
      "# http://snapshot.debian.org/archive/debian/20250520T000000Z",
      "URIs: http://deb.debian.org/debian",
      "Suites: bookworm bookworm-updates",
      "",
      "Types: deb",
      "URIs: http://deb.debian.org/debian-security/",
      "Suites: bookworm-security",
    ].join("\n");
    expect(findDebianMirrors([deb822])).toEqual({
      debian: "http://deb.debian.org/debian",
      security: "http://deb.debian.org/debian-security",
    });
    const oneLine =
      "# deb http://old/debian bookworm main\ndeb [arch=amd64] https://mirror.example/debian bookworm main\n";
    expect(findDebianMirrors([oneLine])).toEqual({
      debian: "https://mirror.example/debian",
      security: null,
    });
    expect(findDebianMirrors(["deb https://deb.nodesource.com/node_20.x nodistro main"])).toEqual({
      debian: null,
      security: null,
    });
  });

  it("makes a private apt configuration that keeps the machine's dpkg status and its own lists", () => {
    expect(sourcesList([{ uri: "http://m/debian", suite: "trixie-backports" }])).toBe(
      "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://m/debian trixie-backports main\n",
    );
    const conf = aptConf("/c/apt-x");
    expect(conf).toContain('Dir::Etc "/c/apt-x/etc";');
    expect(conf).toContain('Dir::State::status "/var/lib/dpkg/status";');
    expect(conf).not.toContain("/etc/apt");
  });
});

describe("kernel selection", () => {
  const show = [
    "Package: linux-image-cloud-amd64",
    "Version: 7.2.1-1~bpo13+1",
    "Depends: linux-image-7.2.1+deb13-cloud-amd64 (= 7.2.1-1~bpo13+1)",
    "",
    "Package: linux-image-cloud-amd64",
    "Version: 7.3.4-1~bpo13+1",
    "Depends: linux-image-7.3.4+deb13-cloud-amd64 (= 7.3.4-1~bpo13+1)",
    "",
  ].join("\n");

  it("resolves the newest ABI the meta-package depends on", () => {
    expect(resolveAbi(show, "cloud-amd64")).toBe("7.3.4+deb13-cloud-amd64");
    expect(resolveAbi(show, "rt-amd64")).toBeNull();
    expect(resolveAbi("", "cloud-amd64")).toBeNull();
  });

  it("orders Debian versions numerically, with ~ before anything", () => {
    expect(compareDebianVersions("7.10.0", "7.9.1")).toBeGreaterThan(0);
    expect(compareDebianVersions("7.3.4-1~bpo13+1", "7.3.4-1")).toBeLessThan(0);
    expect(
      compareDebianVersions("6.19.2+deb13-cloud-amd64", "7.3.4+deb13-cloud-amd64"),
    ).toBeLessThan(0);
    expect(compareDebianVersions("1.0", "1.0")).toBe(0);
  });

  it("accepts only a config with CONFIG_SCHED_CLASS_EXT=y", () => {
    expect(hasSchedExt("CONFIG_BPF=y\nCONFIG_SCHED_CLASS_EXT=y\n")).toBe(true);
    expect(hasSchedExt("# CONFIG_SCHED_CLASS_EXT is not set\n")).toBe(false);
    expect(hasSchedExt("CONFIG_SCHED_CLASS_EXT=m\n")).toBe(false);
  });

  it("reads bpftool's version", () => {
    expect(
      parseBpftoolVersion("bpftool v7.5.0\nusing libbpf v1.5\nfeatures: llvm, skeletons\n"),
    ).toEqual([7, 5, 0]);
    expect(parseBpftoolVersion("garbage")).toBeNull();
  });
});

describe("packInitramfs", () => {
  it("writes newc entries (dir, file, symlink) with 4-byte alignment and a trailer", () => {
    const archive = gunzipSync(
      packInitramfs([
        { kind: "dir", path: "/bin" },
        { kind: "file", path: "init", data: Buffer.from("#!/bin/sh\n"), mode: 0o755 },
        { kind: "symlink", path: "bin/sh", target: "busybox" },
      ]),
    );
    const entries: { name: string; mode: number; data: string }[] = [];
    let offset = 0;
    const align = (n: number) => (n + 3) & ~3;
    while (offset < archive.length) {
      const head = archive.subarray(offset, offset + 110).toString("ascii");
      expect(head.slice(0, 6)).toBe("070701");
      const field = (i: number) => Number.parseInt(head.slice(6 + i * 8, 14 + i * 8), 16);
      const nameSize = field(11);
      const fileSize = field(6);
      const name = archive.subarray(offset + 110, offset + 110 + nameSize - 1).toString();
      const dataStart = align(offset + 110 + nameSize);
      entries.push({
        name,
        mode: field(1),
        data: archive.subarray(dataStart, dataStart + fileSize).toString(),
      });
      offset = align(dataStart + fileSize);
      if (name === "TRAILER!!!") break;
    }
    expect(entries).toEqual([
      { name: "bin", mode: 0o040755, data: "" },
      { name: "init", mode: 0o100755, data: "#!/bin/sh\n" },
      { name: "bin/sh", mode: 0o120777, data: "busybox" },
      { name: "TRAILER!!!", mode: 0, data: "" },
    ]);
  });
});

describe("tasks scheduled by the policy", () => {
  const grep = (rows: [number, number, number][]) =>
    rows
      .map(
        ([pid, ext, ran]) =>
          `/proc/${pid}/sched:ext.enabled                                  :                    ${ext}\n/proc/${pid}/sched:se.sum_exec_runtime                          :          ${ran.toFixed(6)}`,
      )
      .join("\n");

  it("counts a task once it made progress between two samples while in the sched_ext class", () => {
    const tasks = new ScheduledTasks();
    tasks.add(
      parseExtSamples(
        grep([
          [10, 1, 5],
          [11, 1, 5],
          [12, 0, 5],
        ]),
      ),
    );
    expect(tasks.count()).toBe(0);
    tasks.add(
      parseExtSamples(
        grep([
          [10, 1, 900.5],
          [11, 1, 5],
          [12, 0, 700],
        ]),
      ),
    );
    expect(tasks.count()).toBe(1); // 11 stalled; 12 ran, but not under sched_ext
    tasks.add(
      parseExtSamples(
        grep([
          [10, 1, 1800],
          [11, 1, 6],
          [12, 1, 701],
        ]),
      ),
    );
    expect(tasks.count()).toBe(2);
  });

  it("ignores lines that are not samples", () => {
    expect(parseExtSamples("grep: /proc/99/sched: No such file or directory\n")).toEqual([]);
  });
});
