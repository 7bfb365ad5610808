import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BOARD_LIMITS } from "../../src/kernel/agent/tools/board";
import {
  call,
  defineType,
  ended,
  finishTurn,
  newTenant,
  spawn,
  spawnIdle,
  until,
} from "../helpers";
import { connect, structured } from "../mcp/client";

type Artifact = {
  id: string;
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  labels: Record<string, string>;
  retention: string;
  processId: string | null;
  createdBy: string;
  contentUrl: string;
};
type Problem = { code: string; errors?: Array<{ path: string }> };

const blobs = (env as unknown as { BLOBS: R2Bucket }).BLOBS;

/** Raw fetch into the Worker (for byte bodies and byte replies). */
async function raw(
  method: string,
  path: string,
  token: string,
  init: { body?: BodyInit; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  return (exports as unknown as { default: Fetcher }).default.fetch(
    `https://edgekernel.test${path}`,
    { method, headers, body: init.body },
  );
}

async function upload(
  token: string,
  query: string,
  body: BodyInit,
  contentType = "text/plain",
): Promise<{ status: number; body: Artifact & Problem }> {
  const res = await raw("POST", `/v1/artifacts?${query}`, token, {
    body,
    headers: { "content-type": contentType },
  });
  return { status: res.status, body: (await res.json()) as Artifact & Problem };
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Deterministic pseudo-random bytes, so a byte-exact comparison means something. */
function bytesOf(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe("artifacts: bytes in, bytes out", () => {
  it("stores a large artifact and serves it byte-exact, with type, length, ETag and range reads", async () => {
    const t = await newTenant("art");
    const size = 5 * 1024 * 1024 + 123;
    const bytes = bytesOf(size);
    const created = await upload(
      t.operator,
      "name=dataset.bin&label=kind=dataset",
      bytes,
      "application/x-dataset",
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "dataset.bin",
      contentType: "application/x-dataset",
      sizeBytes: size,
      sha256: await sha256(bytes),
      labels: { kind: "dataset" },
      retention: "keep",
      processId: null,
    });

    const whole = await raw("GET", created.body.contentUrl, t.reader);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("application/x-dataset");
    expect(whole.headers.get("content-length")).toBe(String(size));
    expect(whole.headers.get("etag")).toBe(`"${created.body.sha256}"`);
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    const got = new Uint8Array(await whole.arrayBuffer());
    expect(got.byteLength).toBe(size);
    expect(await sha256(got)).toBe(created.body.sha256);

    const mid = 3 * 1024 * 1024 + 5;
    const ranged = await raw("GET", created.body.contentUrl, t.reader, {
      headers: { range: `bytes=${mid}-${mid + 999}` },
    });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes ${mid}-${mid + 999}/${size}`);
    expect(ranged.headers.get("content-length")).toBe("1000");
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(bytes.slice(mid, mid + 1000));

    const suffix = await raw("GET", created.body.contentUrl, t.reader, {
      headers: { range: "bytes=-10" },
    });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(bytes.slice(size - 10));

    const open = await raw("GET", created.body.contentUrl, t.reader, {
      headers: { range: `bytes=${size - 3}-` },
    });
    expect(open.status).toBe(206);
    expect(open.headers.get("content-range")).toBe(`bytes ${size - 3}-${size - 1}/${size}`);

    const past = await raw("GET", created.body.contentUrl, t.reader, {
      headers: { range: `bytes=${size}-` },
    });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${size}`);
    expect(((await past.json()) as Problem).code).toBe("range_not_satisfiable");

    const cached = await raw("GET", created.body.contentUrl, t.reader, {
      headers: { "if-none-match": `"${created.body.sha256}"` },
    });
    expect(cached.status).toBe(304);

    const meta = await call<Artifact>("GET", `/v1/artifacts/${created.body.id}`, {
      token: t.reader,
    });
    expect(meta.body).toEqual(created.body);
  });

  it("accepts an empty artifact and defaults the content type", async () => {
    const t = await newTenant("art");
    const res = await raw("POST", "/v1/artifacts?name=empty", t.operator);
    const body = (await res.json()) as Artifact;
    expect(res.status).toBe(201);
    expect(body).toMatchObject({ sizeBytes: 0, contentType: "application/octet-stream" });
    const content = await raw("GET", body.contentUrl, t.reader);
    expect(content.status).toBe(200);
    expect((await content.arrayBuffer()).byteLength).toBe(0);
  });

  it("refuses an artifact over the limit while streaming it (413), storing nothing", async () => {
    const t = await newTenant("art");
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > BOARD_LIMITS.artifactBytes) controller.close();
        else {
          sent += chunk.byteLength;
          controller.enqueue(chunk);
        }
      },
    });
    const res = await raw("POST", "/v1/artifacts?name=huge", t.operator, {
      body: stream,
      headers: { "content-type": "application/octet-stream" },
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as Problem).code).toBe("payload_too_large");
    const list = await call<{ items: unknown[] }>("GET", "/v1/artifacts", { token: t.reader });
    expect(list.body.items).toHaveLength(0);
    const left = await blobs.list({ prefix: `art/${t.id}/` });
    expect(left.objects).toHaveLength(0);
  });
  it("refuses at once an upload whose Content-Length is over the limit", async () => {
    const t = await newTenant("art");
    const declared = BOARD_LIMITS.artifactBytes + 1;
    const chunk = new Uint8Array(1024 * 1024);
    let sent = 0;
    // Produces exactly the declared bytes, lazily: a server that refuses early reads few.
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const n = Math.min(chunk.byteLength, declared - sent);
        if (n === 0) return controller.close();
        sent += n;
        controller.enqueue(chunk.subarray(0, n));
      },
    });
    const res = await raw("POST", "/v1/artifacts?name=declared-huge", t.operator, {
      body: stream,
      headers: { "content-type": "application/octet-stream", "content-length": String(declared) },
    });
    expect(res.status).toBe(413);
    const problem = (await res.json()) as Problem & { limitBytes: number };
    expect(problem).toMatchObject({
      code: "payload_too_large",
      limitBytes: BOARD_LIMITS.artifactBytes,
    });
  });
});

