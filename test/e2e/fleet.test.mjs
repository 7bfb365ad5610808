// End-to-end: a real `edgekernel-host` process (dry-run, on the fixture /proc and /sys of a
// sched_ext node) against `wrangler dev` over a real WebSocket: it enrolls, connects, streams
// telemetry, acknowledges a command, and reconnects by itself after the dev server is stopped
// and started again on the same port and state directory.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { callApi, pollUntil, ROOT, startDevServer } from "./dev-server.mjs";
import { enrollHost, HOST_BIN, hostArgs, NODE_FIXTURE, runDryRunHost } from "./host-agent.mjs";

// Short intervals so the test sees several reports and a prompt heartbeat sweep.
const DEV_ARGS = [
  "--var",
  "FLEET_HEARTBEAT_INTERVAL_MS:1000",
  "--var",
  "FLEET_TELEMETRY_INTERVAL_MS:500",
];
/** Bounds a wait on the 2-core CI machine; not a performance threshold. */
const WAIT_MS = 120_000;

let server;
let agent;
let agentLog = "";
let key;
let stateFile;

function api(method, path, body, token = key) {
  return callApi(server.base, token, method, path, body);
}

function waitFor(what, check) {
  return pollUntil(what, check, {
    timeoutMs: WAIT_MS,
    pollMs: 250,
    context: () => `agent log:\n${agentLog}`,
  });
}

/** Resolves once nothing accepts connections on the port. */
async function portFree(port) {
  await waitFor(
    `port ${port} to close`,
    () =>
      new Promise((resolve) => {
        const socket = connect(port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve(false);
        });
        socket.once("error", () => resolve(true));
      }),
  );
}

function nodeArgs() {
  return hostArgs({
    stateFile,
    root: NODE_FIXTURE,
    artifactDir: join(server.dir, "node", "artifacts"),
  });
}

before(async () => {
  server = await startDevServer({ args: DEV_ARGS });
  stateFile = join(server.dir, "node", "state.json");
  const admin = server.token;
  const tenant = await api("POST", "/v1/tenants", { name: "fleet-e2e" }, admin);
  const created = await api(
    "POST",
    "/v1/keys",
    { tenantId: tenant.body.id, name: "ops", role: "operator" },
    admin,
  );
  key = created.body.secret;
});

after(async () => {
  agent?.kill("SIGTERM");
  await server?.stop();
});

