// End-to-end with a REAL verifier, run by `npm run test:kernel` after the kernel check has
// installed qemu, clang and bpftool and cached the sched_ext kernel (too slow for `npm test`).
//
// 1. The README's rollout walk-through, verbatim (only BASE and ADMIN_TOKEN substituted), after
//    the prelude the main walk-through provides (its first lines: BASE, ADMIN_TOKEN, json(), a
//    tenant and an operator KEY): two real `edgekernel-host` processes over real WebSockets — a
//    verifier that compiles the policy, boots the sched_ext kernel in a qemu VM, loads it, runs a
//    workload under it and unloads it, and a dry-run node labelled tier=web — going enroll →
//    telemetry → verify → sign → canary → complete → rollback → history.
// 2. The version that real verifier signed, rolled out to a third host-agent (dry-run, on its own
//    copy of the sched_ext fixture /proc and /sys); once its canary is active, CPU pressure is
//    written into the copy's /proc/pressure/cpu and the rollout rolls back by itself.
//
// Every process this file starts runs in its own process group, killed whole afterwards (the
// verifier's qemu included). A failure prints the agents' logs.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { callApi, ROOT, startDevServer } from "../e2e/dev-server.mjs";
import { enrollHost, hostArgs, NODE_FIXTURE, runDryRunHost } from "../e2e/host-agent.mjs";

// Short intervals: prompt heartbeats and telemetry, so the guard sees a regression quickly.
const DEV_ARGS = [
  "--var",
  "FLEET_HEARTBEAT_INTERVAL_MS:1000",
  "--var",
  "FLEET_TELEMETRY_INTERVAL_MS:500",
];
/** Bounds the walk-through (a VM verification under TCG); not a performance threshold. */
const WALKTHROUGH_TIMEOUT_MS = 600_000;
/** Bounds each wait of the regression part on the 2-core CI machine. */
const WAIT_MS = 90_000;
/** How long a process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 3_000;

let server;
let scratch;
/** Process group ids this file started (each leader spawned detached). */
const groups = new Set();
let regressLog = "";

/** Every agent log the walk-through wrote (its mktemp dirs live under `scratch`), and ours. */
function agentLogs() {
  const parts = [];
  for (const entry of existsSync(scratch) ? readdirSync(scratch) : []) {
    const file = join(scratch, entry, "agent.log");
    if (existsSync(file)) parts.push(`--- ${file}\n${readFileSync(file, "utf8").slice(-8_000)}`);
  }
  if (regressLog) parts.push(`--- regression node (web-2)\n${regressLog.slice(-8_000)}`);
  return parts.join("\n") || "(no agent logs)";
}

async function killGroup(pgid) {
  const signal = (sig) => {
    try {
      process.kill(-pgid, sig);
      return true;
    } catch {
      return false; // the group is gone
    }
  };
  if (!signal("SIGTERM")) return groups.delete(pgid);
  const deadline = Date.now() + KILL_GRACE_MS;
  while (Date.now() < deadline) {
    if (!signal(0)) return groups.delete(pgid);
    await new Promise((r) => setTimeout(r, 100));
  }
  signal("SIGKILL");
  groups.delete(pgid);
}

/** Runs a bash script in its own process group; resolves with its status and output. */
function runScript(script, { cwd, env, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-euo", "pipefail", "-c", script], {
      cwd,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    groups.add(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, timedOut });
    });
  });
}

function api(key, method, path, body) {
  return callApi(server.base, key, method, path, body);
}

/** Runs a test body; a failure carries the agents' logs, so CI output says what they did. */
function withLogs(body) {
  return async (t) => {
    try {
      await body(t);
    } catch (error) {
      if (error instanceof Error && !error.message.includes("agent logs:"))
        error.message += `\nagent logs:\n${agentLogs()}`;
      throw error;
    }
  };
}