describe("artifacts: listing", () => {
  it("filters by producer, content type (exact or major/*) and labels, newest first, paginated", async () => {
    const t = await newTenant("art");
    const p = await spawnIdle(t.operator);
    const a = await upload(
      t.operator,
      `name=a.md&processId=${p.id}&label=team=sre`,
      "# a",
      "text/markdown",
    );
    const b = await upload(
      t.operator,
      "name=b.csv&label=team=sre&label=kind=data",
      "x,y",
      "text/csv",
    );
    const c = await upload(t.operator, "name=c.json&label=team=web", "{}", "application/json");
    for (const r of [a, b, c]) expect(r.status).toBe(201);
    type APage = { items: Artifact[]; nextCursor: string | null };
    const names = async (q: string) =>
      (await call<APage>("GET", `/v1/artifacts?${q}`, { token: t.reader })).body.items.map(
        (i) => i.name,
      );
    expect(await names("")).toEqual(["c.json", "b.csv", "a.md"]);
    expect(await names(`processId=${p.id}`)).toEqual(["a.md"]);
    expect(await names("type=text/csv")).toEqual(["b.csv"]);
    expect(await names("type=text/*")).toEqual(["b.csv", "a.md"]);
    expect(await names("label=team=sre")).toEqual(["b.csv", "a.md"]);
    expect(await names("label=team=sre&label=kind=data")).toEqual(["b.csv"]);
    expect(await names("label=team=none")).toEqual([]);
    const first = await call<APage>("GET", "/v1/artifacts?limit=2", { token: t.reader });
    expect(first.body.items.map((i) => i.name)).toEqual(["c.json", "b.csv"]);
    const rest = await call<APage>(`GET`, `/v1/artifacts?limit=2&cursor=${first.body.nextCursor}`, {
      token: t.reader,
    });
    expect(rest.body.items.map((i) => i.name)).toEqual(["a.md"]);
    expect(rest.body.nextCursor).toBeNull();
    expect(
      (await call<Problem>("GET", "/v1/artifacts?label=nokey", { token: t.reader })).status,
    ).toBe(422);
  });
});

