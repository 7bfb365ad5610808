import { env } from "cloudflare:workers";
import {
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  type OAuthClientProvider,
  refreshAuthorization,
  registerClient,
  startAuthorization,
  UnauthorizedError,
} from "@modelcontextprotocol/sdk/client/auth.js";
import type {
  AuthorizationServerMetadata,
  OAuthClientInformationFull,
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { describe, expect, it } from "vitest";
import { call, newTenant, type TestTenant } from "../helpers";
import { connect, initializeBody, ORIGIN, rawPost, structured, workerFetch } from "./client";

const REDIRECT_URL = "http://localhost:9999/callback";
const CLIENT_METADATA: OAuthClientMetadata = {
  client_name: "Test MCP client",
  redirect_uris: [REDIRECT_URL],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
};

/** The SDK's OAuth client interface, keeping everything in memory, as a hosted client would. */
class MemoryOAuthClient implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = "";
  authorizationUrl: URL | undefined;
  readonly redirectUrl = REDIRECT_URL;
  readonly clientMetadata = CLIENT_METADATA;
  state() {
    return "state-123";
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** The cookies a response sets, as a Cookie request header. */
function cookiesOf(res: Response): string {
  // Our cookies are all `__Host-…`, so a comma before one separates two of them.
  return (res.headers.get("set-cookie") ?? "")
    .split(/,\s*(?=__Host-)/)
    .map((c) => c.split(";")[0])
    .join("; ");
}

function hidden(html: string, name: string): string {
  const value = new RegExp(`name=${name} value="([^"]*)"`).exec(html)?.[1];
  if (value === undefined) throw new Error(`no ${name} in the consent page:\n${html}`);
  return value.replaceAll("&#38;", "&").replaceAll("&#61;", "=");
}

interface ConsentForm {
  page: Response;
  html: string;
  cookie: string;
  handle: string;
  query: string;
}

/** Opens the consent page the way a browser follows the client's authorization URL. */
async function openConsent(authorizationUrl: URL | string): Promise<ConsentForm> {
  const page = await workerFetch(String(authorizationUrl));
  const html = await page.clone().text();
  return {
    page,
    html,
    cookie: cookiesOf(page),
    handle: hidden(html, "handle"),
    query: hidden(html, "query"),
  };
}

/** Posts the consent form; returns the raw response (a 302 to the client on success). */
async function decide(
  form: ConsentForm,
  fields: { decision: "approve" | "deny"; apiKey?: string; role?: string },
): Promise<Response> {
  return workerFetch(`${ORIGIN}/oauth/authorize`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: form.cookie },
    body: new URLSearchParams({
      handle: form.handle,
      query: form.query,
      decision: fields.decision,
      api_key: fields.apiKey ?? "",
      role: fields.role ?? "reader",
    }),
  });
}

interface Authorized {
  code: string;
  verifier: string;
  client: OAuthClientInformationFull;
  metadata: AuthorizationServerMetadata;
}

/** Registers a client, opens the consent page and approves it with `apiKey` as `role`. */
async function authorizeWith(apiKey: string, role: string): Promise<Authorized> {
  const metadata = await discoverAuthorizationServerMetadata(ORIGIN, { fetchFn: workerFetch });
  if (!metadata) throw new Error("no authorization server metadata");
  const client = await registerClient(ORIGIN, {
    metadata,
    clientMetadata: CLIENT_METADATA,
    fetchFn: workerFetch,
  });
  const { authorizationUrl, codeVerifier } = await startAuthorization(ORIGIN, {
    metadata,
    clientInformation: client,
    redirectUrl: REDIRECT_URL,
    resource: new URL(ORIGIN),
    state: "s-1",
  });
  const approved = await decide(await openConsent(authorizationUrl), {
    decision: "approve",
    apiKey,
    role,
  });
  expect(approved.status).toBe(302);
  const code = new URL(approved.headers.get("location") ?? "").searchParams.get("code");
  if (!code) throw new Error(`no code in ${approved.headers.get("location")}`);
  return { code, verifier: codeVerifier, client, metadata };
}

