// End-to-end: the README's two commands' promise, checked over real HTTP against `wrangler dev`.
// The README's curl walk-through is extracted and run verbatim (only BASE and ADMIN_TOKEN are
// substituted), so the README cannot drift from what the system does.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ROOT, startDevServer } from "./dev-server.mjs";

let server;
before(async () => {
  server = await startDevServer();
});
after(() => server?.stop());

/** The shell block between the walkthrough markers in README.md. */
function walkthroughScript() {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(
    readme,
  );
  assert.ok(block, "README.md has a walkthrough block");
  return block[1];
}

/**
 * A GET on a connection of its own, its body parsed as JSON. Node's fetch reuses keep-alive
 * connections opened before the walk-through; the walk-through's curl requests take seconds, and
 * the server closes those idle connections meanwhile, so a fetch sent on one fails with "fetch
 * failed" before reaching the server (seen three times in CI, once even on fetch's retry, which
 * took another stale connection from its pool). A fresh connection cannot be stale; any failure
 * is thrown with its cause and the server's recent output.
 */
function getJsonFresh(url, headers) {
  const fail = (why) => new Error(`GET ${url}: ${why}\n${server.output().slice(-4000)}`);
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { headers, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => {
        body += chunk;
      });
      response.on("end", () => {
        try {
          resolve({ status: response.statusCode, body: JSON.parse(body) });
        } catch {
          reject(fail(`${response.statusCode}, not JSON: ${body.slice(0, 500)}`));
        }
      });
    });
    request.on("error", (error) => reject(fail(error)));
  });
}

describe("npm run dev", () => {
  it("creates a dev vars file with a random ADMIN_TOKEN and prints it", () => {
    assert.match(server.token ?? "", /^adm_[A-Za-z0-9_-]{43}$/);
    const vars = readFileSync(server.devVarsFile, "utf8");
    assert.ok(vars.includes(`ADMIN_TOKEN="${server.token}"`));
    assert.match(server.output(), /\/docs/);
  });

  it("serves the OpenAPI document and the docs page", async () => {
    const doc = await (await fetch(`${server.base}/openapi.json`)).json();
    assert.equal(doc.openapi, "3.1.0");
    const docs = await fetch(`${server.base}/docs`);
    assert.equal(docs.status, 200);
  });
});

// Before the walk-through: its curl requests take seconds, long enough for the server to close
// fetch's idle keep-alive connections, so nothing here sends on fetch's pool after it.
describe("errors over real HTTP", () => {
  it("answers problem+json with a request id for malformed JSON and unknown routes", async () => {
    const bad = await fetch(`${server.base}/v1/tenants`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      body: "{",
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get("content-type"), "application/problem+json");
    assert.equal((await bad.json()).code, "malformed_json");
    const missing = await fetch(`${server.base}/nowhere`);
    assert.equal(missing.status, 404);
    assert.ok(missing.headers.get("x-request-id"));
  });
});

describe("README walk-through", () => {
  it("runs verbatim: a scripted agent to exited; spawn → pause → resume → terminate; events; audit", () => {
    const script = walkthroughScript()
      .replace(/^export BASE=.*$/m, `export BASE=${server.base}`)
      .replace(/^export ADMIN_TOKEN=.*$/m, `export ADMIN_TOKEN=${server.token}`);
    // In a scratch directory: the walk-through downloads the artifact into report.md.
    const cwd = mkdtempSync(join(tmpdir(), "walkthrough-"));
    const run = spawnSync("bash", ["-euo", "pipefail", "-c", script], {
      encoding: "utf8",
      timeout: 120_000,
      cwd,
    });
    assert.equal(run.status, 0, `walk-through failed:\n${run.stdout}\n${run.stderr}`);
    const out = run.stdout;
    // The scripted agent exited with its result and usage; then paused, resumed, terminated, a 409.
    assert.match(out, /"status":"exited"/);
    assert.match(out, /"result":"3 incidents, all resolved"/);
    assert.match(out, /"usage":\{"tokensIn":[1-9]\d*,"tokensOut":[1-9]\d*/);
    const exited = out.indexOf('"status":"exited"');
    const paused = out.indexOf('"status":"paused"');
    const terminated = out.indexOf('"status":"terminated"');
    assert.ok(exited > 0 && paused > exited && terminated > paused, out);
    assert.match(out, /"pausedFrom":"waiting"/);
    assert.match(out, /"pool":"scripted"/);
    assert.match(out, /"code":"illegal_transition"/);
    assert.match(out, /"action":"process\.terminate"/);
    assert.match(out, /"event":"resume"/);
    // Two agents cooperated: the draft on the blackboard, the reviewer's report downloaded.
    assert.match(out, /"key":"draft","version":1/);
    assert.equal(
      readFileSync(join(cwd, "report.md"), "utf8"),
      "# Weekly report\n\n3 incidents, all resolved. Reviewed.\n",
    );
    assert.match(out, /# Weekly report/);
  });

  it("then has four spawns in the audit log, all allowed", async () => {
    const { status, body: audit } = await getJsonFresh(
      `${server.base}/v1/audit?action=process.spawn`,
      { authorization: `Bearer ${server.token}` },
    );
    assert.equal(status, 200, JSON.stringify(audit));
    assert.equal(audit.items.length, 4);
    assert.ok(audit.items.every((i) => i.decision === "allow"));
  });
});