describe("artifacts: edges", () => {
  it("answers another tenant's artifact ids, unknown ids and malformed ids with 404", async () => {
    const a = await newTenant("art");
    const b = await newTenant("art");
    const made = await upload(a.operator, "name=secret.txt", "top secret");
    const id = made.body.id;
    expect((await call("GET", `/v1/artifacts/${id}`, { token: b.reader })).status).toBe(404);
    expect((await raw("GET", `/v1/artifacts/${id}/content`, b.reader)).status).toBe(404);
    expect((await call("DELETE", `/v1/artifacts/${id}`, { token: b.operator })).status).toBe(404);
    const unknown = `art_${"0".repeat(32)}`;
    expect((await call("GET", `/v1/artifacts/${unknown}`, { token: a.reader })).status).toBe(404);
    expect((await call("GET", "/v1/artifacts/nope", { token: a.reader })).status).toBe(404);
    expect((await call("GET", `/v1/artifacts/${id}`, { token: a.reader })).status).toBe(200);
  });

  it("refuses a missing name, bad labels, a bad content type, a foreign process and with_process without one", async () => {
    const t = await newTenant("art");
    const other = await newTenant("art");
    const foreign = await spawnIdle(other.operator);
    const noName = await upload(t.operator, "", "x");
    expect(noName.status).toBe(422);
    expect(noName.body.errors?.[0]?.path).toBe("name");
    expect((await upload(t.operator, "name=x&label=Bad Key=1", "x")).status).toBe(422);
    expect((await upload(t.operator, "name=x&retention=forever", "x")).status).toBe(422);
    expect((await upload(t.operator, "name=x", "x", "not a type")).status).toBe(422);
    const foreignProc = await upload(t.operator, `name=x&processId=${foreign.id}`, "x");
    expect(foreignProc.status).toBe(422);
    expect(foreignProc.body.errors?.[0]?.path).toBe("processId");
    const orphan = await upload(t.operator, "name=x&retention=with_process", "x");
    expect(orphan.status).toBe(422);
    expect(orphan.body.errors?.[0]?.path).toBe("retention");
    expect((await upload(t.reader, "name=x", "x")).status).toBe(403);
    // A JSON body is just content here: the JSON guard does not apply to artifact uploads.
    const jsonish = await upload(t.operator, "name=x.json", "{not json", "application/json");
    expect(jsonish.status).toBe(201);
    const list = await call<{ items: unknown[] }>("GET", "/v1/artifacts", { token: t.reader });
    expect(list.body.items).toHaveLength(1);
  });

  it("deletes an artifact: metadata and bytes", async () => {
    const t = await newTenant("art");
    const made = await upload(t.operator, "name=tmp.txt", "temporary");
    const del = await call("DELETE", `/v1/artifacts/${made.body.id}`, { token: t.operator });
    expect(del.status).toBe(200);
    expect((await call("GET", `/v1/artifacts/${made.body.id}`, { token: t.reader })).status).toBe(
      404,
    );
    expect(await blobs.head(`art/${t.id}/${made.body.id}`)).toBeNull();
    expect(
      (await call("DELETE", `/v1/artifacts/${made.body.id}`, { token: t.operator })).status,
    ).toBe(404);
  });

  it("an agent key stores artifacts as its own process only", async () => {
    const t = await newTenant("art");
    const type = await defineType(t, {
      capabilities: ["proc.sleep", "artifact.read", "artifact.write"],
    });
    const p = await spawnIdle(t.operator, { type });
    const other = await spawnIdle(t.operator);
    const key = await call<{ secret: string }>("POST", "/v1/keys", {
      token: t.admin,
      body: { name: "agent", role: "operator", processId: p.id },
    });
    const mine = await upload(key.body.secret, "name=mine.txt&retention=with_process", "mine");
    expect(mine.status).toBe(201);
    expect(mine.body).toMatchObject({
      processId: p.id,
      createdBy: p.id,
      retention: "with_process",
    });
    const theirs = await upload(key.body.secret, `name=x&processId=${other.id}`, "x");
    expect(theirs.status).toBe(403);
  });
});

