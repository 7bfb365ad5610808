import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createDeployer, type DeployerOptions } from "../../src/deploy/deployer.js";
import { deployStatusFrame } from "../../src/deploy/status.js";
import type { Deployable, Transition } from "../../src/deploy/types.js";
import type { Guard, TelemetryReport } from "../../src/protocol.js";
import { DeployStatusSchema } from "../../src/protocol.js";
import { copyFixture } from "../helpers.js";
import { FakeKernel } from "./fake-kernel.js";

const VERIFIER_LOG = [
  "libbpf: prog 'broken_enqueue': BPF program load failed: Permission denied",
  "libbpf: prog 'broken_enqueue': -- BEGIN PROG LOAD LOG --",
  "0: R1=ctx() R10=fp0",
  "; v[2] += 1; @ broken.bpf.c:23",
  "7: (79) r1 = *(u64 *)(r0 +16)",
  "invalid access to map value, value_size=8 off=16 size=8",
  "R0 min value is outside of the allowed memory range",
  "processed 9 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1",
  "-- END PROG LOAD LOG --",
  "libbpf: failed to load object '/a/broken.bpf.o'",
].join("\n");

function deployable(id: string, opsName: string, guards: Guard[] = []): Deployable {
  return {
    assignmentId: id,
    payload: {
      policyId: `spol_${opsName}`,
      version: 1,
      artifactSha256: "a".repeat(64),
      parameters: {},
      expiresAtMs: Date.now() + 3_600_000,
    },
    artifact: { kind: "bpf-object", sizeBytes: 100, opsName },
    guards,
  };
}

function report(psi: number | null, delayUs: number | null = null): TelemetryReport {
  const line = (avg10Pct: number) => ({
    avg10Pct,
    avg60Pct: 0,
    avg300Pct: 0,
    totalUs: 0,
    intervalPct: null,
  });
  return {
    intervalMs: 1000,
    cpu: null,
    pressure: psi === null ? null : { some: line(psi), full: null },
    runQueue: delayUs === null ? null : { meanRunDelayUs: delayUs, timeslices: 10, perCpu: [] },
    loadAvg: null,
    contextSwitches: null,
    topProcesses: null,
    warnings: [],
  };
}

/** A disabled sched_ext node (scx-node with its scheduler unloaded), its fake kernel, a deployer. */
async function setup(extra: Partial<DeployerOptions> = {}) {
  const tree = await copyFixture("scx-node");
  const kernel = new FakeKernel(tree.sysRoot);
  await kernel.setState("disabled", null);
  const bpffsDir = join(tree.dir, "bpffs");
  kernel.objects = {
    "/obj/a.o": { opsName: "ek_fifo" },
    "/obj/b.o": { opsName: "ek_wvtime" },
    "/obj/broken.o": { opsName: "broken", verifierLog: VERIFIER_LOG },
  };
  const transitions: Transition[] = [];
  const lines: string[] = [];
  const deployer = createDeployer({
    executor: kernel,
    sysRoot: tree.sysRoot,
    bpffsDir,
    pollIntervalMs: 0,
    settleTimeoutMs: 200,
    sleep: async () => {},
    log: (line) => lines.push(line),
    ...extra,
  });
  deployer.onTransition((t) => transitions.push(t));
  return { tree, kernel, bpffsDir, deployer, transitions, lines };
}

const wire = (t: Transition) => DeployStatusSchema.parse(deployStatusFrame(t));

