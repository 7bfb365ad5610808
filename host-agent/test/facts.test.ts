import { describe, expect, it } from "vitest";
import { readNodeFacts } from "../src/facts.js";
import { NodeFactsSchema } from "../src/protocol.js";
import { MAX_WARNINGS } from "../src/warnings.js";
import { copyFixture } from "./helpers.js";

describe("readNodeFacts on a sched_ext node", () => {
  it("reports kernel, sched_ext state with the loaded scheduler, topology and memory", async () => {
    const tree = await copyFixture("scx-node");
    const facts = await readNodeFacts(tree);
    expect(NodeFactsSchema.parse(facts)).toEqual(facts);
    expect(facts).toEqual({
      hostname: "scx-node-1",
      kernelRelease: "7.3.0-1-cloud-amd64",
      schedExt: { supported: true, state: "enabled", ops: "fifo", enableSeq: 3 },
      cpus: {
        onlineList: "0-3",
        onlineCount: 4,
        // cpu0 and cpu1 are SMT siblings of core 0 on package 0; core ids repeat per package.
        packageCount: 2,
        coreCount: 3,
        topology: [
          { cpu: 0, packageId: 0, coreId: 0 },
          { cpu: 1, packageId: 0, coreId: 0 },
          { cpu: 2, packageId: 1, coreId: 0 },
          { cpu: 3, packageId: 1, coreId: 1 },
        ],
      },
      memory: {
        totalBytes: 16_384_000 * 1024,
        freeBytes: 8_192_000 * 1024,
        availableBytes: 12_288_000 * 1024,
        swapTotalBytes: 2_097_152 * 1024,
        swapFreeBytes: 2_000_000 * 1024,
      },
      warnings: [],
    });
  });

  it("reports no scheduler name once the BPF scheduler is unloaded (root/ gone)", async () => {
    const tree = await copyFixture("scx-node");
    await tree.write("sys/kernel/sched_ext/state", "disabled\n");
    await tree.remove("sys/kernel/sched_ext/root");
    const facts = await readNodeFacts(tree);
    expect(facts.schedExt).toEqual({ supported: true, state: "disabled", ops: null, enableSeq: 3 });
    expect(facts.warnings).toEqual([]);
  });

  it("warns about an unknown sched_ext state and reports it as null", async () => {
    const tree = await copyFixture("scx-node");
    await tree.write("sys/kernel/sched_ext/state", "exploding\n");
    const facts = await readNodeFacts(tree);
    expect(facts.schedExt.state).toBeNull();
    expect(facts.warnings).toEqual([
      {
        source: `${tree.sysRoot}/kernel/sched_ext/state`,
        message: 'malformed: unknown state "exploding"',
      },
    ]);
  });
});

describe("readNodeFacts on a node without sched_ext", () => {
  it("reports sched_ext unsupported, unknown package ids as null and missing MemAvailable as null", async () => {
    const tree = await copyFixture("plain-node");
    const facts = await readNodeFacts(tree);
    expect(facts).toEqual({
      hostname: "plain",
      kernelRelease: "6.1.0-18-amd64",
      schedExt: { supported: false, state: null, ops: null, enableSeq: null },
      cpus: {
        onlineList: "0-1",
        onlineCount: 2,
        packageCount: 0,
        coreCount: 0,
        topology: [
          { cpu: 0, packageId: null, coreId: 0 },
          { cpu: 1, packageId: null, coreId: 1 },
        ],
      },
      memory: {
        totalBytes: 2_048_000 * 1024,
        freeBytes: 1_024_000 * 1024,
        availableBytes: null,
        swapTotalBytes: null,
        swapFreeBytes: null,
      },
      warnings: [],
    });
  });
});

describe("readNodeFacts on a broken tree", () => {
  it("gives null facts and a warning per missing file, without throwing", async () => {
    const tree = await copyFixture("plain-node");
    await tree.remove("proc/sys");
    await tree.remove("proc/meminfo");
    await tree.write("sys/devices/system/cpu/online", "0-x\n");
    const facts = await readNodeFacts(tree);
    expect(facts.hostname).toBeNull();
    expect(facts.kernelRelease).toBeNull();
    expect(facts.memory).toBeNull();
    expect(facts.cpus).toBeNull();
    expect(facts.warnings.map((warning) => warning.source).sort()).toEqual(
      [
        `${tree.procRoot}/meminfo`,
        `${tree.procRoot}/sys/kernel/hostname`,
        `${tree.procRoot}/sys/kernel/osrelease`,
        `${tree.sysRoot}/devices/system/cpu/online`,
      ].sort(),
    );
  });

  it("keeps at most MAX_WARNINGS warnings and counts the rest", async () => {
    const tree = await copyFixture("plain-node");
    // 40 online CPUs without topology files: two missing files each.
    await tree.write("sys/devices/system/cpu/online", "0-39\n");
    const facts = await readNodeFacts(tree);
    expect(facts.warnings).toHaveLength(MAX_WARNINGS + 1);
    expect(facts.warnings.at(-1)).toEqual({
      source: "host-agent",
      message: `${80 - 2 * 2 - MAX_WARNINGS} more warnings dropped`,
    });
  });
});
