/**
 * The allow-list on compiled objects: helper numbers, kfuncs by relocation, calls within the
 * object, indirect calls, the license, and malformed input — on the objects the verifier's
 * compile stage builds from the built-ins and from a fixture that must be refused (committed
 * under bpf-objects/, rebuilt by `npm run gen:bpf-objects`), and on ELF files built here byte
 * by byte the way clang lays out a `-target bpf` object, for what clang would not emit.
 */

import { describe, expect, it } from "vitest";
import { BUILTIN_POLICIES, COMMON_HEADER, defaultParameters } from "../../src/schedcp/bpf/catalog";
import { checkBpfObject } from "../../src/schedcp/object-checks";
import { runStaticChecks } from "../../src/schedcp/static-checks";
import fifoObject from "./bpf-objects/fifo.bpf.o?inline";
import forbiddenSource from "./bpf-objects/forbidden-calls.bpf.c?raw";
import forbiddenObject from "./bpf-objects/forbidden-calls.bpf.o?inline";
import latencyObject from "./bpf-objects/latency.bpf.o?inline";
import manifest from "./bpf-objects/manifest.json";
import wvtimeObject from "./bpf-objects/wvtime.bpf.o?inline";

/** The bytes of a `data:…;base64,…` URL. */
function bytesOf(dataUrl: string): Uint8Array {
  const base64 = dataUrl.slice(dataUrl.indexOf(",") + 1);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

async function sha256(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const OBJECTS: Record<string, Uint8Array> = {
  "fifo.bpf.o": bytesOf(fifoObject),
  "wvtime.bpf.o": bytesOf(wvtimeObject),
  "latency.bpf.o": bytesOf(latencyObject),
  "forbidden-calls.bpf.o": bytesOf(forbiddenObject),
};
const manifestObjects: Record<string, (typeof manifest.objects)[keyof typeof manifest.objects]> =
  manifest.objects;
const STALE = "stale: run npm run gen:bpf-objects";

describe("checks on objects the verifier's compile stage built", () => {
  it("were built from the library and fixtures as they are now", async () => {
    expect(Object.keys(manifestObjects).sort()).toEqual(Object.keys(OBJECTS).sort());
    expect(manifest.commonHeaderSha256, `common.h changed; ${STALE}`).toBe(
      await sha256(COMMON_HEADER),
    );
    for (const policy of BUILTIN_POLICIES) {
      const entry = manifestObjects[`${policy.name}.bpf.o`]!;
      expect(entry.from).toBe(`builtin:${policy.name}`);
      expect(entry.sourceSha256, `${policy.name}'s C changed; ${STALE}`).toBe(
        await sha256(policy.source),
      );
      expect(entry.parameters).toEqual(defaultParameters(policy));
    }
    expect(manifestObjects["forbidden-calls.bpf.o"]!.sourceSha256, STALE).toBe(
      await sha256(forbiddenSource),
    );
    for (const [name, bytes] of Object.entries(OBJECTS)) {
      expect(await sha256(bytes), name).toBe(manifestObjects[name]!.objectSha256);
    }
  });

  it.each(BUILTIN_POLICIES.map((p) => [p.name, p] as const))(
    "accepts the built-in %s as compiled: it calls what the static checks saw in its source",
    (name, policy) => {
      const result = checkBpfObject(OBJECTS[`${name}.bpf.o`]!);
      expect(result.findings).toEqual([]);
      expect(result.ok).toBe(true);
      const source = runStaticChecks({ ...policy, parameters: {} });
      expect(result.helpers).toEqual(source.helpers);
      expect(result.kfuncs).toEqual(source.kfuncs);
      expect(result.programSections).toContain(`struct_ops/${policy.opsName}_enqueue`);
    },
  );

  it("refuses a compiled helper number and kfunc off the list, no ops and a non-GPL license", () => {
    const result = checkBpfObject(OBJECTS["forbidden-calls.bpf.o"]!);
    expect(result.ok).toBe(false);
    expect(result.findings.map((f) => [f.code, f.section])).toEqual([
      ["helper_not_allowed", "struct_ops/forbidden_enqueue"],
      ["kfunc_not_allowed", "struct_ops/forbidden_enqueue"],
      ["ops_missing", null],
      ["license_not_gpl", "license"],
    ]);
    expect(result.findings[0]!.message).toContain("helper number 109");
    expect(result.findings[1]!.message).toContain(
      "scx_bpf_cpuperf_set, which changes CPU frequency",
    );
  });
});

const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_REL = 9;
const SHF_ALLOC = 0x2;
const SHF_EXECINSTR = 0x4;

/** One BPF instruction. */
function insn(code: number, src: number, imm: number, dst = 0): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  b[0] = code;
  b[1] = (src << 4) | dst;
  v.setInt32(4, imm, true);
  return b;
}
const call = (imm: number, src = 0) => insn(0x85, src, imm);
const callx = () => insn(0x8d, 0, 0, 1);
const exit = () => insn(0x95, 0, 0);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface Sym {
  name: string;
  /** Section index (1-based among `sections`), 0 for undefined. */
  shndx: number;
}
interface Sec {
  name: string;
  type: number;
  flags?: number;
  data: Uint8Array;
  link?: number;
  info?: number;
}

/** A string table and the offset of each string in it. */
function strtab(strings: string[]): { data: Uint8Array; offsets: number[] } {
  const enc = new TextEncoder();
  const offsets: number[] = [];
  const parts: Uint8Array[] = [new Uint8Array(1)];
  let at = 1;
  for (const s of strings) {
    offsets.push(at);
    const bytes = enc.encode(`${s}\0`);
    parts.push(bytes);
    at += bytes.length;
  }
  return { data: concat(parts), offsets };
}

/** Program sections with relocations (instruction index → symbol name) and a symbol table. */
function object(options: {
  programs: Array<{ name: string; insns: Uint8Array[]; relocs?: Array<[number, string]> }>;
  symbols: Sym[];
  structOps?: boolean;
  /** The license section's string (default "GPL"); null for no section. */
  license?: string | null;
  machine?: number;
}): Uint8Array {
  const names = strtab(options.symbols.map((s) => s.name));
  const symtab = concat([
    new Uint8Array(24),
    ...options.symbols.map((s, i) => {
      const b = new Uint8Array(24);
      const v = new DataView(b.buffer);
      v.setUint32(0, names.offsets[i]!, true);
      b[4] = s.shndx === 0 ? 0x10 : 0x12; // GLOBAL NOTYPE / GLOBAL FUNC
      v.setUint16(6, s.shndx, true);
      return b;
    }),
  ]);
  const sections: Sec[] = [];
  options.programs.forEach((p) => {
    sections.push({
      name: p.name,
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_EXECINSTR,
      data: concat(p.insns),
    });
  });
  const symtabIndex = sections.length + options.programs.filter((p) => p.relocs).length + 1;
  options.programs.forEach((p, i) => {
    if (!p.relocs) return;
    const rel = concat(
      p.relocs.map(([insnIndex, symbol]) => {
        const b = new Uint8Array(16);
        const v = new DataView(b.buffer);
        v.setBigUint64(0, BigInt(insnIndex * 8), true);
        const symIndex = options.symbols.findIndex((s) => s.name === symbol) + 1;
        v.setBigUint64(8, (BigInt(symIndex) << 32n) | 10n, true); // R_BPF_64_32
        return b;
      }),
    );
    sections.push({
      name: `.rel${p.name}`,
      type: SHT_REL,
      data: rel,
      link: symtabIndex,
      info: i + 1,
    });
  });
  sections.push({ name: ".symtab", type: SHT_SYMTAB, data: symtab, link: symtabIndex + 1 });
  sections.push({ name: ".strtab", type: SHT_STRTAB, data: names.data });
  if (options.structOps !== false) {
    sections.push({
      name: ".struct_ops.link",
      type: SHT_PROGBITS,
      flags: SHF_ALLOC,
      data: new Uint8Array(8),
    });
  }
  const license = options.license === undefined ? "GPL" : options.license;
  if (license !== null) {
    sections.push({
      name: "license",
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | 0x1, // SHF_WRITE
      data: new TextEncoder().encode(`${license}\0`),
    });
  }
  const shstr = strtab([...sections.map((s) => s.name), ".shstrtab"]);
  sections.push({ name: ".shstrtab", type: SHT_STRTAB, data: shstr.data });

  const header = new Uint8Array(64);
  const hv = new DataView(header.buffer);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  hv.setUint16(16, 1, true); // ET_REL
  hv.setUint16(18, options.machine ?? 247, true);
  const body: Uint8Array[] = [];
  const offsets: number[] = [];
  let at = 64;
  for (const s of sections) {
    offsets.push(at);
    const padded = new Uint8Array(Math.ceil(s.data.length / 8) * 8);
    padded.set(s.data);
    body.push(padded);
    at += padded.length;
  }
  const headers = new Uint8Array((sections.length + 1) * 64);
  const sv = new DataView(headers.buffer);
  sections.forEach((s, i) => {
    const base = (i + 1) * 64;
    sv.setUint32(base, shstr.offsets[i]!, true);
    sv.setUint32(base + 4, s.type, true);
    sv.setBigUint64(base + 8, BigInt(s.flags ?? 0), true);
    sv.setBigUint64(base + 24, BigInt(offsets[i]!), true);
    sv.setBigUint64(base + 32, BigInt(s.data.length), true);
    sv.setUint32(base + 40, s.link ?? 0, true);
    sv.setUint32(base + 44, s.info ?? 0, true);
  });
  hv.setBigUint64(0x28, BigInt(at), true);
  hv.setUint16(0x3a, 64, true);
  hv.setUint16(0x3c, sections.length + 1, true);
  hv.setUint16(0x3e, sections.length, true);
  return concat([header, ...body, headers]);
}

describe("checks on hand-built objects", () => {
  it("accepts allow-listed helpers by number, kfuncs by name and the object's own functions", () => {
    const bytes = object({
      programs: [
        {
          name: "struct_ops/t_enqueue",
          insns: [call(1), call(-1, 1), call(-1, 1), call(3, 1), call(5), exit()],
          relocs: [
            [1, "scx_bpf_dsq_insert"],
            [2, "pick"],
          ],
        },
      ],
      symbols: [
        { name: "scx_bpf_dsq_insert", shndx: 0 },
        { name: "pick", shndx: 1 },
      ],
    });
    const result = checkBpfObject(bytes);
    expect(result.findings).toEqual([]);
    expect(result).toMatchObject({
      ok: true,
      helpers: ["bpf_ktime_get_ns", "bpf_map_lookup_elem"],
      kfuncs: ["scx_bpf_dsq_insert"],
      programSections: ["struct_ops/t_enqueue"],
    });
  });

  it("refuses what the source scan could not see: helper numbers, kfunc names, indirect calls", () => {
    const bytes = object({
      programs: [
        {
          name: "struct_ops/t_enqueue",
          // 113 is bpf_probe_read_kernel (what BPF_CORE_READ expands to), 36 bpf_probe_write_user.
          insns: [call(113), call(36), call(-1, 1), call(-1, 1), callx(), exit()],
          relocs: [
            [2, "bpf_task_from_pid"],
            [3, "crash_kexec"],
          ],
        },
      ],
      symbols: [
        { name: "bpf_task_from_pid", shndx: 0 },
        { name: "crash_kexec", shndx: 0 },
      ],
      structOps: false,
    });
    const result = checkBpfObject(bytes);
    expect(result.ok).toBe(false);
    expect(result.findings.map((f) => [f.code, f.instruction])).toEqual([
      ["helper_not_allowed", 0],
      ["helper_not_allowed", 1],
      ["kfunc_not_allowed", 2],
      ["kfunc_not_allowed", 3],
      ["indirect_call", 4],
      ["ops_missing", null],
    ]);
    expect(result.findings[2]!.message).toContain("looks up any task in the system by pid");
  });

  it("needs a GPL-compatible license section, judged by its first string as libbpf reads it", () => {
    const withLicense = (license: string | null) =>
      checkBpfObject(
        object({ programs: [{ name: "struct_ops/t", insns: [exit()] }], symbols: [], license }),
      );
    expect(withLicense("Dual BSD/GPL").findings).toEqual([]);
    expect(withLicense(null).findings.map((f) => f.code)).toEqual(["license_missing"]);
    const proprietary = withLicense("Proprietary");
    expect(proprietary.findings).toEqual([
      expect.objectContaining({ code: "license_not_gpl", section: "license" }),
    ]);
    expect(proprietary.findings[0]!.message).toContain('"Proprietary"');
    // Two license strings: the kernel sees the first.
    expect(withLicense("GPL\0Proprietary").ok).toBe(true);
    expect(withLicense("Proprietary\0GPL").ok).toBe(false);
  });

  it("refuses what is not a BPF object, or a broken one", () => {
    expect(checkBpfObject(new TextEncoder().encode("#include <vmlinux.h>")).findings[0]!.code).toBe(
      "not_elf",
    );
    const x86 = object({ programs: [], symbols: [], machine: 62 });
    expect(checkBpfObject(x86).findings[0]!.code).toBe("not_bpf");
    const good = object({ programs: [{ name: "struct_ops/t", insns: [exit()] }], symbols: [] });
    const truncated = good.slice(0, good.length - 10);
    expect(checkBpfObject(truncated).findings[0]!.code).toBe("malformed");
  });
});