describe("deployer: BPF objects on a sched_ext kernel", () => {
  it("registers with bpftool under the bpffs dir, confirms state and ops, reports active", async () => {
    const { kernel, bpffsDir, deployer, transitions } = await setup();
    const t = await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    expect(kernel.calls).toEqual([
      ["mkdir", "-p", bpffsDir],
      ["rm", "-rf", join(bpffsDir, "asg_a")],
      ["bpftool", "struct_ops", "register", "/obj/a.o", join(bpffsDir, "asg_a")],
    ]);
    expect(t.state).toBe("active");
    expect(t.running).toEqual({ assignmentId: "asg_a", policyId: "spol_ek_fifo", version: 1 });
    expect(deployer.current()?.assignmentId).toBe("asg_a");
    expect(transitions).toEqual([t]);
    expect(() => wire(t)).not.toThrow();
  });

  it("reports the kernel verifier's rejection with its message and full log, and removes the link", async () => {
    const { kernel, bpffsDir, deployer } = await setup();
    const t = await deployer.apply(deployable("asg_bad", "broken"), "/obj/broken.o");
    expect(t.state).toBe("failed");
    expect(t.reason).toBe(
      "kernel verifier (broken_enqueue): invalid access to map value, value_size=8 off=16 size=8 / R0 min value is outside of the allowed memory range",
    );
    expect(t.log).toContain("-- BEGIN PROG LOAD LOG --");
    expect(t.running).toBeNull();
    expect(kernel.calls.at(-1)).toEqual(["rm", "-rf", join(bpffsDir, "asg_bad")]);
    expect(deployer.current()).toBeNull();
  });

  it("replaces, then reverts on command to the previous policy, then to the kernel default", async () => {
    const { kernel, deployer, transitions, tree } = await setup();
    await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    await deployer.apply(deployable("asg_b", "ek_wvtime"), "/obj/b.o");
    expect(
      transitions.map((t) => [t.assignmentId, t.state, t.running?.assignmentId ?? null]),
    ).toEqual([
      ["asg_a", "active", "asg_a"],
      ["asg_a", "stopped", "asg_b"],
      ["asg_b", "active", "asg_b"],
    ]);
    expect(transitions[1]?.reason).toBe("replaced by asg_b");

    const back = await deployer.revert("operator asked");
    expect(back).toMatchObject({
      assignmentId: "asg_b",
      state: "stopped",
      reason: "operator asked",
    });
    expect(back?.running?.assignmentId).toBe("asg_a");
    expect(transitions.at(-1)).toMatchObject({ assignmentId: "asg_a", state: "active" });
    expect((await kernel.readText(join(tree.sysRoot, "kernel/sched_ext/root/ops")))?.trim()).toBe(
      "ek_fifo",
    );

    for (const t of transitions) expect(() => wire(t)).not.toThrow();
    const last = await deployer.revert("again");
    expect(last).toMatchObject({ assignmentId: "asg_a", state: "stopped", running: null });
    expect((await kernel.readText(join(tree.sysRoot, "kernel/sched_ext/state")))?.trim()).toBe(
      "disabled",
    );
    expect(await deployer.revert("nothing left")).toBeNull();
  });

  it("ignores a stale revert naming an assignment that no longer runs", async () => {
    const { kernel, deployer } = await setup();
    await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    await deployer.apply(deployable("asg_b", "ek_wvtime"), "/obj/b.o");
    const callsBefore = kernel.calls.length;
    expect(await deployer.revert("late", "asg_a")).toBeNull();
    expect(kernel.calls.length).toBe(callsBefore);
    expect(deployer.current()?.assignmentId).toBe("asg_b");
    expect((await deployer.revert("current", "asg_b"))?.state).toBe("stopped");
  });

  it("applying what already runs loads nothing again", async () => {
    const { kernel, deployer } = await setup();
    await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    const callsBefore = kernel.calls.length;
    const t = await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    expect(t).toMatchObject({ state: "active", reason: "already running" });
    expect(kernel.calls.length).toBe(callsBefore);
  });

  it("keeps the running policy when the new one fails to load", async () => {
    const { deployer, transitions } = await setup();
    await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    const t = await deployer.apply(deployable("asg_bad", "broken"), "/obj/broken.o");
    expect(t).toMatchObject({ state: "failed", running: { assignmentId: "asg_a" } });
    expect(deployer.current()?.assignmentId).toBe("asg_a");
    expect(transitions.map((x) => x.state)).toEqual(["active", "failed"]);
  });

  it("refuses an expired deployable without a command", async () => {
    const { kernel, deployer } = await setup();
    const old = deployable("asg_old", "ek_fifo");
    old.payload.expiresAtMs = Date.now() - 1;
    expect((await deployer.apply(old, "/obj/a.o")).state).toBe("refused");
    expect(kernel.calls).toEqual([]);
  });

  it("fails on a kernel without sched_ext, and next to a scheduler it did not load", async () => {
    const plain = await copyFixture("plain-node");
    const none = createDeployer({
      executor: new FakeKernel(plain.sysRoot),
      sysRoot: plain.sysRoot,
      pollIntervalMs: 0,
    });
    const t = await none.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    expect(t.state).toBe("failed");
    expect(t.reason).toMatch(/^this kernel has no sched_ext/);

    const { kernel, deployer, bpffsDir } = await setup();
    await kernel.setState("enabled", "scx_rusty");
    const busy = await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    expect(busy.reason).toBe(
      "another sched_ext scheduler is loaded (state enabled, ops scx_rusty)",
    );
    expect(kernel.calls.filter((c) => c[0] === "bpftool")).toEqual([]);
    expect(kernel.calls).toEqual([["ls", "-1", bpffsDir]]);
  });

  it("after an agent restart, replaces the scheduler its earlier run pinned under bpffsDir", async () => {
    const { kernel, bpffsDir, deployer, tree } = await setup();
    await deployer.apply(deployable("asg_old", "ek_fifo"), "/obj/a.o");
    await deployer.close();
    const restarted = createDeployer({
      executor: kernel,
      sysRoot: tree.sysRoot,
      bpffsDir,
      pollIntervalMs: 0,
      settleTimeoutMs: 200,
      sleep: async () => {},
    });
    expect(restarted.current()).toBeNull();
    const t = await restarted.apply(deployable("asg_new", "ek_wvtime"), "/obj/b.o");
    expect(t.state).toBe("active");
    expect(t.log).toContain(
      `removed ${join(bpffsDir, "asg_old")} (ops ek_fifo), left by an earlier run`,
    );
    expect(kernel.calls).toContainEqual(["rm", "-rf", join(bpffsDir, "asg_old")]);
  });
});

