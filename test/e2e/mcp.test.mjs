// End-to-end: the MCP SDK's own client over Streamable HTTP against `wrangler dev`, over real
// HTTP, authenticated with a tenant API key — what a local MCP client configured from the
// README does. The scripted agent needs no model provider.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  registerClient,
  startAuthorization,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startDevServer } from "./dev-server.mjs";

let server;
let key;
let tenantId;

/** A JSON call to the HTTPS API as the system administrator. */
async function admin(path, body) {
  const res = await fetch(`${server.base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, `${path}: ${await res.clone().text()}`);
  return res.json();
}

async function connect(token) {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.base}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "edgekernel-e2e", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

before(async () => {
  server = await startDevServer();
  tenantId = (await admin("/v1/tenants", { name: "mcp-e2e" })).id;
  key = (await admin("/v1/keys", { tenantId, name: "mcp", role: "operator" })).secret;
});
after(() => server?.stop());

describe("MCP over wrangler dev", () => {
  it("lists the tools, spawns a scripted agent that runs to exit, and terminates a sleeping one", async () => {
    const client = await connect(key);
    assert.equal(client.getServerVersion()?.name, "edgekernel");
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of ["spawn_process", "get_process", "terminate_process", "list_agent_types"]) {
      assert.ok(names.includes(name), `${name} in ${names}`);
    }

    // A scripted agent: one thought, then finish(). It runs on its own to `exited`.
    const spawned = await client.callTool({
      name: "spawn_process",
      arguments: {
        type: "assistant",
        goal: "Summarise this week's incidents",
        script: [
          { text: "Reading the incident list." },
          { toolCalls: [{ name: "finish", arguments: { result: "3 incidents, all resolved" } }] },
        ],
      },
    });
    assert.ok(!spawned.isError, JSON.stringify(spawned.content));
    const id = spawned.structuredContent.id;
    let record;
    for (let i = 0; i < 100; i++) {
      record = (await client.callTool({ name: "get_process", arguments: { id } }))
        .structuredContent;
      if (record.status === "exited") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(record.status, "exited", JSON.stringify(record));
    assert.equal(record.result, "3 incidents, all resolved");

    // A long-running one: it sleeps for an hour until terminated.
    const sleeper = await client.callTool({
      name: "spawn_process",
      arguments: {
        type: "assistant",
        goal: "Watch the queue",
        script: [{ toolCalls: [{ name: "sleep", arguments: { ms: 3_600_000 } }] }],
      },
    });
    const sleeperId = sleeper.structuredContent.id;
    const terminated = await client.callTool({
      name: "terminate_process",
      arguments: { id: sleeperId, reason: "done for today" },
    });
    assert.ok(!terminated.isError, JSON.stringify(terminated.content));
    assert.equal(terminated.structuredContent.status, "terminated");
    assert.equal(terminated.structuredContent.exitReason, "done for today");
    await client.close();

    // The HTTPS API's audit log has both spawns and the terminate, marked as made over MCP.
    const audit = await (
      await fetch(`${server.base}/v1/audit?tenantId=${tenantId}`, {
        headers: { authorization: `Bearer ${server.token}` },
      })
    ).json();
    const actions = audit.items.filter((r) => r.detail?.via === "mcp").map((r) => r.action);
    assert.deepEqual(actions, ["process.terminate", "process.spawn", "process.spawn"]);
  });

  it("drives a process through one approval: it parks, the client approves, it runs on to exit", async () => {
    // A tenant policy parks every spawn a process makes until a person approves it.
    const adminKey = (await admin("/v1/keys", { tenantId, name: "mcp-admin", role: "admin" }))
      .secret;
    const put = await fetch(`${server.base}/v1/access-policies/spawn-needs-approval`, {
      method: "PUT",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        cedar:
          '@approval("required") forbid (principal is Process, action, resource) when { context.capability == "proc.spawn" } unless { context.approved };',
      }),
    });
    assert.ok(put.ok, await put.clone().text());

    const client = await connect(key);
    const spawned = await client.callTool({
      name: "spawn_process",
      arguments: {
        type: "coordinator",
        goal: "Delegate the report",
        script: [
          { toolCalls: [{ name: "spawn", arguments: { type: "assistant", goal: "Write it" } }] },
          { toolCalls: [{ name: "finish", arguments: { result: "delegated" } }] },
        ],
      },
    });
    assert.ok(!spawned.isError, JSON.stringify(spawned.content));
    const id = spawned.structuredContent.id;
    let record;
    for (let i = 0; i < 100; i++) {
      record = (await client.callTool({ name: "get_process", arguments: { id } }))
        .structuredContent;
      if (record.waitingOn?.kind === "approval") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(record.waitingOn?.kind, "approval", JSON.stringify(record));
    const approvalId = record.waitingOn.approvalId;

    const pending = await client.callTool({
      name: "list_approvals",
      arguments: { status: "pending" },
    });
    assert.ok(pending.structuredContent.items.some((a) => a.id === approvalId));
    const approved = await client.callTool({
      name: "approve_call",
      arguments: { id: approvalId, reason: "looks fine" },
    });
    assert.ok(!approved.isError, JSON.stringify(approved.content));
    assert.equal(approved.structuredContent.status, "approved");

    for (let i = 0; i < 100; i++) {
      record = (await client.callTool({ name: "get_process", arguments: { id } }))
        .structuredContent;
      if (record.status === "exited") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(record.status, "exited", JSON.stringify(record));
    assert.equal(record.result, "delegated");
    await client.close();
  });

  it("answers an unauthenticated call with 401 and the metadata URL on this origin", async () => {
    const res = await fetch(`${server.base}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(res.status, 401);
    assert.equal(
      res.headers.get("www-authenticate"),
      `Bearer resource_metadata="${server.base}/.well-known/oauth-protected-resource"`,
    );
    const meta = await (await fetch(`${server.base}/.well-known/oauth-protected-resource`)).json();
    assert.equal(meta.resource, server.base);
  });

  it("refuses a foreign browser origin and admits a loopback one in dev", async () => {
    for (const [origin, status] of [
      ["https://evil.example", 403],
      ["http://localhost:6274", 200],
    ]) {
      const res = await fetch(`${server.base}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          origin,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      assert.equal(res.status, status, origin);
    }
  });

  it("authorizes a hosted client with OAuth (code + PKCE, consent with a key) and serves it", async () => {
    const redirectUrl = "http://localhost:9999/callback";
    const metadata = await discoverAuthorizationServerMetadata(server.base);
    assert.equal(metadata.issuer, server.base);
    const client = await registerClient(server.base, {
      metadata,
      clientMetadata: {
        client_name: "e2e client",
        redirect_uris: [redirectUrl],
        token_endpoint_auth_method: "none",
      },
    });
    const { authorizationUrl, codeVerifier } = await startAuthorization(server.base, {
      metadata,
      clientInformation: client,
      redirectUrl,
      resource: new URL(server.base),
    });
    // What a browser does: open the consent page, keep its cookie, post the form.
    const page = await fetch(authorizationUrl);
    assert.equal(page.status, 200);
    const html = await page.text();
    const field = (name) =>
      new RegExp(`name=${name} value="([^"]*)"`)
        .exec(html)[1]
        .replaceAll("&#38;", "&")
        .replaceAll("&#61;", "=");
    const approved = await fetch(`${server.base}/oauth/authorize`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: page.headers.get("set-cookie").split(";")[0],
      },
      body: new URLSearchParams({
        handle: field("handle"),
        query: field("query"),
        api_key: key,
        role: "reader",
        decision: "approve",
      }),
    });
    assert.equal(approved.status, 302);
    const code = new URL(approved.headers.get("location")).searchParams.get("code");
    const tokens = await exchangeAuthorization(server.base, {
      metadata,
      clientInformation: client,
      authorizationCode: code,
      codeVerifier,
      redirectUri: redirectUrl,
      resource: new URL(server.base),
    });
    const mcp = await connect(tokens.access_token);
    const { tools } = await mcp.listTools();
    assert.ok(tools.some((t) => t.name === "get_process"));
    await mcp.close();
  });
});
