/**
 * The allow-list, checked again on the compiled BPF object: whatever the source's macros and
 * headers expanded to, the object's call instructions are what the kernel will run. Pure:
 * parses the ELF64 little-endian object clang writes for `-target bpf` and judges every call.
 *
 * - `call` with no relocation and src_reg 0: a helper by number; its number must be an
 *   allow-listed helper's.
 * - `call` with a relocation against an undefined symbol: a kfunc (or another extern),
 *   resolved by name at load time; the name must be an allow-listed kfunc.
 * - `call` with a relocation against a defined symbol, or src_reg 1 without one: a call to a
 *   function of the object itself.
 * - `callx` (a call through a register): refused.
 *
 * And the object as a whole: a `.struct_ops.link` section (the scheduler), and a `license`
 * section whose string, as libbpf hands it to the kernel (the first one), is GPL-compatible;
 * the source may get it from common.h, a macro or a branch the scan judged both ways.
 *
 * The source checks (static-checks.ts) run first and explain findings in the author's terms;
 * this one catches what the preprocessor produced out of their sight. It is meant to run on the
 * compiled object before anything is signed; the verifier's compile stage does not call it yet.
 */

import { ALLOWED_CALLEES, FORBIDDEN_CALLEES, GPL_COMPATIBLE_LICENSES } from "./bpf-allowlist.js";

export const OBJECT_LIMITS = {
  /** Findings listed before the rest are summed up. */
  maxFindings: 100,
} as const;

export type ObjectFindingCode =
  | "not_elf"
  | "not_bpf"
  | "malformed"
  | "helper_not_allowed"
  | "kfunc_not_allowed"
  | "indirect_call"
  | "ops_missing"
  | "license_missing"
  | "license_not_gpl";

export interface ObjectFinding {
  code: ObjectFindingCode;
  message: string;
  /** The program section and the instruction index within it, when the finding is a call. */
  section: string | null;
  instruction: number | null;
}

export interface ObjectCheckResult {
  ok: boolean;
  findings: ObjectFinding[];
  /** Allow-listed helpers and kfuncs the object calls, by name, sorted. */
  helpers: string[];
  kfuncs: string[];
  /** Sections holding BPF programs. */
  programSections: string[];
}

const EM_BPF = 247;
const SHT_SYMTAB = 2;
const SHT_REL = 9;
const SHF_EXECINSTR = 0x4;
const SHN_UNDEF = 0;
const BPF_CALL = 0x85; // BPF_JMP | BPF_CALL | BPF_K
const BPF_CALLX = 0x8d; // BPF_JMP | BPF_CALL | BPF_X
const BPF_PSEUDO_CALL = 1;
const INSN_BYTES = 8;
const OPS_SECTION = ".struct_ops.link";
const LICENSE_SECTION = "license";
const SHT_NOBITS = 8;

/** Allow-listed helpers by their UAPI number. */
const HELPERS_BY_ID = new Map(
  Object.entries(ALLOWED_CALLEES)
    .filter(([, c]) => c.kind === "helper" && c.helperId !== undefined)
    .map(([name, c]) => [c.helperId!, name]),
);

interface Section {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
}

interface ElfSymbol {
  name: string;
  shndx: number;
}

class Malformed extends Error {}

/**
 * Judges every call in a compiled BPF object against the allow-list.
 *
 * @example checkBpfObject(new Uint8Array(await (await fetch(objectUrl)).arrayBuffer())).ok
 */