describe("deployer: watching sched_ext", () => {
  it("reports an ejection with the kernel's reason, cleans the link, and restores the previous policy", async () => {
    const { kernel, bpffsDir, deployer, transitions } = await setup();
    await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    await deployer.apply(deployable("asg_b", "ek_wvtime"), "/obj/b.o");
    expect(await deployer.poll(Date.now())).toBeNull();
    await kernel.eject([
      '[   12.5] sched_ext: BPF scheduler "ek_wvtime" disabled (runnable task stall)',
      "[   12.5] sched_ext: ek_wvtime: (kworker/0:1[42]) failed to run for 2.1s",
    ]);
    const t = await deployer.poll(Date.now());
    expect(t).toMatchObject({
      assignmentId: "asg_b",
      state: "ejected",
      running: { assignmentId: "asg_a" },
    });
    expect(t?.reason).toBe("sched_ext is disabled: runnable task stall");
    expect(t?.log).toContain("failed to run for 2.1s");
    expect(kernel.calls).toContainEqual(["rm", "-rf", join(bpffsDir, "asg_b")]);
    expect(transitions.at(-1)).toMatchObject({ assignmentId: "asg_a", state: "active" });
    expect(deployer.current()?.assignmentId).toBe("asg_a");
  });

  it("an ejection with nothing to fall back to leaves the kernel default", async () => {
    const { kernel, deployer } = await setup();
    await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    await kernel.eject([]);
    const t = await deployer.poll(Date.now());
    expect(t).toMatchObject({ state: "ejected", running: null, reason: "sched_ext is disabled" });
    expect(await deployer.poll(Date.now())).toBeNull();
  });

  it("polls on its own timer when asked to", async () => {
    const { kernel, deployer, transitions } = await setup({ pollIntervalMs: 10, sleep: undefined });
    await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    await kernel.eject(['sched_ext: BPF scheduler "ek_fifo" disabled (runnable task stall)']);
    await expect.poll(() => transitions.at(-1)?.state, { timeout: 5_000 }).toBe("ejected");
    await deployer.close();
  });
});

