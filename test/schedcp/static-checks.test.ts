/**
 * The execution verifier's static stage on real-looking sched_ext sources: what passes, and
 * every trick that must not — forbidden calls in macros, split across lines, spelled with
 * digraphs or escapes, called by number — while comments and string literals fool nothing.
 */

import { describe, expect, it } from "vitest";
import { BUILTIN_POLICIES, COMMON_HEADER } from "../../src/schedcp/bpf/catalog";
import { lexC } from "../../src/schedcp/c-lexer";
import type { Tunable } from "../../src/schedcp/metadata";
import {
  type Diagnostic,
  runStaticChecks,
  STATIC_CHECK_LIMITS,
  type StaticCheckInput,
} from "../../src/schedcp/static-checks";
import { SAMPLE_POLICIES } from "./policy-fixtures";

const SLICE: Tunable = {
  name: "slice_us",
  type: "int",
  default: 5000,
  min: 100,
  max: 100_000,
  description: "slice",
};

/**
 * A complete, valid policy around `body` (inserted before the ops struct), in the library's
 * conventions: common.h supplies the macros and the license, the tunable is EK_SLICE_US.
 */
function policy(body: string, options: { ops?: string; head?: string } = {}): string {
  return `${options.head ?? '#include "common.h"\n'}
#ifndef EK_SLICE_US
#define EK_SLICE_US 5000
#endif

${body}

SEC("struct_ops/t_enqueue")
int t_enqueue(unsigned long long *ctx)
{
	scx_bpf_dsq_insert((void *)ctx[0], SCX_DSQ_GLOBAL, EK_SLICE_US * 1000ULL, ctx[1]);
	return 0;
}

${
  options.ops ??
  `SEC(".struct_ops.link")
struct sched_ext_ops t_ops = {
	.enqueue = (void *)t_enqueue,
	.name    = "t",
};`
}
`;
}

function check(source: string, overrides: Partial<StaticCheckInput> = {}) {
  return runStaticChecks({ source, opsName: "t", tunables: [SLICE], parameters: {}, ...overrides });
}

const codes = (ds: readonly Diagnostic[]) => ds.map((d) => d.code);
/** The line (1-based) of the first occurrence of `needle` in `source`. */
const lineOf = (source: string, needle: string) =>
  source.slice(0, source.indexOf(needle)).split("\n").length;

describe("the C tokenizer", () => {
  it("drops comments and keeps literals whole, with each token's line and column", () => {
    const lexed = lexC("int a; /* b(c) */ x(\"d(e)\", 'f'); // g(h)\n  y(1);");
    expect(lexed.tokens.map((t) => t.text)).toEqual([
      "int",
      "a",
      ";",
      "x",
      "(",
      '"d(e)"',
      ",",
      "'f'",
      ")",
      ";",
      "y",
      "(",
      "1",
      ")",
      ";",
    ]);
    expect(lexed.tokens.find((t) => t.text === "y")).toMatchObject({ line: 2, column: 3 });
  });

  it("joins a name split by a backslash-newline, even with spaces before the newline", () => {
    const lexed = lexC("a = bpf_send\\  \n_signal(9);");
    expect(lexed.tokens.map((t) => t.text)).toContain("bpf_send_signal");
  });

  it("separates directives from code and reads digraphs as what they spell", () => {
    const lexed = lexC('%:include "x.h"\n#define A(b) b <: 0 :>\nint z;');
    expect(lexed.directives.map((d) => [d.name, d.rest])).toEqual([
      ["include", '"x.h"'],
      ["define", "A(b) b <: 0 :>"],
    ]);
    expect(lexed.directives[1]!.tokens.map((t) => t.text)).toEqual([
      "A",
      "(",
      "b",
      ")",
      "b",
      "[",
      "0",
      "]",
    ]);
    expect(lexed.tokens.map((t) => t.text)).toEqual(["int", "z", ";"]);
  });
});

