// End-to-end rollout: `wrangler dev` and two real `edgekernel-host` processes (dry-run, each on
// its own copy of the sched_ext fixture /proc and /sys, labelled tier=web) over real WebSockets:
// submit a policy → verify → signed → roll out (one canary) → promote → a PSI regression injected
// by rewriting one node's fixture /proc/pressure/cpu → automatic rollback, seen through the API.
//
// How verification is done here: the verifier node is SIMULATED by this test over a real
// WebSocket with a verifier credential — it takes the job, uploads the fifo built-in's object
// as the real toolchain compiled it (test/schedcp/bpf-objects/fifo.bpf.o) to the job's upload
// path, and reports a passing VM stage. The control plane's own object checks and Ed25519
// signing run for real. A real qemu/TCG verification takes minutes; the real kernel path
// (compile, boot, load, workload, unload in a VM) is covered by `npm run test:kernel`.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { callApi, pollUntil, ROOT, startDevServer } from "./dev-server.mjs";
import { enrollHost, hostArgs, NODE_FIXTURE, runDryRunHost } from "./host-agent.mjs";

const FIFO_OBJECT = readFileSync(join(ROOT, "test", "schedcp", "bpf-objects", "fifo.bpf.o"));
const DEV_ARGS = [
  "--var",
  "FLEET_HEARTBEAT_INTERVAL_MS:1000",
  "--var",
  "FLEET_TELEMETRY_INTERVAL_MS:500",
];
/** Bounds a wait on the 2-core CI machine; not a performance threshold. */
const WAIT_MS = 60_000;
const NODE_IDS = ["web-1", "web-2"];

let server;
let key;
const agents = [];
let log = "";
let verifierSocket;

function api(method, path, body, token = key) {
  return callApi(server.base, token, method, path, body);
}

function waitFor(what, check) {
  return pollUntil(what, check, {
    timeoutMs: WAIT_MS,
    pollMs: 200,
    context: () => `agent logs:\n${log}`,
  });
}

function enroll(nodeId, role, root, stateFile) {
  return api("POST", "/v1/fleet/enrollment-tokens", {
    role,
    labels: role === "node" ? { tier: "web" } : {},
  }).then((token) => {
    assert.equal(token.status, 201, JSON.stringify(token.body));
    const done = enrollHost({
      base: server.base,
      token: token.body.token,
      nodeId,
      role,
      args: hostArgs({ stateFile, root }),
    });
    assert.equal(done.status, 0, done.stderr);
  });
}

before(async () => {
  server = await startDevServer({ args: DEV_ARGS });
  const admin = server.token;
  const tenant = await api("POST", "/v1/tenants", { name: "rollout-e2e" }, admin);
  key = (
    await api(
      "POST",
      "/v1/keys",
      { tenantId: tenant.body.id, name: "ops", role: "operator" },
      admin,
    )
  ).body.secret;
});

after(async () => {
  verifierSocket?.close();
  for (const a of agents) a.kill("SIGTERM");
  await server?.stop();
});