async function waitFor(what, check) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\nagent logs:\n${agentLogs()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The shell block between `<!-- NAME:start -->` and `<!-- NAME:end -->` in README.md. */
function readmeBlock(name) {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = new RegExp(
    `<!-- ${name}:start -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`,
  ).exec(readme);
  assert.ok(block, `README.md has a ${name} block`);
  return block[1];
}

before(async () => {
  server = await startDevServer({ args: DEV_ARGS });
  scratch = mkdtempSync(join(tmpdir(), "rollout-real-"));
});

after(async () => {
  for (const pgid of [...groups]) await killGroup(pgid);
  await server?.stop();
  // The walk-through's mktemp dirs and the verifier's VM work dirs live here.
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("a rollout with a real verifier (qemu) against wrangler dev", () => {
  let key;
  let policyId;

  it(
    "runs the README's rollout walk-through verbatim: verified in a VM, signed, completed, rolled back",
    withLogs(async (t) => {
      // The main walk-through's opening, up to its second step: BASE, ADMIN_TOKEN, json(), a
      // tenant and an operator KEY — what the rollout block continues from.
      const opening = readmeBlock("walkthrough").split(/^# 2\. /m)[0];
      assert.match(opening, /^KEY=/m, "the walk-through's opening creates KEY");
      const prelude = opening
        .replace(/^export BASE=.*$/m, `export BASE=${server.base}`)
        .replace(/^export ADMIN_TOKEN=.*$/m, `export ADMIN_TOKEN=${server.token}`);
      // After the block: what this test needs to look further through the API.
      const epilogue = `printf '\\nE2E_KEY=%s\\nE2E_POLICY=%s\\n' "$KEY" "$POLICY"`;
      const run = await runScript(
        `${prelude}\n${readmeBlock("rollout-walkthrough")}\n${epilogue}`,
        {
          cwd: ROOT,
          env: { ...process.env, TMPDIR: scratch },
          timeoutMs: WALKTHROUGH_TIMEOUT_MS,
        },
      );
      const shown = () =>
        `status ${run.status}${run.timedOut ? " (timed out)" : ""}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
      assert.equal(run.status, 0, `rollout walk-through failed: ${shown()}`);
      key = /^E2E_KEY=(\S+)$/m.exec(run.stdout)?.[1];
      policyId = /^E2E_POLICY=(\S+)$/m.exec(run.stdout)?.[1];
      assert.ok(key && policyId, shown());
      // Step 18 echoes the status the verification ended in.
      assert.match(run.stdout, /signed\n/, shown());

      // Signed after a real VM run: every stage passed, the kernel loaded it, tasks ran under it.
      const version = (await api(key, "GET", `/v1/policies/${policyId}/versions/1`)).body;
      assert.equal(version.status, "signed", JSON.stringify(version));
      const v = version.verification;
      assert.deepEqual(
        v.stages.map((s) => [s.stage, s.ok]),
        ["compile", "boot", "load", "workload", "unload"].map((stage) => [stage, true]),
        JSON.stringify(v),
      );
      assert.equal(v.ok, true);
      assert.equal(v.loaded, true);
      assert.ok(v.tasksScheduled > 0, JSON.stringify(v));
      assert.equal(v.ejected, false);
      assert.equal(v.unloadedCleanly, true);
      assert.notEqual(v.kernelRelease, "simulated");
      assert.equal(v.object.sha256, version.objectSha256);
      // For the CI log (no threshold): where the verification's time went.
      t.diagnostic(
        `verified on ${v.kernelRelease}: ${v.stages.map((s) => `${s.stage} ${(s.durationMs / 1000).toFixed(1)} s`).join(", ")}; ${v.tasksScheduled} tasks ran under it`,
      );

      // The rollout completed after its health window, then the operator rolled it back.
      const rollouts = (await api(key, "GET", "/v1/rollouts?limit=5")).body.items;
      const rollout = rollouts.find((r) => r.policyId === policyId);
      assert.ok(rollout, JSON.stringify(rollouts));
      assert.match(run.stdout, /"phase":"completed"/, shown());
      assert.equal(rollout.phase, "rolled_back", JSON.stringify(rollout));

      // History: per policy (canary → completed → rolling back → rolled back) and per node.
      const history = (await api(key, "GET", `/v1/policies/${policyId}/history?limit=100`)).body
        .items;
      const phases = history
        .filter((i) => i.kind === "rollout" && i.nodeId === null)
        .map((i) => i.to);
      for (const phase of ["canary", "completed", "rolling_back", "rolled_back"]) {
        assert.ok(phases.includes(phase), `history has ${phase}: ${JSON.stringify(history)}`);
      }
      const nodeHistory = (await api(key, "GET", "/v1/fleet/nodes/web-1/history?limit=100")).body
        .items;
      // The rollback reverted the node: it ran the version, then confirmed the revert.
      assert.deepEqual(
        rollout.nodes.map((n) => [n.nodeId, n.state]),
        [["web-1", "reverted"]],
        JSON.stringify(rollout),
      );
      const nodeStates = nodeHistory
        .filter((i) => i.kind === "rollout" && i.policyId === policyId)
        .map((i) => i.to);
      for (const state of ["active", "reverted"]) {
        assert.ok(
          nodeStates.includes(state),
          `web-1 history has ${state}: ${JSON.stringify(nodeHistory)}`,
        );
      }
    }),
  );

  it(
    "rolls the real-verified version back by itself on a PSI regression injected on its canary",
    withLogs(async (t) => {
      if (!key || !policyId) return t.skip("the walk-through did not sign a version");
      const root = join(scratch, "web-2");
      cpSync(NODE_FIXTURE, root, { recursive: true });
      const stateFile = join(root, "state.json");
      const token = await api(key, "POST", "/v1/fleet/enrollment-tokens", {
        labels: { tier: "web" },
      });
      assert.equal(token.status, 201, JSON.stringify(token.body));
      const enrolled = enrollHost({
        base: server.base,
        token: token.body.token,
        nodeId: "web-2",
        args: hostArgs({ stateFile, root }),
      });
      assert.equal(enrolled.status, 0, enrolled.stderr);
      const agent = runDryRunHost(
        hostArgs({ stateFile, root, artifactDir: join(root, "artifacts") }),
        (d) => {
          regressLog += d;
        },
        { detached: true },
      );
      groups.add(agent.pid);
      const node = await waitFor("web-2 online with telemetry", async () => {
        const res = await api(key, "GET", "/v1/fleet/nodes/web-2");
        return res.body?.status === "online" && res.body.lastTelemetry ? res.body : null;
      });
      assert.equal(node.dryRun, true);
      assert.equal(node.lastTelemetry.report.pressure.some.avg10Pct, 12.5);

      // The default guard (PSI some avg10 may not grow by half over 5 %); a window long enough
      // that the regression, not the window's end, decides.
      const created = await api(key, "POST", "/v1/rollouts", {
        policyId,
        version: 1,
        target: { nodeIds: ["web-2"] },
        canaryFraction: 1,
        healthWindowMs: 60_000,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.rolloutId;
      await waitFor("web-2 running the canary", async () => {
        const r = (await api(key, "GET", `/v1/rollouts/${id}`)).body;
        assert.ok(!["completed", "rolled_back"].includes(r.phase), JSON.stringify(r));
        return r.nodes[0]?.state === "active" ? r : null;
      });
      const running = (await api(key, "GET", "/v1/fleet/nodes/web-2")).body.running;
      assert.equal(running?.policyId, policyId, JSON.stringify(running));

      // CPU pressure on the canary jumps from 12.5 % to 80 %.
      writeFileSync(
        join(root, "proc", "pressure", "cpu"),
        "some avg10=80.00 avg60=40.00 avg300=10.00 total=90000000\nfull avg10=5.00 avg60=2.00 avg300=0.50 total=5000000\n",
      );
      const back = await waitFor("the automatic rollback", async () => {
        const r = (await api(key, "GET", `/v1/rollouts/${id}`)).body;
        assert.notEqual(r.phase, "completed", JSON.stringify(r));
        return r.phase === "rolled_back" ? r : null;
      });
      const failure = back.nodes[0].failure;
      // Either the control plane saw the regression first, or the node's own guard reverted it.
      assert.ok(
        ["regression", "guard_reverted"].includes(failure?.reason),
        JSON.stringify(back.nodes[0]),
      );
      await waitFor("web-2 back on the kernel's default", async () => {
        const n = (await api(key, "GET", "/v1/fleet/nodes/web-2")).body;
        return n.running === null;
      });
      const history = (await api(key, "GET", "/v1/fleet/nodes/web-2/history?limit=100")).body.items;
      const states = history.filter((i) => i.kind === "rollout").map((i) => i.to);
      assert.ok(states.includes("active"), `web-2 history has active: ${JSON.stringify(history)}`);
      const revoked = await api(key, "DELETE", "/v1/fleet/nodes/web-2");
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    }),
  );
});