describe("static checks: policies that pass", () => {
  it.each([
    ...BUILTIN_POLICIES.map((e) => [`the built-in ${e.name}`, e] as const),
    ...SAMPLE_POLICIES.map((e) => [`the sample ${e.name}`, e] as const),
  ])("%s passes with no finding", (_name, entry) => {
    const result = runStaticChecks({
      source: entry.source,
      opsName: entry.opsName,
      tunables: entry.tunables,
      parameters: {},
    });
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.kfuncs).toContain("scx_bpf_dsq_move_to_local");
  });

  it("reports what the built-ins call, as the compiled objects do (object-checks.test.ts)", () => {
    const used = BUILTIN_POLICIES.map((e) => {
      const r = runStaticChecks({ ...e, parameters: {} });
      return [e.name, r.helpers, r.kfuncs];
    });
    const kfuncs = ["scx_bpf_create_dsq", "scx_bpf_dsq_insert", "scx_bpf_dsq_move_to_local"];
    expect(used).toEqual([
      ["fifo", [], [...kfuncs, "scx_bpf_select_cpu_dfl"]],
      [
        "wvtime",
        [],
        [
          "scx_bpf_create_dsq",
          "scx_bpf_dsq_insert",
          "scx_bpf_dsq_insert_vtime",
          "scx_bpf_dsq_move_to_local",
          "scx_bpf_select_cpu_dfl",
        ],
      ],
      [
        "latency",
        ["bpf_ktime_get_ns", "bpf_task_storage_get"],
        [
          "scx_bpf_create_dsq",
          "scx_bpf_dsq_insert",
          "scx_bpf_dsq_insert_vtime",
          "scx_bpf_dsq_move_to_local",
          "scx_bpf_select_cpu_dfl",
        ],
      ],
    ]);
  });

  it("checks a built-in's tunables through their macros: EK_SLICE_US for slice_us", () => {
    const fifo = BUILTIN_POLICIES.find((e) => e.name === "fifo")!;
    const run = (source: string, parameters: unknown = {}) =>
      runStaticChecks({ ...fifo, source, parameters });
    expect(run(fifo.source, { slice_us: 1_000_000 }).ok).toBe(true);
    expect(codes(run(fifo.source, { slice_us: 1_000_001 }).diagnostics)).toEqual([
      "parameter_out_of_bounds",
    ]);
    const unguarded = fifo.source.replace(
      "#ifndef EK_SLICE_US\n#define EK_SLICE_US 20000\n#endif",
      "#define EK_SLICE_US 20000",
    );
    const redefined = run(unguarded).diagnostics;
    expect(redefined.map((d) => [d.code, d.line])).toEqual([
      ["tunable_redefined", lineOf(unguarded, "#define EK_SLICE_US")],
    ]);
    expect(redefined[0]!.message).toContain("-DEK_SLICE_US=");
    const renamed = run(fifo.source.replaceAll("EK_SLICE_US", "SLICE_US"));
    expect(renamed.ok).toBe(true);
    expect(renamed.diagnostics).toEqual([
      expect.objectContaining({
        code: "tunable_unused",
        severity: "warning",
        path: "tunables[0].name",
        message: expect.stringContaining("does not mention EK_SLICE_US"),
      }),
    ]);
  });

  it("reports the helpers and kfuncs used, and ignores forbidden names in comments and strings", () => {
    const source = policy(`
/* Never call bpf_probe_write_user(dst, src, n) or bpf_send_signal(9) from here. */
// bpf_override_return(ctx, 0);
static const char note[] = "bpf_sys_bpf(cmd, attr, size) is refused";
static const char c = 'b';

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

static void count(void)
{
	u32 key = 0;
	u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}`);
    const result = check(source);
    expect(result.diagnostics).toEqual([]);
    expect(result.helpers).toEqual(["bpf_map_lookup_elem"]);
    expect(result.kfuncs).toEqual(["scx_bpf_dsq_insert"]);
  });

  it("accepts a helper declared by its true number, as libbpf's headers do", () => {
    const source = policy(
      "static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;",
    );
    expect(check(source).diagnostics).toEqual([]);
  });

  it("accepts the ops written with SCX_OPS_DEFINE and a .name split into adjacent strings", () => {
    const source = policy("", {
      ops: 'SCX_OPS_DEFINE(t_ops, .enqueue = (void *)t_enqueue, .name = "t");',
    });
    expect(check(source).diagnostics).toEqual([]);
    const split = policy("", {
      ops: 'struct sched_ext_ops t_ops SEC(".struct_ops.link") = { .enqueue = (void *)t_enqueue, .name = "" "t" };',
    });
    expect(check(split).diagnostics).toEqual([]);
  });

  it("learns the macros and functions of the project's common.h, or of the trusted headers given", () => {
    const source = policy(
      "static bool f(u64 a) { return ek_vtime_before(a, EK_MIN(a, EK_NSEC_PER_USEC)); }",
    );
    expect(check(source).diagnostics).toEqual([]);
    const mine = policy("static void f(void) { u64 n = now_ns(); (void)n; }");
    expect(codes(check(mine).diagnostics)).toEqual(["unknown_call"]);
    const header = `${COMMON_HEADER}
static inline u64 now_ns(void) { return scx_bpf_now(); }
#define TWICE(x) (2 * (x))`;
    expect(check(mine, { trustedHeaders: { "common.h": header } }).diagnostics).toEqual([]);
    // A header cannot put a reserved name on the list by declaring it.
    const sneaky = policy("static void f(void) { bpf_get_current_comm(0, 0); }");
    const withHeader = check(sneaky, {
      trustedHeaders: {
        "common.h": `${COMMON_HEADER}\nextern long bpf_get_current_comm(void *b, u32 n);`,
      },
    });
    expect(codes(withHeader.diagnostics)).toEqual(["callee_not_allowed"]);
  });
});