describe("a rollout against wrangler dev with two host-agents", () => {
  const roots = {};

  it("two dry-run nodes on their own fixture trees come online with their labels", async () => {
    for (const nodeId of NODE_IDS) {
      const root = join(server.dir, nodeId);
      cpSync(NODE_FIXTURE, root, { recursive: true });
      roots[nodeId] = root;
      const stateFile = join(root, "state.json");
      await enroll(nodeId, "node", root, stateFile);
      const agent = runDryRunHost(
        hostArgs({ stateFile, root, artifactDir: join(root, "artifacts") }),
        (d) => {
          log += `[${nodeId}] ${d}`;
        },
      );
      agents.push(agent);
    }
    for (const nodeId of NODE_IDS) {
      const node = await waitFor(`${nodeId} online with telemetry`, async () => {
        const res = await api("GET", `/v1/fleet/nodes/${nodeId}`);
        return res.body?.status === "online" && res.body.lastTelemetry ? res.body : null;
      });
      assert.deepEqual(node.labels, { tier: "web" });
      assert.equal(node.dryRun, true);
      assert.equal(node.lastTelemetry.report.pressure.some.avg10Pct, 12.5);
    }
  });

  let policyId;

  it("submit → verify (simulated verifier, real object checks) → signed", async () => {
    const builtin = (await api("GET", "/v1/policies/spol_fifo")).body;
    const source = (await api("GET", "/v1/policies/spol_fifo/versions/1")).body.source;
    const created = await api("POST", "/v1/policies", {
      name: "my-fifo",
      description: builtin.description,
      algorithm: builtin.algorithm,
      useCases: builtin.useCases,
      tunables: builtin.tunables,
      limitations: builtin.limitations,
      opsName: builtin.opsName,
      source,
      parameters: {},
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    policyId = created.body.policy.id;

    const verifierRoot = join(server.dir, "verifier");
    cpSync(NODE_FIXTURE, verifierRoot, { recursive: true });
    const stateFile = join(verifierRoot, "state.json");
    await enroll("verifier-1", "verifier", verifierRoot, stateFile);
    const { credential } = JSON.parse(readFileSync(stateFile, "utf8"));
    const facts = (await api("GET", "/v1/fleet/nodes/web-1")).body.facts;
    verifierSocket = new WebSocket(`${server.base.replace(/^http/, "ws")}/v1/fleet/connect`, {
      headers: { authorization: `Bearer ${credential}` },
    });
    const frames = [];
    verifierSocket.on("message", (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => {
      verifierSocket.once("open", resolve);
      verifierSocket.once("error", reject);
    });
    verifierSocket.send(
      JSON.stringify({
        type: "hello",
        protocol: 1,
        agentVersion: "e2e-simulated-verifier",
        role: "verifier",
        labels: {},
        facts,
        running: null,
        dryRun: false,
      }),
    );
    await waitFor("welcome", async () => frames.some((f) => f.type === "welcome"));

    const started = api("POST", `/v1/policies/${policyId}/versions/1/verify`, {
      workloadMs: 1_000,
    });
    const command = await waitFor("the verify job", async () =>
      frames.find((f) => f.type === "command" && f.body.op === "verify"),
    );
    verifierSocket.send(
      JSON.stringify({ type: "ack", commandId: command.commandId, ok: true, error: null }),
    );
    assert.equal((await started).status, 202);
    const job = command.body.job;
    const sha256 = createHash("sha256").update(FIFO_OBJECT).digest("hex");
    const put = await fetch(`${server.base}${job.uploadPath}`, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${credential}`,
        "content-type": "application/octet-stream",
      },
      body: FIFO_OBJECT,
    });
    assert.equal(put.status, 201, await put.text());
    verifierSocket.send(
      JSON.stringify({
        type: "verify-result",
        result: {
          jobId: job.jobId,
          ok: true,
          stages: ["compile", "boot", "load", "workload", "unload"].map((stage) => ({
            stage,
            ok: true,
            durationMs: 1,
            log: `${stage}: simulated by the e2e test`,
          })),
          loaded: true,
          tasksScheduled: 1,
          ejected: false,
          ejectionReason: null,
          unloadedCleanly: true,
          kernelRelease: "simulated",
          object: { sha256, sizeBytes: FIFO_OBJECT.byteLength },
        },
      }),
    );
    const version = await waitFor("the version signed", async () => {
      const v = (await api("GET", `/v1/policies/${policyId}/versions/1`)).body;
      return v.status === "signed" ? v : null;
    });
    assert.equal(version.objectSha256, sha256);
  });

  it("canary → promote → PSI regression on a node → automatic rollback", async () => {
    const res = await api("POST", "/v1/rollouts", {
      policyId,
      version: 1,
      target: { labels: { tier: "web" } },
      canaryFraction: 0.5,
      healthWindowMs: 2_000,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const id = res.body.rolloutId;
    assert.equal(res.body.phase, "canary");
    const canary = res.body.nodes.find((n) => n.canary).nodeId;
    const promoted = res.body.nodes.find((n) => !n.canary).nodeId;

    const promoting = await waitFor("promotion", async () => {
      const r = (await api("GET", `/v1/rollouts/${id}`)).body;
      assert.notEqual(r.phase, "rolling_back", JSON.stringify(r));
      return r.phase === "promoting" ? r : null;
    });
    assert.equal(promoting.nodes.find((n) => n.nodeId === canary).state, "active");
    // The canary's host-agent deployed it (dry-run) and reports what it runs.
    const canaryNode = (await api("GET", `/v1/fleet/nodes/${canary}`)).body;
    assert.equal(canaryNode.running.policyId, policyId);

    await waitFor("the promoted node active", async () => {
      const r = (await api("GET", `/v1/rollouts/${id}`)).body;
      return r.nodes.every((n) => n.state === "active") ? r : null;
    });
    // CPU pressure on the promoted node jumps from 12.5 % to 80 %.
    writeFileSync(
      join(roots[promoted], "proc", "pressure", "cpu"),
      "some avg10=80.00 avg60=40.00 avg300=10.00 total=90000000\nfull avg10=5.00 avg60=2.00 avg300=0.50 total=5000000\n",
    );
    const back = await waitFor("the rollback", async () => {
      const r = (await api("GET", `/v1/rollouts/${id}`)).body;
      return r.phase === "rolled_back" ? r : null;
    });
    const failure = back.nodes.find((n) => n.nodeId === promoted).failure;
    // Either the control plane saw the regression first, or the node's own guard reverted it.
    assert.ok(["regression", "guard_reverted"].includes(failure.reason), JSON.stringify(failure));
    assert.match(back.phaseReason, /reverted|unconfirmed/);
    for (const nodeId of NODE_IDS) {
      await waitFor(`${nodeId} back on the kernel's default`, async () => {
        const node = (await api("GET", `/v1/fleet/nodes/${nodeId}`)).body;
        return node.running === null;
      });
    }
    const history = (await api("GET", `/v1/policies/${policyId}/history?limit=100`)).body.items;
    const phases = history
      .filter((i) => i.kind === "rollout" && i.nodeId === null)
      .map((i) => i.to);
    for (const phase of ["canary", "promoting", "rolling_back", "rolled_back"]) {
      assert.ok(phases.includes(phase), `history has ${phase}: ${phases.join(", ")}`);
    }
  });
});
