import { describe, expect, it } from "vitest";
import { call, newTenant } from "../helpers";
import { blobsOf, bytes, filePath, raw, setLimits, wsProcess, wsType } from "./ws";

type Usage = {
  process: { bytes: number; objects: number };
  tenant: { bytes: number; objects: number };
};

async function usageOf(token: string, id: string): Promise<Usage> {
  return (await call<Usage>("GET", `/v1/processes/${id}/workspace/usage`, { token })).body;
}

describe("workspace quotas", () => {
  it("admits a process's write that reaches its byte limit exactly and refuses one byte more, writing nothing", async () => {
    const t = await newTenant("quota");
    await setLimits(t.id, { processMaxBytes: 100 });
    const id = await wsProcess(t);
    expect((await raw("PUT", filePath(id, "a"), t.operator, bytes(60))).status).toBe(201);
    expect((await raw("PUT", filePath(id, "b"), t.operator, bytes(40))).status).toBe(201);
    const over = await raw("PUT", filePath(id, "c"), t.operator, bytes(1));
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({
      code: "quota_exceeded",
      limit: "process_bytes",
      limitValue: 100,
      used: 100,
      requested: 1,
    });
    expect((await raw("GET", filePath(id, "c"), t.reader)).status).toBe(404);
    // Overwriting with the same size still fits; growing an existing file does not.
    expect((await raw("PUT", filePath(id, "a"), t.operator, bytes(60, 2))).status).toBe(200);
    expect((await raw("PUT", filePath(id, "a"), t.operator, bytes(61))).status).toBe(413);
    const a = await raw("GET", filePath(id, "a"), t.reader);
    expect(new Uint8Array(await a.arrayBuffer())).toEqual(bytes(60, 2));
    expect(await usageOf(t.reader, id)).toMatchObject({
      process: { bytes: 100, objects: 2 },
      tenant: { bytes: 100, objects: 2 },
    });
  });

  it("bounds a process's object count at its limit exactly", async () => {
    const t = await newTenant("quota");
    await setLimits(t.id, { processMaxObjects: 2 });
    const id = await wsProcess(t);
    expect((await raw("PUT", filePath(id, "a"), t.operator, "1")).status).toBe(201);
    expect(
      (await call("PUT", `/v1/processes/${id}/workspace/kv/k`, { token: t.operator, body: 1 }))
        .status,
    ).toBe(201);
    const over = await raw("PUT", filePath(id, "c"), t.operator, "1");
    expect(await over.json()).toMatchObject({ code: "quota_exceeded", limit: "process_objects" });
    expect((await raw("DELETE", filePath(id, "a"), t.operator)).status).toBe(200);
    expect((await raw("PUT", filePath(id, "c"), t.operator, "1")).status).toBe(201);
  });

  it("bounds all of a tenant's processes together, and a refused large write leaves no blob", async () => {
    const t = await newTenant("quota");
    const limit = 200 * 1024;
    await setLimits(t.id, { tenantMaxBytes: limit });
    const type = await wsType(t);
    const p1 = await wsProcess(t, type);
    const p2 = await wsProcess(t, type);
    expect(
      (await raw("PUT", filePath(p1, "a"), t.operator, bytes(limit - 100 * 1024))).status,
    ).toBe(201);
    // p2 may take exactly what is left...
    expect((await raw("PUT", filePath(p2, "b"), t.operator, bytes(100 * 1024 - 1))).status).toBe(
      201,
    );
    expect((await raw("PUT", filePath(p2, "c"), t.operator, bytes(1))).status).toBe(201);
    // ...and not one byte more, in either process; the large refused write leaves no R2 object.
    const over = await raw("PUT", filePath(p2, "d"), t.operator, bytes(70 * 1024, 9));
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({
      code: "quota_exceeded",
      limit: "tenant_bytes",
      limitValue: limit,
      used: limit,
    });
    expect(await blobsOf(t.id, p2)).toHaveLength(1); // b only (c is small, kept in the object)
    expect((await raw("PUT", filePath(p1, "e"), t.operator, bytes(1))).status).toBe(413);
    expect((await raw("GET", filePath(p2, "d"), t.reader)).status).toBe(404);
    expect((await usageOf(t.reader, p1)).tenant.bytes).toBe(limit);
  });

  it("lets concurrent writers of one tenant never overshoot its quota together", async () => {
    const t = await newTenant("quota");
    await setLimits(t.id, { tenantMaxObjects: 5 });
    const type = await wsType(t);
    const ids = [await wsProcess(t, type), await wsProcess(t, type), await wsProcess(t, type)];
    const writes = ids.flatMap((id) =>
      [0, 1, 2, 3].map((i) => raw("PUT", filePath(id, `f${i}`), t.operator, "x")),
    );
    const statuses = (await Promise.all(writes)).map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 413)).toHaveLength(7);
    let stored = 0;
    for (const id of ids) stored += (await usageOf(t.reader, id)).process.objects;
    expect(stored).toBe(5);
    expect((await usageOf(t.reader, ids[0]!)).tenant.objects).toBe(5);
  });
});
