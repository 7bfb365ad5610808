/*
 * `npm run test:kernel`: the real-kernel check of issue 6. Installs the VM stage's host tools
 * from Debian when missing, fetches (or reuses) a sched_ext kernel, then runs the execution
 * verifier's VM stage on each built-in policy (loaded, tasks scheduled, no ejection, clean
 * unload) and on the kernel fixtures that must fail (two rejected by the kernel verifier, one
 * ejected by the watchdog). Prints a table; exits 1 on any unexpected outcome.
 *
 * Environment: EDGEKERNEL_CACHE_DIR (default ~/.cache/edgekernel), EDGEKERNEL_TEST_KERNEL_ONLY
 * (comma-separated case names, to run a subset while iterating).
 */
import { readFile } from "node:fs/promises";
import { BUILTIN_POLICIES, defaultParameters } from "../../src/schedcp/bpf/catalog.js";
import type { VerifyJob, VerifyResult } from "../src/protocol.js";
import { ensureHostPackages } from "../src/verifier/host-packages.js";
import { ensureKernel } from "../src/verifier/kernel.js";
import { defaultCacheDir, runVerifyJob } from "../src/verifier/run-verify-job.js";

interface Case {
  name: string;
  expect: string;
  job: VerifyJob;
  /** Returns null when the outcome is the expected one, else what is wrong. */
  judge: (result: VerifyResult) => string | null;
}

const started = performance.now();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const say = (line: string) =>
  console.log(`[${seconds(performance.now() - started).padStart(7)}] ${line}`);
const cacheDir = process.env.EDGEKERNEL_CACHE_DIR || defaultCacheDir();

function job(
  name: string,
  source: string,
  opsName: string,
  parameters: VerifyJob["parameters"],
  workloadMs: number,
): VerifyJob {
  return {
    jobId: `vjob_test_kernel_${name.replaceAll("-", "_")}`,
    policyId: `spol_${name.replaceAll("-", "_")}`,
    version: 1,
    source,
    parameters,
    opsName,
    workloadMs,
    uploadPath: "/v1/fleet/verify-jobs/test/object",
  };
}

const stageLog = (result: VerifyResult, stage: string) =>
  result.stages.find((s) => s.stage === stage)?.log ?? "";

async function fixture(name: string): Promise<string> {
  return readFile(new URL(`../test/kernel-fixtures/${name}.bpf.c`, import.meta.url), "utf8");
}

async function cases(): Promise<Case[]> {
  const builtins: Case[] = BUILTIN_POLICIES.map((policy) => ({
    name: policy.name,
    expect: "loads, schedules, unloads",
    job: job(policy.name, policy.source, policy.opsName, defaultParameters(policy), 5_000),
    judge: (r) => {
      if (!r.ok)
        return `not ok: ${r.stages
          .filter((s) => !s.ok)
          .map((s) => `${s.stage}: ${s.log.split("\n")[0]}`)
          .join("; ")}`;
      if (!r.loaded || r.tasksScheduled === 0 || r.ejected || !r.unloadedCleanly)
        return "ok without the evidence";
      return null;
    },
  }));
  const rejected = (name: string, opsName: string, message: string): Case => ({
    name,
    expect: `verifier: "${message}"`,
    job: { ...job(name, "", opsName, {}, 5_000) },
    judge: (r) => {
      const load = r.stages.find((s) => s.stage === "load");
      if (load === undefined) return `never reached the load stage (${r.stages.at(-1)?.stage})`;
      if (load.ok || r.loaded) return "the kernel accepted it";
      return load.log.includes(message) ? null : `rejected, but the log lacks "${message}"`;
    },
  });
  const mapCase = rejected("bad-map-access", "bad_map", "invalid access to map value");
  mapCase.job.source = await fixture("bad-map-access");
  const kfuncCase = rejected("bad-kfunc", "bad_kfunc", "is not allowed");
  kfuncCase.job.source = await fixture("bad-kfunc");
  const stall: Case = {
    name: "stall",
    expect: "ejected by the watchdog",
    job: job("stall", await fixture("stall"), "stall", {}, 15_000),
    judge: (r) => {
      if (!r.loaded) return "did not load";
      if (!r.ejected) return "not ejected";
      return /stall/.test(r.ejectionReason ?? "")
        ? null
        : `ejected for another reason: ${r.ejectionReason}`;
    },
  };
  return [...builtins, mapCase, kfuncCase, stall];
}

async function main(): Promise<number> {
  say(`cache: ${cacheDir}`);
  const packages = await ensureHostPackages({ cacheDir, log: say });
  say(
    packages.installed.length === 0
      ? `host tools present (${packages.tools.map((t) => `${t.name} ${t.detail}`).join("; ")}) in ${seconds(packages.durationMs)}`
      : `installed ${packages.installed.join(" ")} in ${seconds(packages.durationMs)}`,
  );
  const kernelStarted = performance.now();
  const kernel = await ensureKernel({ cacheDir, log: say });
  say(`kernel ${kernel.abi} ready in ${seconds(performance.now() - kernelStarted)}`);

  const only = (process.env.EDGEKERNEL_TEST_KERNEL_ONLY ?? "").split(",").filter(Boolean);
  const selected = (await cases()).filter((c) => only.length === 0 || only.includes(c.name));
  const rows: string[][] = [];
  let failures = 0;
  for (const c of selected) {
    const caseStarted = performance.now();
    say(`${c.name}: verifying (expect: ${c.expect})`);
    let verdict: string | null;
    let result: VerifyResult | null = null;
    try {
      result = (await runVerifyJob(c.job, { kernel })).result;
      verdict = c.judge(result);
    } catch (error) {
      verdict = `threw: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (verdict !== null) failures += 1;
    const r = result;
    const evidence =
      r === null
        ? ""
        : r.ejected
          ? `ejected: ${r.ejectionReason}`
          : !r.loaded && r.stages.some((s) => s.stage === "load")
            ? (stageLog(r, "load").split("\n")[0] ?? "")
            : `${r.tasksScheduled} tasks ran under it; unload ${r.unloadedCleanly ? "clean" : "NOT clean"}`;
    rows.push([
      c.name,
      c.expect,
      verdict === null ? "PASS" : `FAIL (${verdict})`,
      r === null
        ? "-"
        : r.stages
            .map((s) => `${s.stage} ${s.ok ? "ok" : "no"} ${seconds(s.durationMs)}`)
            .join(", "),
      seconds(performance.now() - caseStarted),
      evidence.slice(0, 160),
    ]);
    say(`${c.name}: ${verdict === null ? "PASS" : `FAIL: ${verdict}`}`);
    if (verdict !== null && r !== null) {
      for (const s of r.stages)
        console.log(`--- ${s.stage} (${s.ok ? "ok" : "failed"})\n${s.log.slice(-4_000)}`);
    }
  }
  const header = ["case", "expected", "outcome", "stages", "time", "evidence"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  console.log();
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
  console.log();
  say(`total ${seconds(performance.now() - started)}`);
  console.log(`${selected.length - failures} passed, ${failures} failed`);
  return failures === 0 && selected.length > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