describe("a host-agent against wrangler dev", () => {
  it("npm run dev made a POLICY_SIGNING_KEY in the dev vars file, served as the fleet's public key", async () => {
    const vars = readFileSync(server.devVarsFile, "utf8");
    assert.match(vars, /^POLICY_SIGNING_KEY="[A-Za-z0-9_-]{64}"$/m);
    const res = await fetch(`${server.base}/v1/fleet/signing-key`);
    assert.equal(res.status, 200);
    assert.match((await res.json()).keyId, /^[0-9a-f]{16}$/);
  });

  it("enrolls with a one-time token, connects, streams telemetry and acks a command", async () => {
    const token = await api("POST", "/v1/fleet/enrollment-tokens", { labels: { tier: "canary" } });
    assert.equal(token.status, 201, JSON.stringify(token.body));
    const enrolled = enrollHost({
      base: server.base,
      token: token.body.token,
      nodeId: "e2e-1",
      args: nodeArgs(),
    });
    assert.equal(enrolled.status, 0, enrolled.stderr);
    assert.equal(JSON.parse(enrolled.stdout).nodeId, "e2e-1");
    assert.equal(statSync(stateFile).mode & 0o777, 0o600);
    // The token was spent: a second node cannot use it.
    const again = spawnSync(
      HOST_BIN,
      [
        "enroll",
        "--token",
        token.body.token,
        "--control-plane-url",
        server.base,
        "--state-file",
        join(server.dir, "other.json"),
      ],
      { encoding: "utf8" },
    );
    assert.equal(again.status, 1);
    assert.match(again.stderr, /credential_used/);

    agent = runDryRunHost(nodeArgs(), (d) => {
      agentLog += d;
    });

    const node = await waitFor("the node to be online", async () => {
      const res = await api("GET", "/v1/fleet/nodes/e2e-1");
      return res.body?.status === "online" ? res.body : null;
    });
    assert.deepEqual(node.labels, { tier: "canary" });
    assert.equal(node.dryRun, true);
    assert.equal(node.facts.hostname, "scx-node-1");

    await waitFor("two telemetry reports", async () => {
      const res = await api("GET", "/v1/fleet/nodes/e2e-1/telemetry?limit=5");
      return res.body.items.length >= 2 ? res.body : null;
    });

    const command = await api("POST", "/v1/fleet/commands", {
      target: { selector: { labels: { tier: "canary" } } },
      command: { op: "revert", reason: "e2e" },
      timeoutMs: 30_000,
    });
    assert.equal(command.status, 200, JSON.stringify(command.body));
    assert.deepEqual(
      command.body.results.map((r) => [r.nodeId, r.status]),
      [["e2e-1", "acked"]],
    );
  });

  it("reconnects by itself after the control plane restarts on the same port and state", async () => {
    const keyBefore = await (await fetch(`${server.base}/v1/fleet/signing-key`)).json();
    const seqBefore = (await api("GET", "/v1/fleet/nodes/e2e-1/telemetry?limit=1")).body.items[0]
      .seq;
    const { dir, port } = server;
    await server.stop({ keepState: true });
    await portFree(port);
    await waitFor("the agent to notice", async () => /disconnected/.test(agentLog));

    server = await startDevServer({ dir, port, args: DEV_ARGS });
    const keyAfter = await (await fetch(`${server.base}/v1/fleet/signing-key`)).json();
    assert.equal(keyAfter.keyId, keyBefore.keyId, "the dev vars file kept the signing key");
    await waitFor(
      "a second connection",
      async () => (agentLog.match(/connected to /g) ?? []).length >= 2,
    );
    await waitFor("the node online again", async () => {
      const res = await api("GET", "/v1/fleet/nodes/e2e-1");
      return res.body?.status === "online";
    });
    await waitFor("telemetry after the restart", async () => {
      const res = await api("GET", "/v1/fleet/nodes/e2e-1/telemetry?limit=1");
      return res.body.items[0]?.seq > seqBefore;
    });
    const command = await api("POST", "/v1/fleet/commands", {
      target: { nodeIds: ["e2e-1"] },
      command: { op: "revert", reason: "after restart" },
    });
    assert.equal(command.body.counts.acked, 1, JSON.stringify(command.body));
    assert.equal(agent.exitCode, null, "the agent kept running");
  });

  it("stops the agent with exit 1 when its credential is revoked", async () => {
    const exited =
      agent.exitCode !== null
        ? Promise.resolve(agent.exitCode)
        : new Promise((resolve) => agent.once("exit", resolve));
    const revoked = await api("DELETE", "/v1/fleet/nodes/e2e-1");
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    const code = await Promise.race([
      exited,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`the agent did not exit\n${agentLog}`)), WAIT_MS),
      ),
    ]);
    assert.equal(code, 1, agentLog);
    assert.match(agentLog, /revoked/);
  });
  it("runs the README's fleet walk-through verbatim", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block =
      /<!-- fleet-walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- fleet-walkthrough:end -->/.exec(
        readme,
      );
    assert.ok(block, "README.md has a fleet walk-through block");
    // What the main walk-through defined before it: the server, an operator key, json().
    const prelude = [
      `export BASE=${server.base}`,
      `export KEY=${key}`,
      `json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(eval("JSON.parse(s)"+process.argv[1])))' "$1"; }`,
    ].join("\n");
    const run = spawnSync("bash", ["-euo", "pipefail", "-c", `${prelude}\n${block[1]}`], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: WAIT_MS,
      env: { ...process.env, TMPDIR: mkdtempSync(join(tmpdir(), "fleet-walkthrough-")) },
    });
    assert.equal(run.status, 0, `fleet walk-through failed:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /"nodeId": "demo-1"/);
    assert.match(run.stdout, /"id":"demo-1"[^\n]*"status":"online"/);
    assert.match(run.stdout, /"status":"acked"/);
    assert.match(run.stdout, /"revokedAt":"20/);
  });
});