describe("deployer: guards", () => {
  const psiGuard: Guard = {
    metric: "psiSomeAvg10Pct",
    maxIncreasePct: 50,
    floor: 5,
    sustainMs: 2_000,
  };

  it("reverts when a metric stays past baseline + margin above the floor for sustainMs, with the evidence", async () => {
    const { deployer } = await setup();
    for (const value of [8, 10, 12]) await deployer.observe(report(value), 0);
    await deployer.apply(deployable("asg_a", "ek_fifo", [psiGuard]), "/obj/a.o");
    expect(await deployer.observe(report(15), 10_000)).toBeNull(); // baseline 10, limit 15: at it
    expect(await deployer.observe(report(16), 11_000)).toBeNull(); // regressing since 11 000
    expect(await deployer.observe(report(30), 12_999)).toBeNull();
    const t = await deployer.observe(report(30), 13_000);
    expect(t).toMatchObject({ assignmentId: "asg_a", state: "reverted", running: null });
    expect(t?.reason).toBe(
      "guard psiSomeAvg10Pct: 30 against a baseline of 10 (+200%), allowed +50% above a floor of 5, regressed for 2000 ms (sustain 2000 ms)",
    );
  });

  it("a regression that recovers before sustainMs, or stays under the floor, does not revert", async () => {
    const { deployer } = await setup();
    for (const value of [1, 2, 3]) await deployer.observe(report(value), 0);
    await deployer.apply(deployable("asg_a", "ek_fifo", [psiGuard]), "/obj/a.o");
    // Baseline 2: 4.9 is +145 % but under the floor of 5.
    expect(await deployer.observe(report(4.9), 1_000)).toBeNull();
    expect(await deployer.observe(report(9), 2_000)).toBeNull();
    expect(await deployer.observe(report(2), 3_000)).toBeNull(); // recovered: the clock restarts
    expect(await deployer.observe(report(9), 4_500)).toBeNull();
    expect(await deployer.observe(report(9), 6_000)).toBeNull();
    expect((await deployer.observe(report(9), 6_500))?.state).toBe("reverted");
  });

  it("a metric the node cannot measure never trips its guard", async () => {
    const { deployer } = await setup();
    const delayGuard: Guard = {
      metric: "meanRunDelayUs",
      maxIncreasePct: 0,
      floor: 0,
      sustainMs: 0,
    };
    await deployer.observe(report(1), 0);
    await deployer.apply(deployable("asg_a", "ek_fifo", [delayGuard]), "/obj/a.o");
    expect(await deployer.observe(report(1, 500), 1_000)).toBeNull();
    expect(deployer.current()?.assignmentId).toBe("asg_a");
  });
});

describe("deployer: dry-run", () => {
  it("prints exactly the commands it would run, runs none, and reports as if loaded", async () => {
    const { kernel, bpffsDir, deployer, transitions, lines, tree } = await setup({ dryRun: true });
    const t = await deployer.apply(deployable("asg_a", "ek_fifo"), "/obj/a.o");
    expect(t).toMatchObject({ state: "active", dryRun: true, running: { assignmentId: "asg_a" } });
    expect(lines.slice(0, 4)).toEqual([
      `[dry-run] would run: mkdir -p ${bpffsDir}`,
      `[dry-run] would run: rm -rf ${join(bpffsDir, "asg_a")}`,
      `[dry-run] would run: bpftool struct_ops register /obj/a.o ${join(bpffsDir, "asg_a")}`,
      `[dry-run] would wait for ${join(tree.sysRoot, "kernel/sched_ext/state")} = enabled, root/ops = ek_fifo`,
    ]);
    expect(await deployer.poll(Date.now())).toBeNull();
    const back = await deployer.revert("done");
    expect(back).toMatchObject({ state: "stopped", dryRun: true, running: null });
    expect(lines).toContain(`[dry-run] would run: rm -rf ${join(bpffsDir, "asg_a")}`);
    expect(kernel.calls).toEqual([]);
    expect(kernel.reads).toEqual([]);
    expect(transitions.every((x) => x.dryRun)).toBe(true);
  });
});