describe("static checks: forbidden and unknown calls", () => {
  it("refuses a forbidden helper by name, with the reason, at its line and column", () => {
    const source = policy(`static void f(char *dst)
{
	bpf_probe_write_user(dst, "x", 1);
}`);
    const result = check(source);
    expect(result.ok).toBe(false);
    expect(result.diagnostics).toEqual([
      {
        code: "callee_forbidden",
        severity: "error",
        message: expect.stringContaining("writes into the memory of whatever user process"),
        line: lineOf(source, "bpf_probe_write_user"),
        column: 2,
        path: "source",
      },
    ]);
  });

  it.each([
    ["bpf_override_return(ctx, 0);"],
    ["bpf_send_signal(9);"],
    ["bpf_send_signal_thread(9);"],
    ["bpf_sys_bpf(0, 0, 0);"],
    ["scx_bpf_dispatch(0, 0, 0, 0);"],
  ])("refuses %s", (call) => {
    const result = check(policy(`static void f(void *ctx) { ${call} }`));
    expect(codes(result.diagnostics)).toEqual(["callee_forbidden"]);
  });

  it("refuses a helper that is not on the allow-list, and a call to nothing known", () => {
    const source = policy(`static void f(void)
{
	char comm[16];
	bpf_get_current_comm(comm, sizeof(comm));
	mystery(1);
}`);
    const result = check(source);
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ["callee_not_allowed", lineOf(source, "bpf_get_current_comm")],
      ["unknown_call", lineOf(source, "mystery")],
    ]);
  });

  it("refuses a kernel function declared as a kfunc but not on the list", () => {
    const source = policy(`extern void crash_kexec(void *regs) __ksym;
static void f(void) { crash_kexec(0); }`);
    const result = check(source);
    expect(codes(result.diagnostics)).toEqual(["unknown_call"]);
    expect(result.diagnostics[0]!.message).toContain("declared but not defined");
  });

  it("finds a forbidden call hidden in a macro, whether the macro is used or not", () => {
    const source = policy(`#define POKE(d) bpf_probe_write_user((d), "x", 1)
#define KILL bpf_send_signal
static void f(char *d) { POKE(d); KILL(9); }`);
    const result = check(source);
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ["callee_forbidden", lineOf(source, "#define POKE")],
      ["callee_forbidden", lineOf(source, "#define KILL")],
    ]);
  });

  it("finds a forbidden call split across lines, by a splice or by whitespace and comments", () => {
    const source = policy(`static void f(void)
{
	bpf_send\\
_signal(9);
	bpf_override_return
		/* not a call? */ (0, 0);
}`);
    const result = check(source);
    expect(result.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ["callee_forbidden", lineOf(source, "bpf_send\\"), 2],
      ["callee_forbidden", lineOf(source, "bpf_override_return"), 2],
    ]);
  });

  it("refuses token pasting, which could build the name out of sight, also spelled %:%:", () => {
    const source = policy(`#define CAT(a, b) a##b
#define CAT2(a, b) a %:%: b
static void f(void) { CAT(bpf_probe_, write_user)(0, 0, 0); }`);
    const result = check(source);
    expect(codes(result.diagnostics)).toEqual([
      "token_pasting",
      "token_pasting",
      "callee_not_allowed",
    ]);
  });

  it("refuses names spelled with \\u escapes, trigraphs, and non-ASCII identifiers", () => {
    expect(
      codes(check(policy("static void f(void) { bpf_send_sign\\u0061l(9); }")).diagnostics),
    ).toContain("universal_character_name");
    expect(codes(check(policy("static int q = 1 ??/\n+ 1;")).diagnostics)).toEqual(["trigraph"]);
    expect(codes(check(policy("static int ñ = 1;")).diagnostics)).toEqual(["non_ascii"]);
  });

  it("refuses helpers called by number: a wrong number, a nameless pointer, a cast, a macro", () => {
    const wrongId = check(
      policy("static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 36;"),
    );
    expect(codes(wrongId.diagnostics)).toEqual(["helper_id_mismatch"]);

    const renamed = check(
      policy("static long (*poke)(void *d, const void *s, u32 n) = (void *) 36;"),
    );
    expect(codes(renamed.diagnostics)).toEqual(["function_pointer"]);

    const cast = check(
      policy("static void f(void) { ((long (*)(void *, const void *, u32))0x24)(0, 0, 0); }"),
    );
    expect(codes(cast.diagnostics)).toEqual(["function_pointer", "integer_to_pointer"]);

    const viaMacro = check(
      policy("#define HELPER 36\nstatic void *h(void) { return (void *)HELPER; }"),
    );
    expect(codes(viaMacro.diagnostics)).toEqual(["integer_to_pointer"]);

    const negative = check(policy("static void *h(void) { return (void *)-36; }"));
    expect(codes(negative.diagnostics)).toEqual(["integer_to_pointer"]);

    // NULL is not a helper.
    expect(check(policy("static void *h(void) { return (void *)0; }")).diagnostics).toEqual([]);
  });

  it("refuses function pointers of every spelling and calls through pointers", () => {
    const typedefd = check(policy("typedef long (*fn_t)(void);"));
    expect(codes(typedefd.diagnostics)).toEqual(["function_pointer"]);
    const viaTypeof = check(
      policy("static void f(void) { __typeof__(bpf_map_lookup_elem) g = 0; g(0, 0); }"),
    );
    expect(codes(viaTypeof.diagnostics)).toEqual(["function_pointer", "unknown_call"]);
    const member = check(policy("static void f(struct sched_ext_ops *o) { o->enqueue(0, 0); }"));
    expect(codes(member.diagnostics)).toEqual(["indirect_call"]);
    const punned = check(policy("union pun { u64 n; long (*f)(void); };"));
    expect(codes(punned.diagnostics)).toEqual(["function_pointer"]);
  });

  it("refuses inline assembly and aliasing attributes", () => {
    expect(
      codes(check(policy('static void f(void) { asm volatile("call 36"); }')).diagnostics),
    ).toEqual(["inline_asm"]);
    expect(
      codes(check(policy('void g(void) __attribute__((alias("t_enqueue")));')).diagnostics),
    ).toEqual(["attribute_not_allowed"]);
  });
});

