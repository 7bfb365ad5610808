import { describe, expect, it } from "vitest";
import { call, defineType, newTenant, spawnIdle } from "../helpers";
import { agentKey, blobsOf, bytes, filePath, raw, sameBytes, wsProcess } from "./ws";

describe("workspace files over HTTPS", () => {
  it("stores small bytes in the object and returns them with their content type and ETag", async () => {
    const t = await newTenant("ws");
    const id = await wsProcess(t);
    const put = await raw("PUT", filePath(id, "notes/a.txt"), t.operator, "hello", {
      "content-type": "text/plain; charset=utf-8",
    });
    expect(put.status).toBe(201);
    const meta = (await put.json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      path: "notes/a.txt",
      sizeBytes: 5,
      storedIn: "object",
      version: 1,
    });
    const get = await raw("GET", filePath(id, "notes/a.txt"), t.reader);
    expect(get.status).toBe(200);
    expect(get.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(get.headers.get("etag")).toBe(`"${meta.sha256}"`);
    expect(await get.text()).toBe("hello");

    const again = await raw("PUT", filePath(id, "notes/a.txt"), t.operator, "hello, world");
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ version: 2, sizeBytes: 12, created: false });
    expect(await blobsOf(t.id, id)).toEqual([]);

    const head = await raw("HEAD", filePath(id, "notes/a.txt"), t.reader);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("12");

    const del = await raw("DELETE", filePath(id, "notes/a.txt"), t.operator);
    expect(del.status).toBe(200);
    const audit = await call<{ items: Array<{ action: string; target: string }> }>(
      "GET",
      "/v1/audit?limit=100",
      { token: t.admin },
    );
    const actions = audit.body.items.filter((r) => r.target === id).map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining(["workspace.file.write", "workspace.file.delete"]),
    );
    expect((await raw("GET", filePath(id, "notes/a.txt"), t.reader)).status).toBe(404);
    const usage = await call("GET", `/v1/processes/${id}/workspace/usage`, { token: t.reader });
    expect(usage.body).toMatchObject({ process: { bytes: 0, objects: 0 } });
  });

  it("keeps a large file in R2, content-addressed, byte-exact, with range reads", async () => {
    const t = await newTenant("ws");
    const id = await wsProcess(t);
    const data = bytes(3 * 1024 * 1024 + 17);
    const put = await raw("PUT", filePath(id, "data/big.bin"), t.operator, data, {
      "content-type": "application/x-test",
    });
    expect(put.status).toBe(201);
    const meta = (await put.json()) as { sha256: string; storedIn: string };
    expect(meta.storedIn).toBe("r2");
    expect(await blobsOf(t.id, id)).toEqual([`ws/${t.id}/${id}/${meta.sha256}`]);

    const get = await raw("GET", filePath(id, "data/big.bin"), t.reader);
    expect(get.headers.get("content-type")).toBe("application/x-test");
    expect(sameBytes(new Uint8Array(await get.arrayBuffer()), data)).toBe(true);

    const part = await raw("GET", filePath(id, "data/big.bin"), t.reader, null, {
      range: "bytes=1048570-1048580",
    });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 1048570-1048580/${data.length}`);
    expect(sameBytes(new Uint8Array(await part.arrayBuffer()), data.slice(1048570, 1048581))).toBe(
      true,
    );

    const tail = await raw("GET", filePath(id, "data/big.bin"), t.reader, null, {
      range: "bytes=-5",
    });
    expect(sameBytes(new Uint8Array(await tail.arrayBuffer()), data.slice(-5))).toBe(true);

    const beyond = await raw("GET", filePath(id, "data/big.bin"), t.reader, null, {
      range: `bytes=${data.length}-`,
    });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${data.length}`);
    expect(await beyond.json()).toMatchObject({ code: "range_not_satisfiable" });

    // The same bytes at a second path are stored once; deleting one path keeps the blob.
    await raw("PUT", filePath(id, "data/copy.bin"), t.operator, data);
    expect(await blobsOf(t.id, id)).toHaveLength(1);
    await raw("DELETE", filePath(id, "data/big.bin"), t.operator);
    expect(await blobsOf(t.id, id)).toHaveLength(1);
    await raw("DELETE", filePath(id, "data/copy.bin"), t.operator);
    expect(await blobsOf(t.id, id)).toEqual([]);
  });

  it("ranges a small file too", async () => {
    const t = await newTenant("ws");
    const id = await wsProcess(t);
    await raw("PUT", filePath(id, "a"), t.operator, "0123456789");
    const part = await raw("GET", filePath(id, "a"), t.reader, null, { range: "bytes=2-4" });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe("234");
  });

  it("lists files by prefix, a page at a time", async () => {
    const t = await newTenant("ws");
    const id = await wsProcess(t);
    for (const p of ["r/1", "r/2", "r/ü/3", "other"]) {
      expect((await raw("PUT", filePath(id, encodeURI(p)), t.operator, p)).status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const q: string = `prefix=r/&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await call<{ items: Array<{ path: string }>; nextCursor: string | null }>(
        "GET",
        `/v1/processes/${id}/workspace/files?${q}`,
        { token: t.reader },
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((e) => e.path));
      cursor = page.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(["r/1", "r/2", "r/ü/3"]);
    const bad = await call("GET", `/v1/processes/${id}/workspace/files?cursor=%21%21`, {
      token: t.reader,
    });
    expect(bad.status).toBe(422);
  });

  it("refuses malformed paths with 422 naming path", async () => {
    const t = await newTenant("ws");
    const id = await wsProcess(t);
    for (const p of ["a//b", "a%2F..%2Fb", "a%00b", "%E0%A4%A", `${"x".repeat(1025)}`, "a/"]) {
      const res = await raw("PUT", filePath(id, p), t.operator, "x");
      expect(res.status, p).toBe(422);
      const body = (await res.json()) as { errors: Array<{ path: string }> };
      expect(body.errors[0]?.path, p).toBe("path");
    }
    const list = await call<{ items: unknown[] }>("GET", `/v1/processes/${id}/workspace/files`, {
      token: t.reader,
    });
    expect(list.body.items).toEqual([]);
  });

  it("answers 404 for unknown processes and another tenant's, and 413 for oversize bodies", async () => {
    const t = await newTenant("ws");
    const other = await newTenant("ws");
    const id = await wsProcess(t);
    await raw("PUT", filePath(id, "secret"), t.operator, "s");
    const foreign = await raw("GET", filePath(id, "secret"), other.reader);
    expect(foreign.status).toBe(404);
    const foreignPut = await raw("PUT", filePath(id, "x"), other.operator, "x");
    expect(foreignPut.status).toBe(404);
    const unknown = await raw(
      "GET",
      filePath("proc_00000000000070008000000000000099", "a"),
      t.reader,
    );
    expect(unknown.status).toBe(404);
    const malformedId = await raw("PUT", filePath("nope", "a"), t.operator, "x");
    expect(malformedId.status).toBe(404);

    const declared = await raw("PUT", filePath(id, "big"), t.operator, "x", {
      "content-length": String(32 * 1024 * 1024 + 1),
    });
    expect(declared.status).toBe(413);
    const sized = await raw("PUT", filePath(id, "big"), t.operator, bytes(32 * 1024 * 1024 + 1));
    expect(sized.status).toBe(413);
    // No Content-Length at all: the limit holds while the body streams in.
    const chunk = bytes(1024 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 32 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const streamed = await raw("PUT", filePath(id, "big"), t.operator, stream);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ code: "payload_too_large" });
    expect((await raw("GET", filePath(id, "big"), t.reader)).status).toBe(404);
    expect(await blobsOf(t.id, id)).toEqual([]);
  });

  it("lets a reader read but not write, and the process's agent key do both as its system calls", async () => {
    const t = await newTenant("ws");
    const id = await wsProcess(t);
    expect((await raw("PUT", filePath(id, "a"), t.reader, "x")).status).toBe(403);
    const key = await agentKey(t, id);
    expect((await raw("PUT", filePath(id, "a"), key, "mine")).status).toBe(201);
    expect(await (await raw("GET", filePath(id, "a"), key)).text()).toBe("mine");
    const events = await call<{ items: Array<{ event: string; reason: string }> }>(
      "GET",
      `/v1/processes/${id}/events?limit=100`,
      { token: t.reader },
    );
    const reasons = events.body.items.filter((e) => e.event === "syscall").map((e) => e.reason);
    expect(reasons.some((r) => r.startsWith("ws.write via agent key"))).toBe(true);
    expect(reasons.some((r) => r.startsWith("ws.read via agent key"))).toBe(true);

    // A process whose type lacks ws.write is refused, and nothing is written.
    const plain = await spawnIdle(t.operator, { type: await defineType(t, {}) });
    const plainKey = await agentKey(t, plain.id);
    const refused = await raw("PUT", filePath(plain.id, "a"), plainKey, "x");
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      code: "capability_denied",
      capability: "ws.write",
    });
    expect((await raw("GET", filePath(plain.id, "a"), t.reader)).status).toBe(404);
  });
});

describe("workspace keys", () => {
  it("stores JSON values and refuses other content types", async () => {
    const t = await newTenant("ws");
    const id = await wsProcess(t);
    const put = await call("PUT", `/v1/processes/${id}/workspace/kv/state`, {
      token: t.operator,
      body: { step: 3, done: ["a"] },
    });
    expect(put.status).toBe(201);
    const get = await call("GET", `/v1/processes/${id}/workspace/kv/state`, { token: t.reader });
    expect(get.body).toMatchObject({ key: "state", value: { step: 3, done: ["a"] }, version: 1 });
    const text = await raw("PUT", `/v1/processes/${id}/workspace/kv/state`, t.operator, "x", {
      "content-type": "text/plain",
    });
    expect(text.status).toBe(415);
    const broken = await raw("PUT", `/v1/processes/${id}/workspace/kv/state`, t.operator, "{", {
      "content-type": "application/json",
    });
    expect(broken.status).toBe(400);
    // Keys and files are separate namespaces.
    expect((await raw("GET", filePath(id, "state"), t.reader)).status).toBe(404);
    const keys = await call<{ items: Array<{ path: string }> }>(
      "GET",
      `/v1/processes/${id}/workspace/kv`,
      { token: t.reader },
    );
    expect(keys.body.items.map((k) => k.path)).toEqual(["state"]);
    expect(
      (await call("DELETE", `/v1/processes/${id}/workspace/kv/state`, { token: t.operator }))
        .status,
    ).toBe(200);
    expect(
      (await call("GET", `/v1/processes/${id}/workspace/kv/state`, { token: t.reader })).status,
    ).toBe(404);
  });
});
