import { describe, expect, it } from "vitest";
import { summarizeRegisterFailure } from "../../src/deploy/bpf-backend.js";
import { judge } from "../../src/deploy/guards.js";
import { ejectionReasonFrom, schedExtKernelLines } from "../../src/deploy/sched-ext.js";
import { scxArgv } from "../../src/deploy/scx-backend.js";

describe("summarizeRegisterFailure", () => {
  it("takes the raw error after the last instruction and the class of a Linux 7 explanation", () => {
    const log = [
      "libbpf: prog 'bad_map_enqueue': BPF program load failed: Permission denied",
      "libbpf: prog 'bad_map_enqueue': -- BEGIN PROG LOAD LOG --",
      "8: (15) if r0 == 0x0 goto pc+3        ; R0=map_value(map=counters,ks=4,vs=8)",
      "; slot[1] += 1; @ policy.bpf.c:19",
      "9: (79) r1 = *(u64 *)(r0 +8)",
      "invalid access to map value, value_size=8 off=8 size=8",
      "R0 min value is outside of the allowed memory range",
      "",
      "Verification failed: Memory Safety: Access outside bounds",
      "",
      "Reason:",
      "  The verifier cannot prove offset + access_size <= object_size.",
      "  Instruction context:",
      "  >>>  9 | (79) r1 = *(u64 *)(r0 +8)",
      "Suggestion:",
      "  Add or adjust a bounds check.",
      "-- END PROG LOAD LOG --",
    ].join("\n");
    expect(summarizeRegisterFailure(log)).toBe(
      "kernel verifier (bad_map_enqueue): invalid access to map value, value_size=8 off=8 size=8 / R0 min value is outside of the allowed memory range / Verification failed: Memory Safety: Access outside bounds",
    );
  });

  it("names a kfunc the program may not call", () => {
    const log = [
      "libbpf: prog 'badctx_enqueue': BPF program load failed: Invalid argument",
      "libbpf: prog 'badctx_enqueue': -- BEGIN PROG LOAD LOG --",
      "0: R1=ctx() R10=fp0",
      "calling kernel function scx_bpf_dsq_move_to_local is not allowed",
      "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
      "-- END PROG LOAD LOG --",
    ].join("\n");
    expect(summarizeRegisterFailure(log)).toBe(
      "kernel verifier (badctx_enqueue): 0: R1=ctx() R10=fp0 / calling kernel function scx_bpf_dsq_move_to_local is not allowed".replace(
        "0: R1=ctx() R10=fp0 / ",
        "",
      ),
    );
  });

  it("falls back to libbpf's last error without a verifier log", () => {
    expect(
      summarizeRegisterFailure(
        "libbpf: failed to open object\nError: failed to open object file x.o\n",
      ),
    ).toBe("Error: failed to open object file x.o");
    expect(summarizeRegisterFailure("")).toBe("bpftool failed");
  });
});

describe("sched_ext kernel lines", () => {
  const dmesg = [
    "[    1.0] Run /init as init process",
    '[    9.1] sched_ext: BPF scheduler "ek_fifo" enabled',
    '[   12.0] sched_ext: BPF scheduler "stall" disabled (runnable task stall)',
    "[   12.0] sched_ext: stall: sh[80] failed to run for 2.3s",
  ].join("\n");

  it("keeps only sched_ext lines and finds the disable reason for the ops name", () => {
    const lines = schedExtKernelLines(dmesg);
    expect(lines).toHaveLength(3);
    expect(ejectionReasonFrom(lines, "stall")).toBe("runnable task stall");
    expect(ejectionReasonFrom(lines, "other")).toBe(
      "sched_ext: stall: sh[80] failed to run for 2.3s",
    );
    expect(ejectionReasonFrom([], "x")).toBeNull();
  });
});

describe("guard judgement at the edges", () => {
  const guard = { metric: "meanRunDelayUs" as const, maxIncreasePct: 50, floor: 10, sustainMs: 0 };
  it("regresses strictly above baseline × (1 + margin) and strictly above the floor", () => {
    expect(judge(guard, 20, 30).regressed).toBe(false);
    expect(judge(guard, 20, 30.001).regressed).toBe(true);
    expect(judge(guard, 2, 10).regressed).toBe(false);
    expect(judge(guard, 2, 10.5).regressed).toBe(true);
    expect(judge(guard, null, 100).regressed).toBe(false);
    expect(judge(guard, 0, 11).regressed).toBe(true);
  });
});

describe("scxArgv", () => {
  const allow = {
    scx_lavd: {
      path: "/opt/scx/scx_lavd",
      args: ["--no-core-compaction"],
      parameters: {
        slice_max_us: { type: "int" as const, flag: "--slice-max-us", min: 1000, max: 50000 },
        autopilot: { type: "bool" as const, flag: "--autopilot" },
      },
    },
  };
  it("maps parameters to flags in name order, at their bounds, and refuses the rest", () => {
    expect(scxArgv(allow, "scx_lavd", { slice_max_us: 1000, autopilot: false })).toEqual({
      ok: true,
      argv: ["/opt/scx/scx_lavd", "--no-core-compaction", "--slice-max-us", "1000"],
    });
    expect(scxArgv(allow, "scx_lavd", { slice_max_us: 50000, autopilot: true })).toEqual({
      ok: true,
      argv: ["/opt/scx/scx_lavd", "--no-core-compaction", "--autopilot", "--slice-max-us", "50000"],
    });
    expect(scxArgv(allow, "scx_lavd", { slice_max_us: 50001 })).toMatchObject({ ok: false });
    expect(scxArgv(allow, "scx_lavd", { slice_max_us: 1.5 })).toEqual({
      ok: false,
      reason: "slice_max_us must be an integer",
    });
    expect(scxArgv(allow, "scx_lavd", { autopilot: "yes" })).toEqual({
      ok: false,
      reason: "autopilot must be a boolean",
    });
    expect(scxArgv(allow, "constructor", {})).toMatchObject({ ok: false });
  });
});
