import { describe, expect, it } from "vitest";
import {
  BUILTIN_POLICIES,
  BuiltinPolicySchema,
  builtinPolicy,
  COMMON_HEADER,
  defaultParameters,
} from "../../src/schedcp/bpf/catalog";
import { parameterDefines, tunableMacro } from "../../src/schedcp/bpf/defines";

// Runs inside workerd: the catalog, with each policy's C text, is importable by the Worker.
describe("built-in sched_ext policy catalog", () => {
  it("lists fifo, wvtime and latency, each valid against its schema with its C source", () => {
    expect(BUILTIN_POLICIES.map((p) => [p.name, p.opsName])).toEqual([
      ["fifo", "ek_fifo"],
      ["wvtime", "ek_wvtime"],
      ["latency", "ek_latency"],
    ]);
    for (const policy of BUILTIN_POLICIES) {
      expect(BuiltinPolicySchema.parse(policy)).toEqual(policy);
      expect(policy.source).toContain('#include "common.h"');
      expect(policy.source).toContain(`.name = "${policy.opsName}"`);
      expect(policy.source).toContain('SEC(".struct_ops.link")');
    }
    expect(COMMON_HEADER).toContain("extern void scx_bpf_dsq_insert(");
    expect(builtinPolicy("latency")?.opsName).toBe("ek_latency");
    expect(builtinPolicy("nope")).toBeUndefined();
  });

  it("writes a bool tunable as the repository does: true or false, no bounds", () => {
    const latency = builtinPolicy("latency")!;
    const boost = latency.tunables.find((t) => t.type === "bool")!;
    expect(boost).toEqual({
      name: "wakeup_boost",
      type: "bool",
      default: true,
      description: expect.any(String),
    });
    const bounded = { ...latency, tunables: [{ ...boost, min: 0, max: 1 }] };
    expect(BuiltinPolicySchema.safeParse(bounded).error?.issues.map((i) => i.path)).toEqual([
      ["tunables", 0, "min"],
      ["tunables", 0, "max"],
    ]);
  });

  it("states each tunable's default and bounds exactly as its C source does", () => {
    for (const policy of BUILTIN_POLICIES) {
      const macros = [...policy.source.matchAll(/^#define (EK_[A-Z0-9_]+) (\d+)$/gm)].map(
        (m) => m[1],
      );
      expect(macros.sort()).toEqual(policy.tunables.map((t) => tunableMacro(t.name)).sort());
      for (const tunable of policy.tunables) {
        const macro = tunableMacro(tunable.name);
        const fallback = new RegExp(`^#define ${macro} (\\d+)$`, "m").exec(policy.source)?.[1];
        expect(Number(fallback), `${policy.name}.${tunable.name}`).toBe(Number(tunable.default));
        const bounds =
          tunable.type === "bool"
            ? new RegExp(`^#if ${macro} != 0 && ${macro} != 1$`, "m")
            : new RegExp(`^#if ${macro} < ${tunable.min} \\|\\| ${macro} > ${tunable.max}$`, "m");
        expect(policy.source, `${policy.name}.${tunable.name} bounds`).toMatch(bounds);
      }
    }
  });

  it("turns parameters into -D flags: integers and booleans only", () => {
    const latency = builtinPolicy("latency")!;
    expect(parameterDefines(defaultParameters(latency))).toEqual({
      ok: true,
      defines: ["-DEK_MAX_RUN_US=10000", "-DEK_SLICE_US=3000", "-DEK_WAKEUP_BOOST=1"],
    });
    expect(parameterDefines({ lag_us: -5 })).toEqual({ ok: true, defines: ["-DEK_LAG_US=(-5)"] });
    expect(parameterDefines({ slice_us: 1.5 })).toMatchObject({ ok: false, parameter: "slice_us" });
    expect(parameterDefines({ name: "x; rm -rf /" })).toMatchObject({
      ok: false,
      parameter: "name",
    });
    expect(parameterDefines({ "Bad-Name": 1 })).toMatchObject({ ok: false });
  });
});