describe("artifacts: retention when a process is purged", () => {
  it("deletes with_process artifacts and the process's storage, keeps `keep` ones, and the process answers 404", async () => {
    const t = await newTenant("art");
    const p = await spawnIdle(t.operator, { labels: { team: "purge" } });
    const keep = await upload(t.operator, `name=keep.txt&processId=${p.id}`, "stays");
    const dies = await upload(
      t.operator,
      `name=dies.txt&processId=${p.id}&retention=with_process`,
      "goes",
    );
    expect(keep.status).toBe(201);
    expect(dies.status).toBe(201);
    const wsKey = `ws/${t.id}/${p.id}/${"ab".repeat(32)}`;
    await blobs.put(wsKey, "large workspace value");

    const live = await call<Problem>("DELETE", `/v1/processes/${p.id}`, { token: t.operator });
    expect(live.status).toBe(409);
    expect(live.body.code).toBe("illegal_transition");
    expect((await call("GET", `/v1/artifacts/${dies.body.id}`, { token: t.reader })).status).toBe(
      200,
    );

    await call("POST", `/v1/processes/${p.id}/terminate`, { token: t.operator, body: {} });
    await until(t.operator, p.id, ended);
    expect((await call("DELETE", `/v1/processes/${p.id}`, { token: t.reader })).status).toBe(403);
    const other = await newTenant("art");
    expect((await call("DELETE", `/v1/processes/${p.id}`, { token: other.operator })).status).toBe(
      404,
    );

    const purged = await call<Record<string, unknown>>("DELETE", `/v1/processes/${p.id}`, {
      token: t.operator,
    });
    expect(purged.status).toBe(200);
    expect(purged.body).toMatchObject({
      purged: true,
      artifactsDeleted: 1,
      artifactsKept: 1,
      workspaceBlobsDeleted: 1,
    });
    expect((await call("GET", `/v1/artifacts/${dies.body.id}`, { token: t.reader })).status).toBe(
      404,
    );
    expect(await blobs.head(`art/${t.id}/${dies.body.id}`)).toBeNull();
    const kept = await raw("GET", `/v1/artifacts/${keep.body.id}/content`, t.reader);
    expect(kept.status).toBe(200);
    expect(await kept.text()).toBe("stays");
    expect(await blobs.head(wsKey)).toBeNull();

    expect((await call("GET", `/v1/processes/${p.id}`, { token: t.reader })).status).toBe(404);
    expect((await call("GET", `/v1/processes/${p.id}/events`, { token: t.reader })).status).toBe(
      404,
    );
    const listed = await call<{ items: Array<{ id: string }> }>(
      "GET",
      "/v1/processes?label=team=purge",
      {
        token: t.reader,
      },
    );
    expect(listed.body.items).toHaveLength(0);
    expect((await call("DELETE", `/v1/processes/${p.id}`, { token: t.operator })).status).toBe(404);
    const audit = await call<{ items: Array<{ target: string; status: number }> }>(
      "GET",
      "/v1/audit?action=process.purge",
      { token: t.admin },
    );
    expect(audit.body.items.map((r) => [r.target, r.status])).toContainEqual([p.id, 200]);
  });
  it("finishes a purge cut short after the object was wiped (the index row still names the process)", async () => {
    const t = await newTenant("art");
    const p = await spawnIdle(t.operator);
    const dies = await upload(t.operator, `name=d&processId=${p.id}&retention=with_process`, "d");
    await call("POST", `/v1/processes/${p.id}/terminate`, { token: t.operator, body: {} });
    await until(t.operator, p.id, ended);
    // The object's own wipe, as if the purge had failed right after it.
    const ns = (env as unknown as { AGENT_PROCESS: DurableObjectNamespace }).AGENT_PROCESS;
    const stub = ns.get(ns.idFromName(p.id)) as unknown as {
      purge(tenantId: string): Promise<{ ok: boolean }>;
    };
    expect(await stub.purge(t.id)).toEqual({ ok: true });
    expect((await call("GET", `/v1/processes/${p.id}`, { token: t.reader })).status).toBe(404);
    const listed = await call<{ items: Array<{ id: string }> }>("GET", "/v1/processes", {
      token: t.reader,
    });
    expect(listed.body.items.map((i) => i.id)).toContain(p.id);

    const again = await call<Record<string, unknown>>("DELETE", `/v1/processes/${p.id}`, {
      token: t.operator,
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ artifactsDeleted: 1 });
    expect((await call("GET", `/v1/artifacts/${dies.body.id}`, { token: t.reader })).status).toBe(
      404,
    );
    const after = await call<{ items: Array<{ id: string }> }>("GET", "/v1/processes", {
      token: t.reader,
    });
    expect(after.body.items.map((i) => i.id)).not.toContain(p.id);
  });
});