describe("deployer: scx binaries", () => {
  const allowList = {
    scx_rusty: {
      path: "/usr/bin/scx_rusty",
      opsPrefix: "rusty",
      parameters: {
        slice_us: { type: "int" as const, flag: "--slice-us", min: 1000, max: 100000 },
        partial: { type: "bool" as const, flag: "--partial" },
      },
    },
  };
  const scx = (parameters: Record<string, number | boolean>): Deployable => ({
    assignmentId: "asg_scx",
    payload: {
      policyId: "spol_rusty",
      version: 1,
      artifactSha256: "b".repeat(64),
      parameters,
      expiresAtMs: Date.now() + 60_000,
    },
    artifact: { kind: "scx-binary", binary: "scx_rusty" },
    guards: [],
  });

  it("starts the allow-listed path with parameters as flags, stops it with SIGINT", async () => {
    const { kernel, deployer } = await setup({ scxAllowList: allowList });
    kernel.binaries = { "/usr/bin/scx_rusty": { opsName: "rusty_1" } };
    const t = await deployer.apply(scx({ slice_us: 20000, partial: true }), null);
    expect(t.state).toBe("active");
    expect(kernel.calls).toEqual([
      ["spawn", "/usr/bin/scx_rusty", "--partial", "--slice-us", "20000"],
    ]);
    expect((await deployer.revert("done"))?.state).toBe("stopped");
    expect(kernel.signals).toEqual(["SIGINT"]);
  });

  it("close() stops its scx child process, which must not outlive the agent", async () => {
    const { kernel, deployer } = await setup({ scxAllowList: allowList });
    kernel.binaries = { "/usr/bin/scx_rusty": { opsName: "rusty_1" } };
    await deployer.apply(scx({}), null);
    await deployer.close();
    expect(kernel.signals).toEqual(["SIGINT"]);
  });

  it("sends SIGTERM to a binary that ignores SIGINT", async () => {
    const { kernel, deployer } = await setup({ scxAllowList: allowList, scxStopGraceMs: 1 });
    kernel.binaries = { "/usr/bin/scx_rusty": { opsName: "rusty_1", ignoresSigint: true } };
    await deployer.apply(scx({}), null);
    await deployer.revert("done");
    expect(kernel.signals).toEqual(["SIGINT", "SIGTERM"]);
  });

  it("reports the process exiting as an ejection", async () => {
    const { kernel, deployer } = await setup({ scxAllowList: allowList });
    kernel.binaries = { "/usr/bin/scx_rusty": { opsName: "rusty_1" } };
    await deployer.apply(scx({}), null);
    kernel.crashProcess(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const t = await deployer.poll(Date.now());
    expect(t).toMatchObject({ state: "ejected", reason: "/usr/bin/scx_rusty exited (code 1)" });
  });

  it("refuses parameters outside the allow-list's bounds and binaries it lacks, starting nothing", async () => {
    const { kernel, deployer } = await setup({ scxAllowList: allowList });
    expect((await deployer.apply(scx({ slice_us: 999 }), null)).reason).toBe(
      "slice_us=999 is outside 1000..100000",
    );
    expect((await deployer.apply(scx({ turbo: 1 }), null)).reason).toBe(
      "scx_rusty takes no parameter turbo",
    );
    const other = { ...scx({}), artifact: { kind: "scx-binary" as const, binary: "scx_lavd" } };
    expect((await deployer.apply(other, null)).reason).toBe(
      "scx_lavd is not in this node's allow-list",
    );
    expect(kernel.calls).toEqual([]);
  });

  it("reports a binary that exits before enabling as failed", async () => {
    const { kernel, deployer } = await setup({ scxAllowList: allowList });
    kernel.binaries = { "/usr/bin/scx_rusty": { opsName: "rusty_1", failsWith: 2 } };
    const t = await deployer.apply(scx({}), null);
    expect(t).toMatchObject({
      state: "failed",
      reason: "scx_rusty exited (code 2) before its scheduler was enabled",
    });
  });
});