export function checkBpfObject(bytes: Uint8Array): ObjectCheckResult {
  const findings: ObjectFinding[] = [];
  const used = { helpers: new Set<string>(), kfuncs: new Set<string>() };
  const result = (programSections: string[]): ObjectCheckResult => {
    const listed = findings.slice(0, OBJECT_LIMITS.maxFindings);
    if (findings.length > listed.length) {
      listed.push({
        code: "malformed",
        message: `${findings.length - listed.length} more findings are not listed`,
        section: null,
        instruction: null,
      });
    }
    return {
      ok: findings.length === 0,
      findings: listed,
      helpers: [...used.helpers].sort(),
      kfuncs: [...used.kfuncs].sort(),
      programSections,
    };
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 64 || view.getUint32(0, false) !== 0x7f454c46) {
    findings.push({
      code: "not_elf",
      message: "not an ELF file",
      section: null,
      instruction: null,
    });
    return result([]);
  }
  if (bytes[4] !== 2 || bytes[5] !== 1 || view.getUint16(18, true) !== EM_BPF) {
    findings.push({
      code: "not_bpf",
      message: "not a 64-bit little-endian BPF object (e_machine EM_BPF)",
      section: null,
      instruction: null,
    });
    return result([]);
  }
  let sections: Section[];
  let symbols: ElfSymbol[];
  try {
    sections = readSections(bytes, view);
    symbols = readSymbols(bytes, view, sections);
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    findings.push({ code: "malformed", message: error.message, section: null, instruction: null });
    return result([]);
  }
  const programs = sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0);
  for (const program of programs) {
    // Relocations of this section: instruction offset → symbol.
    const relocated = new Map<number, ElfSymbol>();
    for (const rel of sections.filter((s) => s.type === SHT_REL && s.info === program.index)) {
      for (let at = rel.offset; at + 16 <= rel.offset + rel.size; at += 16) {
        const offset = Number(view.getBigUint64(at, true));
        const symbolIndex = Number(view.getBigUint64(at + 8, true) >> 32n);
        const symbol = symbols[symbolIndex];
        if (symbol) relocated.set(offset, symbol);
      }
    }
    for (let i = 0; i * INSN_BYTES + INSN_BYTES <= program.size; i++) {
      const at = program.offset + i * INSN_BYTES;
      const code = bytes[at]!;
      const where = { section: program.name, instruction: i };
      if (code === BPF_CALLX) {
        findings.push({ code: "indirect_call", message: "a call through a register", ...where });
        continue;
      }
      if (code !== BPF_CALL) continue;
      const srcReg = bytes[at + 1]! >> 4;
      const imm = view.getInt32(at + 4, true);
      const symbol = relocated.get(i * INSN_BYTES);
      if (symbol) {
        if (symbol.shndx !== SHN_UNDEF) continue; // a function of this object
        const allowed = ALLOWED_CALLEES[symbol.name];
        if (allowed?.kind === "kfunc") {
          used.kfuncs.add(symbol.name);
          continue;
        }
        const why = FORBIDDEN_CALLEES[symbol.name];
        findings.push({
          code: "kfunc_not_allowed",
          message: `calls ${symbol.name || "an unnamed extern"}${why ? `, which ${why}` : ", which is not an allow-listed kfunc"}`,
          ...where,
        });
        continue;
      }
      if (srcReg === BPF_PSEUDO_CALL) continue; // pc-relative call within the object
      const name = HELPERS_BY_ID.get(imm);
      if (name) {
        used.helpers.add(name);
        continue;
      }
      findings.push({
        code: "helper_not_allowed",
        message: `calls BPF helper number ${imm}, which is not on the allow-list`,
        ...where,
      });
    }
  }
  if (!sections.some((s) => s.name === OPS_SECTION)) {
    findings.push({
      code: "ops_missing",
      message: `no ${OPS_SECTION} section: the object registers no scheduler`,
      section: null,
      instruction: null,
    });
  }
  const license = sections.find((s) => s.name === LICENSE_SECTION && s.type !== SHT_NOBITS);
  if (!license || license.size === 0) {
    findings.push({
      code: "license_missing",
      message: `no ${LICENSE_SECTION} section: sched_ext's kfuncs and struct_ops programs need a GPL-compatible license`,
      section: null,
      instruction: null,
    });
  } else {
    const text = cString(bytes, license.offset, license.offset + license.size);
    if (!GPL_COMPATIBLE_LICENSES.has(text)) {
      findings.push({
        code: "license_not_gpl",
        message: `the license is "${text}": sched_ext's kfuncs and struct_ops programs need a GPL-compatible one`,
        section: LICENSE_SECTION,
        instruction: null,
      });
    }
  }
  return result(programs.map((p) => p.name));
}

function readSections(bytes: Uint8Array, view: DataView): Section[] {
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  if (shentsize !== 64 || shoff + shnum * 64 > bytes.byteLength || shstrndx >= shnum) {
    throw new Malformed("the section header table is out of bounds");
  }
  const raw = Array.from({ length: shnum }, (_, index) => {
    const at = shoff + index * 64;
    const s = {
      index,
      nameOffset: view.getUint32(at, true),
      type: view.getUint32(at + 4, true),
      flags: Number(view.getBigUint64(at + 8, true)),
      offset: Number(view.getBigUint64(at + 24, true)),
      size: Number(view.getBigUint64(at + 32, true)),
      link: view.getUint32(at + 40, true),
      info: view.getUint32(at + 44, true),
    };
    // SHT_NOBITS (8) occupies no file bytes.
    if (s.type !== 8 && s.offset + s.size > bytes.byteLength) {
      throw new Malformed(`section ${index} runs past the end of the file`);
    }
    return s;
  });
  const names = raw[shstrndx]!;
  return raw.map(({ nameOffset, ...s }) => ({
    ...s,
    name: cString(bytes, names.offset + nameOffset, names.offset + names.size),
  }));
}

function readSymbols(bytes: Uint8Array, view: DataView, sections: Section[]): ElfSymbol[] {
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return [];
  const strtab = sections[symtab.link];
  if (!strtab) throw new Malformed("the symbol table names no string table");
  const symbols: ElfSymbol[] = [];
  for (let at = symtab.offset; at + 24 <= symtab.offset + symtab.size; at += 24) {
    symbols.push({
      name: cString(bytes, strtab.offset + view.getUint32(at, true), strtab.offset + strtab.size),
      shndx: view.getUint16(at + 6, true),
    });
  }
  return symbols;
}

/** A NUL-terminated string at `start`, not reading past `end`. */
function cString(bytes: Uint8Array, start: number, end: number): string {
  let stop = start;
  while (stop < end && bytes[stop] !== 0) stop += 1;
  return new TextDecoder().decode(bytes.subarray(start, stop));
}