describe("artifacts over MCP", () => {
  it("puts, lists, gets metadata and reads content as text and base64", async () => {
    const t = await newTenant("art");
    const client = await connect(t.operator);
    const made = structured<Artifact>(
      await client.callTool({
        name: "artifact_put",
        arguments: {
          name: "notes.md",
          content: "# héllo",
          contentType: "text/markdown",
          labels: { k: "v" },
        },
      }),
    );
    expect(made).toMatchObject({ name: "notes.md", sizeBytes: 8, labels: { k: "v" } });
    const bin = structured<Artifact>(
      await client.callTool({
        name: "artifact_put",
        arguments: { name: "b.bin", content: "AAEC/w==", encoding: "base64" },
      }),
    );
    expect(bin).toMatchObject({ sizeBytes: 4, contentType: "application/octet-stream" });
    const list = structured<{ items: Artifact[] }>(
      await client.callTool({ name: "artifact_list", arguments: { labels: { k: "v" } } }),
    );
    expect(list.items.map((i) => i.id)).toEqual([made.id]);
    const meta = structured<Artifact>(
      await client.callTool({ name: "artifact_get", arguments: { id: made.id } }),
    );
    expect(meta.sha256).toBe(made.sha256);
    const text = structured<{ encoding: string; content: string }>(
      await client.callTool({ name: "artifact_get_content", arguments: { id: made.id } }),
    );
    expect(text).toMatchObject({ encoding: "text", content: "# héllo" });
    const b64 = structured<{ encoding: string; content: string; length: number }>(
      await client.callTool({
        name: "artifact_get_content",
        arguments: { id: bin.id, offset: 1, length: 2 },
      }),
    );
    expect(b64).toMatchObject({ encoding: "base64", content: "AQI=", length: 2 });
    const badB64 = await client.callTool({
      name: "artifact_put",
      arguments: { name: "x", content: "!!!", encoding: "base64" },
    });
    expect(badB64.isError).toBe(true);
    const missing = await client.callTool({
      name: "artifact_get",
      arguments: { id: `art_${"0".repeat(32)}` },
    });
    expect(missing.isError).toBe(true);
  });
});

describe("artifacts in the agent loop", () => {
  it("a scripted process writes the blackboard and leaves an artifact it can list", async () => {
    const t = await newTenant("art");
    const type = await defineType(t, {
      capabilities: ["proc.finish", "bb.read", "bb.write", "artifact.read", "artifact.write"],
    });
    const res = await spawn(t.operator, {
      type,
      script: [
        {
          toolCalls: [
            { name: "bb_put", arguments: { key: "report:status", value: "writing", ifVersion: 0 } },
          ],
        },
        {
          toolCalls: [
            {
              name: "artifact_put",
              arguments: {
                name: "report.md",
                content: "# Report\nAll good.",
                contentType: "text/markdown",
                labels: { kind: "report" },
              },
            },
          ],
        },
        { toolCalls: [{ name: "artifact_list", arguments: { labels: { kind: "report" } } }] },
        {
          toolCalls: [
            { name: "bb_put", arguments: { key: "report:status", value: "done", ifVersion: 1 } },
          ],
        },
        finishTurn("ok"),
      ],
    });
    expect(res.status).toBe(201);
    const done = await until(t.operator, res.body.id, ended);
    expect(done.status).toBe("exited");
    const status = await call<{ value: unknown; version: number; updatedBy: string }>(
      "GET",
      "/v1/blackboard/report:status",
      { token: t.reader },
    );
    expect(status.body).toMatchObject({ value: "done", version: 2, updatedBy: res.body.id });
    const list = await call<{ items: Artifact[] }>(
      "GET",
      `/v1/artifacts?processId=${res.body.id}`,
      { token: t.reader },
    );
    expect(list.body.items).toHaveLength(1);
    const art = list.body.items[0]!;
    expect(art).toMatchObject({
      name: "report.md",
      contentType: "text/markdown",
      retention: "keep",
    });
    const content = await raw("GET", art.contentUrl, t.reader);
    expect(await content.text()).toBe("# Report\nAll good.");
  });
});
