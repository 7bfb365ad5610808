import { describe, expect, it } from "vitest";
import { call, newTenant } from "../helpers";
import { agentKey, filePath, raw, wsProcess, wsType } from "./ws";

describe("sharing workspace paths", () => {
  it("lets a recipient read a shared file through its own system call, then 404 after revoke", async () => {
    const t = await newTenant("share");
    const type = await wsType(t);
    const owner = await wsProcess(t, type);
    const reader = await wsProcess(t, type);
    const readerKey = await agentKey(t, reader);
    await raw("PUT", filePath(owner, "reports/w47.md"), t.operator, "# week 47", {
      "content-type": "text/markdown",
    });
    await raw("PUT", filePath(owner, "private.txt"), t.operator, "mine");

    // Before any share: exactly like a missing file.
    const before = await raw("GET", filePath(owner, "reports/w47.md"), readerKey);
    expect(before.status).toBe(404);

    const share = await call<{ shares: Array<{ recipient: string; mode: string }> }>(
      "POST",
      `/v1/processes/${owner}/workspace/shares`,
      { token: t.operator, body: { path: "reports/", recipients: [reader], mode: "read" } },
    );
    expect(share.status, JSON.stringify(share.body)).toBe(200);
    expect(share.body.shares).toMatchObject([{ recipient: reader, mode: "read" }]);

    const got = await raw("GET", filePath(owner, "reports/w47.md"), readerKey);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("text/markdown");
    expect(await got.text()).toBe("# week 47");
    expect((await raw("GET", filePath(owner, "private.txt"), readerKey)).status).toBe(404);
    const list = await call<{ items: Array<{ path: string }> }>(
      "GET",
      `/v1/processes/${owner}/workspace/files`,
      { token: readerKey },
    );
    expect(list.body.items.map((e) => e.path)).toEqual(["reports/w47.md"]);
    // Read mode does not write.
    expect((await raw("PUT", filePath(owner, "reports/w47.md"), readerKey, "x")).status).toBe(404);
    // The read was the recipient's system call, logged in its own event log.
    const events = await call<{ items: Array<{ event: string; reason: string }> }>(
      "GET",
      `/v1/processes/${reader}/events?limit=100`,
      { token: t.reader },
    );
    expect(
      events.body.items.some((e) => e.event === "syscall" && e.reason.startsWith("ws.read")),
    ).toBe(true);

    const revoke = await call("POST", `/v1/processes/${owner}/workspace/shares/revoke`, {
      token: t.operator,
      body: { path: "reports/", recipients: [reader] },
    });
    expect(revoke.body).toEqual({ revoked: 1 });
    expect((await raw("GET", filePath(owner, "reports/w47.md"), readerKey)).status).toBe(404);
  });

  it("lets a write share overwrite the owner's file, charged to the owner", async () => {
    const t = await newTenant("share");
    const type = await wsType(t);
    const owner = await wsProcess(t, type);
    const writer = await wsProcess(t, type);
    const ownerKey = await agentKey(t, owner);
    const writerKey = await agentKey(t, writer);
    const share = await call("POST", `/v1/processes/${owner}/workspace/shares`, {
      token: ownerKey,
      body: { path: "draft.md", recipients: [writer], mode: "write" },
    });
    expect(share.status, JSON.stringify(share.body)).toBe(200);
    expect((await raw("PUT", filePath(owner, "draft.md"), writerKey, "v1")).status).toBe(201);
    expect(await (await raw("GET", filePath(owner, "draft.md"), t.reader)).text()).toBe("v1");
    const usage = await call<{ process: { objects: number } }>(
      "GET",
      `/v1/processes/${owner}/workspace/usage`,
      { token: t.reader },
    );
    expect(usage.body.process.objects).toBe(1);
    // An exact-path share covers no other path.
    expect((await raw("PUT", filePath(owner, "draft.md.bak"), writerKey, "x")).status).toBe(404);
    // A recipient cannot share onwards, nor list the owner's shares.
    const onward = await call("POST", `/v1/processes/${owner}/workspace/shares`, {
      token: writerKey,
      body: { path: "draft.md", recipients: [writer], mode: "read" },
    });
    expect(onward.status).toBe(404);
    const shares = await call<{ items: unknown[] }>(
      "GET",
      `/v1/processes/${owner}/workspace/shares`,
      {
        token: t.reader,
      },
    );
    expect(shares.body.items).toHaveLength(1);
  });

  it("refuses recipients that are not processes of the tenant", async () => {
    const t = await newTenant("share");
    const other = await newTenant("share");
    const owner = await wsProcess(t);
    const foreign = await wsProcess(other);
    const res = await call("POST", `/v1/processes/${owner}/workspace/shares`, {
      token: t.operator,
      body: { path: "a", recipients: [foreign], mode: "read" },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ errors: [{ path: "recipients[0]" }] });
    const bad = await call("POST", `/v1/processes/${owner}/workspace/shares`, {
      token: t.operator,
      body: { path: "a/../b", recipients: [owner], mode: "read" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ errors: [{ path: "path" }] });
  });
});