function exchange(a: Authorized, verifier = a.verifier) {
  return exchangeAuthorization(ORIGIN, {
    metadata: a.metadata,
    clientInformation: a.client,
    authorizationCode: a.code,
    codeVerifier: verifier,
    redirectUri: REDIRECT_URL,
    resource: new URL(ORIGIN),
    fetchFn: workerFetch,
  });
}

function listToolsWith(token: string, url?: string) {
  return rawPost(
    { jsonrpc: "2.0", id: 1, method: "tools/list" },
    { authorization: `Bearer ${token}` },
    url,
  );
}

describe("OAuth for hosted MCP clients", () => {
  it("publishes authorization-server metadata: endpoints, PKCE S256, registration, role scopes", async () => {
    const res = await workerFetch(`${ORIGIN}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    const meta = (await res.json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/oauth/authorize`,
      token_endpoint: `${ORIGIN}/oauth/token`,
      registration_endpoint: `${ORIGIN}/oauth/register`,
      code_challenge_methods_supported: ["S256"],
      scopes_supported: ["edgekernel:admin", "edgekernel:operator", "edgekernel:reader"],
    });
    expect(meta.grant_types_supported).toEqual(
      expect.arrayContaining(["authorization_code", "refresh_token"]),
    );
    expect(meta.response_types_supported).toEqual(["code"]);
    const prm = (await (
      await workerFetch(`${ORIGIN}/.well-known/oauth-protected-resource`)
    ).json()) as Record<string, unknown>;
    expect(prm).toMatchObject({ resource: ORIGIN, authorization_servers: [ORIGIN] });
    // OAuth 2.1 needs TLS: plain http is served on loopback hosts (development) only.
    const local = await workerFetch("http://localhost:8787/.well-known/oauth-authorization-server");
    expect(((await local.json()) as { issuer: string }).issuer).toBe("http://localhost:8787");
    const plain = await workerFetch("http://ek.example/.well-known/oauth-authorization-server");
    expect(plain.status).toBe(404);
  });

  it("runs the SDK client's whole flow: 401 → register → consent with a key → code + PKCE → token → tools", async () => {
    const t = await newTenant();
    const oauth = new MemoryOAuthClient();
    // No token yet: the client discovers the server from the 401, registers, and asks to redirect.
    await expect(connect(undefined, { authProvider: oauth })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect(oauth.info?.client_id).toBeTruthy();
    const url = oauth.authorizationUrl;
    expect(url?.origin + (url?.pathname ?? "")).toBe(`${ORIGIN}/oauth/authorize`);
    expect(url?.searchParams.get("code_challenge_method")).toBe("S256");

    const form = await openConsent(url ?? "");
    expect(form.page.status).toBe(200);
    expect(form.page.headers.get("x-frame-options")).toBe("DENY");
    expect(form.html).toContain("Test MCP client");
    expect(form.html).toContain("<strong>localhost</strong>");
    const approved = await decide(form, {
      decision: "approve",
      apiKey: t.operator,
      role: "operator",
    });
    expect(approved.status).toBe(302);
    const back = new URL(approved.headers.get("location") ?? "");
    expect(back.origin + back.pathname).toBe(REDIRECT_URL);
    expect(back.searchParams.get("state")).toBe("state-123");
    expect(back.searchParams.get("iss")).toBe(ORIGIN);

    // The client trades the code (with its PKCE verifier) for tokens, then calls the tools.
    const transport = (await import("@modelcontextprotocol/sdk/client/streamableHttp.js"))
      .StreamableHTTPClientTransport;
    await new transport(new URL(`${ORIGIN}/mcp`), {
      fetch: workerFetch,
      authProvider: oauth,
    }).finishAuth(back.searchParams.get("code") ?? "");
    expect(oauth.saved?.access_token).toContain(":");
    expect(oauth.saved?.scope).toBe("edgekernel:operator");

    const client = await connect(undefined, { authProvider: oauth });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain("spawn_process");
    const p = structured<{ id: string; tenantId: string }>(
      await client.callTool({
        name: "spawn_process",
        arguments: { type: "assistant", goal: "via oauth", paused: true },
      }),
    );
    expect(p.tenantId).toBe(t.id);
    await client.close();

    // Audited as the approving key, through the OAuth client; the grant itself too.
    const audit = await call<{ items: Array<Record<string, unknown>> }>(
      "GET",
      `/v1/audit?actor=${t.keyIds.operator}`,
      { token: t.admin },
    );
    const [spawnRow, grantRow] = audit.body.items;
    expect(spawnRow).toMatchObject({
      action: "process.spawn",
      target: p.id,
      decision: "allow",
      detail: { via: "mcp", credential: "oauth", oauthClientId: oauth.info?.client_id },
    });
    expect(grantRow).toMatchObject({
      action: "oauth.grant",
      decision: "allow",
      target: oauth.info?.client_id,
      detail: { role: "operator" },
    });
  });

  it("binds the token to the role approved: a reader grant cannot spawn", async () => {
    const t = await newTenant();
    const tokens = await exchange(await authorizeWith(t.admin, "reader"));
    expect(tokens.scope).toBe("edgekernel:reader");
    const res = await rawPost(
      {
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "spawn_process", arguments: { type: "assistant", goal: "x" } },
      },
      { authorization: `Bearer ${tokens.access_token}` },
    );
    const body = (await res.json()) as {
      result: { isError: boolean; content: [{ text: string }] };
    };
    expect(body.result.isError).toBe(true);
    expect(body.result.content[0].text).toMatch(/^forbidden: .*reader/);
  });

  it("refuses approval by an unknown key, a reader key, or above the key's role, showing the form again", async () => {
    const t = await newTenant();
    const metadata = await discoverAuthorizationServerMetadata(ORIGIN, { fetchFn: workerFetch });
    const client = await registerClient(ORIGIN, {
      metadata,
      clientMetadata: CLIENT_METADATA,
      fetchFn: workerFetch,
    });
    const { authorizationUrl } = await startAuthorization(ORIGIN, {
      metadata,
      clientInformation: client,
      redirectUrl: REDIRECT_URL,
      resource: new URL(ORIGIN),
    });
    for (const [apiKey, role, status, message] of [
      ["ek_not-a-real-key", "reader", 401, "not accepted"],
      [t.reader, "reader", 403, "cannot approve"],
      [t.operator, "admin", 403, "at most that role"],
    ] as const) {
      const form = await openConsent(authorizationUrl);
      const res = await decide(form, { decision: "approve", apiKey, role });
      expect(res.status, apiKey).toBe(status);
      const html = await res.text();
      expect(html).toContain(message);
      expect(html).toContain("name=decision value=approve"); // the form, again
      expect(res.headers.get("location")).toBeNull();
    }
    const denied = await decide(await openConsent(authorizationUrl), { decision: "deny" });
    expect(denied.status).toBe(302);
    expect(new URL(denied.headers.get("location") ?? "").searchParams.get("error")).toBe(
      "access_denied",
    );
    const refusals = await call<{ items: Array<{ decision: string; status: number }> }>(
      "GET",
      `/v1/audit?action=oauth.grant`,
      { token: t.admin },
    );
    expect(refusals.body.items.map((r) => [r.decision, r.status])).toEqual([
      ["deny", 403],
      ["deny", 403],
    ]);
  });

  it("escapes what the client chose about itself on the consent page", async () => {
    const metadata = await discoverAuthorizationServerMetadata(ORIGIN, { fetchFn: workerFetch });
    const client = await registerClient(ORIGIN, {
      metadata,
      clientMetadata: { ...CLIENT_METADATA, client_name: '<script>alert("x")</script>' },
      fetchFn: workerFetch,
    });
    const { authorizationUrl } = await startAuthorization(ORIGIN, {
      metadata,
      clientInformation: client,
      redirectUrl: REDIRECT_URL,
      resource: new URL(ORIGIN),
    });
    const form = await openConsent(authorizationUrl);
    expect(form.html).not.toContain("<script>");
    expect(form.html).toContain("&#60;script&#62;alert(&#34;x&#34;)");
    expect(form.html).toContain("not verified");
  });

  it("refreshes an access token, rotating the refresh token", async () => {
    const t = await newTenant();
    const a = await authorizeWith(t.operator, "operator");
    const first = await exchange(a);
    expect(first.refresh_token).toBeTruthy();
    expect(first.expires_in).toBe(3600);
    const second = await refreshAuthorization(ORIGIN, {
      metadata: a.metadata,
      clientInformation: a.client,
      refreshToken: first.refresh_token ?? "",
      resource: new URL(ORIGIN),
      fetchFn: workerFetch,
    });
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await listToolsWith(second.access_token)).status).toBe(200);
  });

  it("rejects a wrong PKCE verifier and a reused code", async () => {
    const t = await newTenant();
    const wrong = await authorizeWith(t.operator, "operator");
    await expect(exchange(wrong, "x".repeat(43))).rejects.toThrow(/PKCE code_verifier/i);

    const right = await authorizeWith(t.operator, "operator");
    const tokens = await exchange(right);
    expect((await listToolsWith(tokens.access_token)).status).toBe(200);
    // A replayed code is refused and revokes its grant, so the token it issued stops working.
    await expect(exchange(right)).rejects.toThrow(/already used/i);
    expect((await listToolsWith(tokens.access_token)).status).toBe(401);
  });

  it("rejects unknown, foreign-origin, expired and orphaned tokens with 401 invalid_token", async () => {
    const t = await newTenant();
    const tokens = await exchange(await authorizeWith(t.operator, "operator"));
    const [userId, grantId, secret] = tokens.access_token.split(":");
    for (const token of [
      `${userId}:${grantId}:${"A".repeat(secret?.length ?? 32)}`,
      "key_unknown:grant:secret",
    ]) {
      const res = await listToolsWith(token);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
    expect((await listToolsWith(tokens.access_token)).status).toBe(200);
    // Bound to the origin that issued it.
    const elsewhere = await listToolsWith(tokens.access_token, "http://127.0.0.1:8787/mcp");
    expect(elsewhere.status).toBe(401);

    // Expired: move its stored expiry into the past (the provider checks it on every use).
    const kv = (env as unknown as { OAUTH_KV: KVNamespace }).OAUTH_KV;
    const listed = await kv.list({ prefix: `token:${userId}:${grantId}:` });
    expect(listed.keys).toHaveLength(1);
    const name = listed.keys[0]?.name ?? "";
    const record = (await kv.get(name, "json")) as { expiresAt: number };
    await kv.put(name, JSON.stringify({ ...record, expiresAt: Math.floor(Date.now() / 1000) - 1 }));
    const expired = await listToolsWith(tokens.access_token);
    expect(expired.status).toBe(401);

    // Revoking the approving key ends a fresh grant's access too.
    const fresh = await exchange(await authorizeWith(t.admin, "reader"));
    expect((await listToolsWith(fresh.access_token)).status).toBe(200);
    await call("DELETE", `/v1/keys/${t.keyIds.admin}`, { token: t.admin });
    const orphaned = await listToolsWith(fresh.access_token);
    expect(orphaned.status).toBe(401);
    expect(orphaned.headers.get("www-authenticate")).toContain("has been revoked");
  });

  it("keeps API keys working on /mcp beside OAuth tokens", async () => {
    const t: TestTenant = await newTenant();
    const res = await rawPost(initializeBody("2025-11-25"), {
      authorization: `Bearer ${t.reader}`,
    });
    expect(res.status).toBe(200);
  });
});