describe("static checks: includes and directives", () => {
  it("allows only the listed headers, in plain form", () => {
    const source = policy("", {
      head: `#include "common.h"
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <linux/sched.h>
#include "../../etc/secret.h"
#include HEADER
#include_next <bpf/bpf_helpers.h>
`,
    });
    const result = check(source);
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ["include_not_allowed", 5],
      ["include_not_allowed", 6],
      ["include_malformed", 7],
      ["directive_not_allowed", 8],
    ]);
  });

  it("refuses #line, which would make the findings point elsewhere, and _Pragma", () => {
    expect(codes(check(policy('#line 1 "other.c"')).diagnostics)).toEqual([
      "directive_not_allowed",
    ]);
    expect(codes(check(policy('_Pragma("GCC poison x")')).diagnostics)).toEqual([
      "directive_not_allowed",
    ]);
  });

  it("reports an unterminated comment or string at its start", () => {
    const source = `${policy("")}\n/* never closed`;
    const result = check(source);
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ["unterminated_comment", source.split("\n").length],
    ]);
  });
});

describe("static checks: the scheduler itself", () => {
  it("needs a struct sched_ext_ops", () => {
    expect(codes(check(policy("", { ops: "" })).diagnostics)).toEqual(["ops_missing"]);
  });

  it('needs it in SEC(".struct_ops.link"), named as the policy, and only one', () => {
    const wrongSection = policy("", {
      ops: 'SEC(".struct_ops")\nstruct sched_ext_ops t_ops = { .enqueue = (void *)t_enqueue, .name = "t" };',
    });
    expect(codes(check(wrongSection).diagnostics)).toEqual(["ops_section"]);
    const wrongName = policy("", {
      ops: 'SEC(".struct_ops.link")\nstruct sched_ext_ops t_ops = { .enqueue = (void *)t_enqueue, .name = "other" };',
    });
    const mismatch = check(wrongName).diagnostics;
    expect(codes(mismatch)).toEqual(["ops_name_mismatch"]);
    expect(mismatch[0]!.message).toContain('"other"');
    const noName = policy("", {
      ops: 'SEC(".struct_ops.link")\nstruct sched_ext_ops t_ops = { .enqueue = (void *)t_enqueue };',
    });
    expect(codes(check(noName).diagnostics)).toEqual(["ops_name_missing"]);
    const two = policy("", {
      ops: `SEC(".struct_ops.link")
struct sched_ext_ops t_ops = { .enqueue = (void *)t_enqueue, .name = "t" };
SEC(".struct_ops.link")
struct sched_ext_ops u_ops = { .enqueue = (void *)t_enqueue, .name = "u" };`,
    });
    expect(codes(check(two).diagnostics)).toEqual(["ops_multiple"]);
  });

  it("needs a GPL-compatible license: common.h's, or one of the source's own", () => {
    // policy() includes common.h, which defines _license = "GPL".
    expect(check(policy("")).diagnostics).toEqual([]);
    const libbpf = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n';
    expect(codes(check(policy("", { head: libbpf })).diagnostics)).toEqual(["license_missing"]);
    const own = policy('char LICENSE[] SEC("license") = "Dual BSD/GPL";', { head: libbpf });
    expect(check(own).diagnostics).toEqual([]);
    const proprietary = policy('char LICENSE[] SEC("license") = "Proprietary";', { head: libbpf });
    expect(codes(check(proprietary).diagnostics)).toEqual(["license_not_gpl"]);
    // Beside common.h's, another string in the license section is judged too.
    const second = policy('char other[] SEC("license") = "Proprietary";');
    expect(codes(check(second).diagnostics)).toEqual(["license_not_gpl"]);
  });

  it("takes a license from a macro, judged where the macro is used", () => {
    const libbpf = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n';
    const gpl = policy('#define GPL_LICENSE char LICENSE[] SEC("license") = "GPL"\nGPL_LICENSE;', {
      head: libbpf,
    });
    expect(check(gpl).diagnostics).toEqual([]);
    const mit = policy('#define MIT_LICENSE char LICENSE[] SEC("license") = "MIT"\nMIT_LICENSE;', {
      head: libbpf,
    });
    expect(check(mit).diagnostics.map((d) => [d.code, d.line])).toEqual([
      ["license_not_gpl", lineOf(mit, "MIT_LICENSE;")],
    ]);
  });

  it("refuses a second _license beside common.h's: the compiler would refuse it", () => {
    const source = policy('char _license[] SEC("license") = "GPL";');
    const result = check(source);
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ["license_duplicate", lineOf(source, "char _license[]")],
    ]);
    expect(result.diagnostics[0]!.message).toContain("already defined by common.h");
  });

  it("counts common.h's license only when common.h is included outside any #if", () => {
    const source = policy("", { head: '#ifdef EK_WITH_COMMON\n#include "common.h"\n#endif\n' });
    expect(codes(check(source).diagnostics)).toEqual(["license_missing"]);
  });

  it("takes a source of exactly the size limit, and refuses one byte more (counted in UTF-8)", () => {
    const base = policy("");
    const pad = (n: number) => `${base}/*${"x".repeat(n)}*/\n`;
    const fill = STATIC_CHECK_LIMITS.maxSourceBytes - new TextEncoder().encode(pad(0)).byteLength;
    const atLimit = pad(fill);
    expect(new TextEncoder().encode(atLimit).byteLength).toBe(STATIC_CHECK_LIMITS.maxSourceBytes);
    expect(check(atLimit).ok).toBe(true);
    const over = `${base}/*${"x".repeat(fill - 1)}é*/\n`; // é is two bytes
    const result = check(over);
    expect(codes(result.diagnostics)).toEqual(["source_too_large"]);
    expect(result.sourceBytes).toBe(STATIC_CHECK_LIMITS.maxSourceBytes + 1);
  });
});

describe("static checks: tunables and parameters", () => {
  it("needs bounds on an int tunable and a default within them; a bool has none", () => {
    const bad: Tunable[] = [
      { name: "a", type: "int", default: 5, description: "no bounds" },
      { name: "b", type: "int", default: 11, min: 0, max: 10, description: "default above" },
      { name: "c", type: "bool", default: true, min: 0, max: 1, description: "bool with bounds" },
      { name: "c", type: "bool", default: false, description: "duplicate" },
    ];
    const source = policy("static int use = a + b + c;");
    const result = check(source, { tunables: bad });
    expect(
      result.diagnostics.filter((d) => d.code === "tunable_invalid").map((d) => d.path),
    ).toEqual([
      "tunables[0].min",
      "tunables[0].max",
      "tunables[1].default",
      "tunables[2].min",
      "tunables[2].max",
      "tunables[3].name",
    ]);
  });

  it("warns about a tunable the source never mentions, without failing", () => {
    const unused: Tunable = { name: "boost", type: "bool", default: false, description: "x" };
    const result = check(policy(""), { tunables: [SLICE, unused] });
    expect(result.ok).toBe(true);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        code: "tunable_unused",
        severity: "warning",
        path: "tunables[1].name",
      }),
    ]);
  });

  it("refuses a tunable #defined without #ifndef or #undef'd: the submitted value would be ignored", () => {
    const source = policy("").replace(
      "#ifndef EK_SLICE_US\n#define EK_SLICE_US 5000\n#endif",
      "#define EK_SLICE_US 5000",
    );
    expect(codes(check(source).diagnostics)).toEqual(["tunable_redefined"]);
    const undone = policy("#undef EK_SLICE_US\n#define EK_SLICE_US 5000");
    expect(codes(check(undone).diagnostics)).toEqual(["tunable_redefined", "tunable_redefined"]);
    // Other macros are the source's own business.
    expect(check(policy("#define SLICE_US 5\n#undef SLICE_US")).diagnostics).toEqual([]);
  });

  it("points a source written for the parameter's name to the macro the parameter arrives as", () => {
    const source = policy("").replaceAll("EK_SLICE_US", "slice_us");
    const result = check(source);
    expect(result.ok).toBe(true);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        code: "tunable_unused",
        severity: "warning",
        message: expect.stringContaining(
          "the source mentions slice_us, but the parameter arrives as the macro EK_SLICE_US",
        ),
      }),
    ]);
  });

  it("checks parameters against the tunables at their bounds, and overlays the defaults", () => {
    const boost: Tunable = { name: "boost", type: "bool", default: false, description: "x" };
    const source = policy("static int b = EK_BOOST;");
    const run = (parameters: unknown) => check(source, { tunables: [SLICE, boost], parameters });
    expect(run({ slice_us: 100 }).ok).toBe(true);
    expect(run({ slice_us: 100_000, boost: true }).parameters).toEqual({
      slice_us: 100_000,
      boost: true,
    });
    expect(run({}).parameters).toEqual({ slice_us: 5000, boost: false });
    const low = run({ slice_us: 99 });
    expect(low.diagnostics).toEqual([
      expect.objectContaining({
        code: "parameter_out_of_bounds",
        path: "parameters.slice_us",
        line: null,
      }),
    ]);
    expect(low.parameters.slice_us).toBe(5000);
    expect(codes(run({ slice_us: 100_001 }).diagnostics)).toEqual(["parameter_out_of_bounds"]);
    expect(codes(run({ slice_us: 1.5 }).diagnostics)).toEqual(["parameter_type"]);
    expect(codes(run({ slice_us: "5000" }).diagnostics)).toEqual(["parameter_type"]);
    expect(codes(run({ boost: 1 }).diagnostics)).toEqual(["parameter_type"]);
    expect(codes(run({ nope: 1 }).diagnostics)).toEqual(["parameter_unknown"]);
    expect(codes(run({ "Bad-Name": 1 }).diagnostics)).toEqual(["parameters_invalid"]);
    expect(codes(run([1, 2]).diagnostics)).toEqual(["parameters_invalid"]);
  });

  it("refuses a malformed ops name", () => {
    const result = check(policy(""), { opsName: "Bad Name" });
    expect(result.diagnostics.map((d) => d.code)).toContain("ops_name_invalid");
  });
});
